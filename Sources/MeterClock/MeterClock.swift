// SPDX-License-Identifier: Apache-2.0

/// The time everything in the meter runs on: a monotonic clock that schedules sampling and measures
/// durations, the wall clock that labels readings and rows, whether that wall clock can be trusted, and
/// a way to wait.
///
/// The two clocks are separate on purpose: a Raspberry Pi has no real-time clock, so the wall clock can be
/// wrong at boot and jump when NTP sets it; the monotonic clock never jumps.
///
/// One value of this type is passed to the driver (its polls and the stamp of each snapshot), the services
/// and the GPIO loops. Implementations: ``SystemClock`` (the machine), ``ScaledClock`` (`run --simulate
/// --sim-speed N`), and `VirtualClock` in `MeterTesting` (moves only when slept on).
public protocol MeterClock: Sendable {
    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC, or a simulated one).
    func monotonic() -> Double
    /// Unix seconds, UTC (CLOCK_REALTIME, or a simulated one).
    func wall() -> Double
    /// The wall clock has been synchronised (NTP), so it may label rows.
    func isSynchronized() -> Bool
    /// Waits until ``monotonic()`` reaches `deadline`; returns at once if it already has.
    /// - Throws: `CancellationError` when the task is cancelled, even when no wait was needed, so a loop
    ///   that only sleeps ends when its task is cancelled.
    func sleep(untilMonotonic deadline: Double) async throws
    /// Waits like ``sleep(untilMonotonic:)``, for a loop that follows time rather than drives it: a fast background
    /// poll. Real clocks sleep; a clock that moves when slept on (`VirtualClock`) waits for someone else to move it,
    /// so the poll's small steps never push the other loops' time forward.
    func follow(untilMonotonic deadline: Double) async throws
}

extension MeterClock {
    public func follow(untilMonotonic deadline: Double) async throws {
        try await sleep(untilMonotonic: deadline)
    }

    /// Waits `duration` on the monotonic clock.
    public func sleep(for duration: Duration) async throws {
        try await sleep(untilMonotonic: monotonic() + duration.seconds)
    }

    /// The wall time of a moment on the monotonic clock, by the wall clock's current offset.
    public func wall(atMonotonic moment: Double) -> Double {
        wall() + (moment - monotonic())
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
