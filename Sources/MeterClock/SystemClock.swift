// SPDX-License-Identifier: Apache-2.0

/// The machine's clocks. Synchronisation is the kernel's view (`adjtimex`: not TIME_ERROR, STA_UNSYNC
/// clear), which systemd-timesyncd, chrony and ntpd all maintain.
public struct SystemClock: MeterClock {
    public init() {}
    /// `clock_gettime(CLOCK_MONOTONIC)`.
    public func monotonic() -> Double { SystemClocks.read(.monotonic) }
    /// `clock_gettime(CLOCK_REALTIME)`.
    public func wall() -> Double { SystemClocks.read(.realtime) }
    /// `adjtimex(2)`.
    public func isSynchronized() -> Bool { SystemClocks.kernelSynchronized() }
    public func sleep(untilMonotonic deadline: Double) async throws {
        let delay = deadline - monotonic()
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
        try Task.checkCancellation()
    }
}

/// Simulated time running `speed` times faster than real time, for `run --simulate --sim-speed N`:
/// a day of data in minutes. The wall clock starts at the current minute boundary (so the first
/// interval is whole) and advances `speed` times too; it is always synchronised.
public struct ScaledClock: MeterClock {
    public let speed: Double
    private let realStart: Double
    private let wallStart: Double

    /// - Parameters:
    ///   - speed: simulated seconds per real second, > 0.
    ///   - wallStart: the wall time at start; default: the current minute boundary.
    public init(speed: Double, wallStart: Double? = nil) {
        precondition(speed > 0)
        self.speed = speed
        self.realStart = SystemClocks.read(.monotonic)
        let now = SystemClocks.read(.realtime)
        self.wallStart = wallStart ?? (now / 60).rounded(.down) * 60
    }

    public func monotonic() -> Double { (SystemClocks.read(.monotonic) - realStart) * speed }
    public func wall() -> Double { wallStart + monotonic() }
    public func isSynchronized() -> Bool { true }
    public func sleep(untilMonotonic deadline: Double) async throws {
        let delay = (deadline - monotonic()) / speed
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
        try Task.checkCancellation()
    }
}
