// SPDX-License-Identifier: Apache-2.0
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The time the GPIO loops run on: a monotonic clock in seconds and a way to wait on it.
///
/// The LED driver, the button monitor and the self-test take one, so tests run them on a
/// ``VirtualGPIOClock`` and `--simulate` finishes at once. The service passes an adapter over its
/// `ServiceClock` (`monotonic()`, `sleep(untilMonotonic:)`), so the LED follows the same clock as sampling.
public protocol GPIOClock: Sendable {
    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC or a virtual one).
    func now() -> Double
    /// Waits until ``now()`` reaches `deadline`; returns at once if it already has.
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(until deadline: Double) async throws
}

/// CLOCK_MONOTONIC, and `Task.sleep` to wait on it.
public struct SystemGPIOClock: GPIOClock {
    /// Creates the machine's clock.
    public init() {}

    /// `clock_gettime(CLOCK_MONOTONIC)` in seconds.
    public func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// Sleeps until `deadline`; cancellable.
    public func sleep(until deadline: Double) async throws {
        let delay = deadline - now()
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
        try Task.checkCancellation()
    }
}

/// A clock that jumps: ``sleep(until:)`` moves time forward to the deadline at once.
///
/// For tests and `--simulate`: a loop that waits 10 s of pattern runs in microseconds, and every GPIO
/// transition is stamped with an exact, repeatable time. Meant for one waiting loop at a time: two loops
/// sleeping on it concurrently each move it forward, so their relative timing is not meaningful.
public final class VirtualGPIOClock: GPIOClock {
    private let time: Mutex<Double>

    /// Creates a clock reading `start` seconds.
    public init(start: Double = 0) { time = Mutex(start) }

    /// The current virtual time.
    public func now() -> Double { time.withLock { $0 } }

    /// Moves time forward by `seconds` (negative values are ignored).
    public func advance(by seconds: Double) { time.withLock { $0 += max(0, seconds) } }

    /// Sets the time to `deadline` if that is later, then yields so other tasks run.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sleep(until deadline: Double) async throws {
        try Task.checkCancellation()
        time.withLock { $0 = max($0, deadline) }
        await Task.yield()
    }
}
