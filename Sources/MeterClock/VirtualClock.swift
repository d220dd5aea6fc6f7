// SPDX-License-Identifier: Apache-2.0


import Synchronization

/// Simulated time for tests and for `--simulate` commands that should finish at once (`gpio-selftest`,
/// `output`): it lives here, beside the protocol, rather than in `MeterTesting`, because the shipped binary
/// runs on it too. It moves only when
/// someone sleeps on it (straight to the deadline) or advances it, so a test of hours runs in
/// milliseconds and the same every time.
///
/// The wall clock follows the monotonic one at a fixed offset, except at scripted ``Event``s: a wall-clock
/// jump (NTP stepping the clock) or a change of synchronisation. Meant for one waiting loop at a time, or
/// several whose relative timing does not matter: each sleeper moves time forward for everyone.
public final class VirtualClock: MeterClock {
    /// Something that happens to the wall clock when the monotonic clock reaches `at`.
    public struct Event: Sendable {
        public var at: Double
        /// Seconds added to the wall clock.
        public var wallJump: Double
        /// The new synchronisation state, nil to keep it.
        public var synchronize: Bool?
        public init(at: Double, wallJump: Double = 0, synchronize: Bool? = nil) {
            self.at = at; self.wallJump = wallJump; self.synchronize = synchronize
        }
    }

    private struct State { var monotonic: Double; var wallOffset: Double; var synchronized: Bool; var events: [Event] }
    private let state: Mutex<State>

    /// - Parameters:
    ///   - monotonic: the monotonic clock's reading at start.
    ///   - wall: the wall clock's reading at start (default: the same as `monotonic`).
    ///   - synchronized: whether the wall clock starts synchronised.
    ///   - events: scripted wall-clock jumps and synchronisation changes.
    public init(monotonic: Double = 1_000, wall: Double? = nil, synchronized: Bool = true, events: [Event] = []) {
        state = Mutex(State(monotonic: monotonic, wallOffset: (wall ?? monotonic) - monotonic, synchronized: synchronized,
                            events: events.sorted { $0.at < $1.at }))
    }

    public func monotonic() -> Double { state.withLock { $0.monotonic } }
    public func wall() -> Double { state.withLock { $0.monotonic + $0.wallOffset } }
    public func isSynchronized() -> Bool { state.withLock { $0.synchronized } }

    /// Moves time to `deadline` if that is later (applying the events on the way), then yields so other
    /// tasks run. - Throws: `CancellationError` when the task is cancelled.
    public func sleep(untilMonotonic deadline: Double) async throws {
        try Task.checkCancellation()
        move(to: deadline)
        await Task.yield()
        try Task.checkCancellation()
    }

    /// Waits, without moving time, until another sleeper or ``advance(seconds:)`` has moved it to `deadline`: a
    /// background poll on this clock sees time as the main loops move it (checking every 200 µs of real time).
    /// - Throws: `CancellationError` when the task is cancelled.
    public func follow(untilMonotonic deadline: Double) async throws {
        while monotonic() < deadline {
            try await Task.sleep(for: .microseconds(200))
        }
        try Task.checkCancellation()
    }

    /// Moves time forward by `seconds` (negative values are ignored).
    public func advance(seconds: Double) { move(to: monotonic() + max(0, seconds)) }

    /// Moves time forward by `duration`.
    public func advance(by duration: Duration) { advance(seconds: duration.seconds) }

    private func move(to deadline: Double) {
        state.withLock { s in
            s.monotonic = max(s.monotonic, deadline)
            while let next = s.events.first, next.at <= s.monotonic {
                s.wallOffset += next.wallJump
                if let sync = next.synchronize { s.synchronized = sync }
                s.events.removeFirst()
            }
        }
    }
}
