// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterClock

/// Polls the reset button line and reports ``ResetButtonEvent``s.
///
/// Reads the line every ``pollSeconds`` on the injected clock (one ioctl per read) and feeds a
/// ``ResetButton``. The line must already be requested as a pull-up input (``BoardIO/start()``).
public struct ResetButtonMonitor: Sendable {
    /// What the handler wants after an event.
    public enum Next: Sendable {
        /// Keep polling.
        case `continue`
        /// Return from ``ResetButtonMonitor/run(until:_:)``.
        case stop
    }

    /// Time between reads: a third of the 30 ms debounce time.
    public static let pollSeconds = 0.01

    private let backend: any GPIOBackend
    private let offset: Int
    private let clock: any MeterClock
    private let debounce: Double
    private let logger: Logger

    /// - Parameters:
    ///   - backend: The chip; `offset` must be requested as an input.
    ///   - offset: The button's line (`reset_button_pin`).
    ///   - clock: Times the polling and the press durations.
    ///   - debounce: Seconds a level must hold (default 30 ms).
    public init(backend: any GPIOBackend, offset: Int, clock: any MeterClock,
                debounce: Double = ResetButton.debounceSeconds, logger: Logger) {
        self.backend = backend; self.offset = offset; self.clock = clock; self.debounce = debounce; self.logger = logger
    }

    /// Polls until `deadline` (forever if `nil`), the handler returns `.stop`, or the task is cancelled.
    ///
    /// A failed read is logged (once per distinct error) and counts as "released".
    /// - Throws: `CancellationError` when cancelled.
    public func run(until deadline: Double? = nil,
                    _ handler: (ResetButtonEvent) async throws -> Next) async throws {
        var button = ResetButton(debounce: debounce)
        var lastError: GPIOError?
        // Polls at start + k × pollSeconds: no drift, and exact times on a virtual clock.
        let start = clock.monotonic()
        var tick = 0
        while true {
            let now = clock.monotonic()
            if let deadline, now >= deadline { return }
            let level: Bool
            do {
                level = try backend.get(offset: offset)
                lastError = nil
            } catch {
                if error != lastError {
                    logger.warning("reset button cannot be read", metadata: ["gpio.offset": "\(offset)", "error": "\(error)"])
                }
                lastError = error
                level = true
            }
            for event in button.sample(level: level, at: now) {
                logger.info("reset button", metadata: ["event": "\(event)", "action": "\(event.action.rawValue)"])
                if try await handler(event) == .stop { return }
            }
            repeat { tick += 1 } while start + Double(tick) * Self.pollSeconds <= now
            var next = start + Double(tick) * Self.pollSeconds
            if let deadline { next = min(next, deadline) }
            try await clock.sleep(untilMonotonic: next)
        }
    }

    /// Waits for the first press (short or long) within `timeout` seconds.
    /// - Returns: The event, or `nil` on timeout.
    public func waitForPress(timeout: Double) async throws -> ResetButtonEvent? {
        var seen: ResetButtonEvent?
        try await run(until: clock.monotonic() + timeout) { event in
            seen = event
            return .stop
        }
        return seen
    }
}
