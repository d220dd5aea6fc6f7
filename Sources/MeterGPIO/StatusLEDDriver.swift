// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterClock
import Synchronization

/// Plays the ``StatusLEDState`` patterns on the status LED line.
///
/// ``show(_:)`` may be called from anywhere; ``run(until:)`` is the loop that drives the line. It sleeps on
/// the injected clock until the pattern's next edge, and at most ``pollSeconds`` so a new state shows at once.
/// A new state starts its pattern from the beginning. The line must already be requested as an output
/// (``BoardIO/start()`` does that).
public final class StatusLEDDriver: Sendable {
    /// The longest the loop sleeps before looking at the state again.
    public static let pollSeconds = 0.05
    /// How long ``acknowledge()`` shows ``acknowledgePattern`` before the status returns.
    public static let acknowledgeSeconds = 1.0

    private struct Shown {
        var state: StatusLEDState
        var since: Double
        var acknowledgeUntil: Double?
    }

    private let backend: any GPIOBackend
    private let offset: Int
    private let clock: any MeterClock
    private let logger: Logger
    private let shown: Mutex<Shown>

    /// - Parameters:
    ///   - backend: The chip; `offset` must be requested as an output.
    ///   - offset: The LED's line (`led_pin`).
    ///   - clock: Times the pattern.
    ///   - initial: The state shown until ``show(_:)`` is called.
    public init(backend: any GPIOBackend, offset: Int, clock: any MeterClock, initial: StatusLEDState = .starting,
                logger: Logger) {
        self.backend = backend; self.offset = offset; self.clock = clock; self.logger = logger
        shown = Mutex(Shown(state: initial, since: clock.monotonic()))
    }

    /// The state being shown.
    public var state: StatusLEDState { shown.withLock { $0.state } }

    /// Shows `state` from now on; showing the current state again does not restart its pattern.
    public func show(_ state: StatusLEDState) {
        let now = clock.monotonic()
        shown.withLock { shown in
            guard shown.state != state else { return }
            shown.state = state
            shown.since = now
        }
    }

    /// Flashes ``acknowledgePattern`` for ``acknowledgeSeconds`` (the reset button's short press), then the
    /// status again.
    public func acknowledge() {
        let now = clock.monotonic()
        shown.withLock { $0.acknowledgeUntil = now + Self.acknowledgeSeconds }
    }

    /// Drives the LED until `deadline` on the clock (forever if `nil`) or until the task is cancelled.
    ///
    /// At the deadline the LED keeps its level, so consecutive runs continue the pattern seamlessly; when
    /// cancelled (the service stopping) it turns the LED off.
    ///
    /// A failing line is logged (once per distinct error) and retried at the next step: the LED must
    /// never stop the service.
    /// - Throws: `CancellationError` when cancelled.
    public func run(until deadline: Double? = nil) async throws {
        do {
            try await loop(until: deadline)
        } catch {
            try? backend.set(offset: offset, level: false)
            throw error
        }
    }

    private func loop(until deadline: Double?) async throws {
        var driven: Bool?
        var lastError: GPIOError?
        while true {
            let now = clock.monotonic()
            if let deadline, now >= deadline { return }
            let current = shown.withLock { $0 }
            let pattern: LEDPattern
            let origin: Double
            // Times are whole milliseconds after the pattern's origin, so sleeps land exactly on its edges.
            var limitMilliseconds = Int64.max
            if let until = current.acknowledgeUntil, now < until {
                pattern = acknowledgePattern
                origin = until - Self.acknowledgeSeconds
                limitMilliseconds = Int64(Self.acknowledgeSeconds * 1000)
            } else {
                pattern = current.state.pattern
                origin = max(current.since, current.acknowledgeUntil ?? current.since)
            }
            let elapsed = Int64(((now - origin) * 1000).rounded())
            let level = pattern.level(atMilliseconds: elapsed)
            if level != driven {
                do {
                    try backend.set(offset: offset, level: level)
                    driven = level
                    lastError = nil
                } catch {
                    if error != lastError {
                        logger.warning("status LED cannot be driven", metadata: ["gpio.offset": "\(offset)", "error": "\(error)"])
                    }
                    lastError = error
                }
            }
            let nextMilliseconds = min(pattern.nextChange(afterMilliseconds: elapsed),
                                       elapsed + Int64(Self.pollSeconds * 1000), limitMilliseconds)
            var next = origin + Double(nextMilliseconds) / 1000
            if let deadline { next = min(next, deadline) }
            // A sleep that would not move time on (rounding) skips to the next millisecond.
            if next <= now { next = origin + Double(elapsed + 1) / 1000 }
            try await clock.sleep(untilMonotonic: next)
        }
    }
}
