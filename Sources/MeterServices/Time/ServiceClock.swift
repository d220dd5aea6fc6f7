// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// The service's two times and its waiting: a monotonic clock that schedules sampling and measures
/// durations, and the wall clock that labels rows. They are separate on purpose: a Raspberry Pi has no
/// real-time clock, so the wall clock can be wrong at boot and jump when NTP sets it; the monotonic
/// clock never jumps.
public protocol ServiceClock: Sendable {
    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC).
    func monotonic() -> Double
    /// Unix seconds, UTC (CLOCK_REALTIME).
    func wall() -> Double
    /// The wall clock has been synchronised (NTP), so it may label rows.
    func isSynchronized() -> Bool
    /// Waits until ``monotonic()`` reaches `deadline`.
    func sleep(untilMonotonic deadline: Double) async throws
}

/// The machine's clocks. Synchronisation is the kernel's view (`adjtimex`: not TIME_ERROR, STA_UNSYNC
/// clear), which systemd-timesyncd, chrony and ntpd all maintain.
public struct SystemServiceClock: ServiceClock {
    public init() {}
    public func monotonic() -> Double { SystemClocks.read(CLOCK_MONOTONIC) }
    public func wall() -> Double { SystemClocks.read(CLOCK_REALTIME) }
    public func isSynchronized() -> Bool { SystemClocks.kernelSynchronized() }
    public func sleep(untilMonotonic deadline: Double) async throws {
        let delay = deadline - monotonic()
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
    }
}

/// Simulated time running `speed` times faster than real time, for `run --simulate --sim-speed N`:
/// a day of data in minutes. The wall clock starts at the current minute boundary (so the first
/// interval is whole) and advances `speed` times too; it is always synchronised.
public struct ScaledServiceClock: ServiceClock {
    public let speed: Double
    private let realStart: Double
    private let wallStart: Double

    public init(speed: Double, wallStart: Double? = nil) {
        precondition(speed > 0)
        self.speed = speed
        self.realStart = SystemClocks.read(CLOCK_MONOTONIC)
        let now = SystemClocks.read(CLOCK_REALTIME)
        self.wallStart = wallStart ?? (now / 60).rounded(.down) * 60
    }

    public func monotonic() -> Double { (SystemClocks.read(CLOCK_MONOTONIC) - realStart) * speed }
    public func wall() -> Double { wallStart + monotonic() }
    public func isSynchronized() -> Bool { true }
    public func sleep(untilMonotonic deadline: Double) async throws {
        let delay = (deadline - monotonic()) / speed
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
    }
}
