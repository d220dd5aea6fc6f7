// SPDX-License-Identifier: Apache-2.0

/// One look at the chip's power-quality engine (``ADE9000Driver/pollPowerQuality(watchingCurrents:)``): the STATUS1
/// latches it found (and cleared), the live dip and swell state, and, when anything is going on, the extremes.
/// Chip codes; the meter's scale turns them into volts and amps.
public struct RawPQStatus: Sendable, Hashable {
    /// The monotonic time of the transfer that read STATUS1 and EVENT_STATUS.
    public var takenAt: Double
    /// The same instant on the wall clock (Unix seconds).
    public var wallTime: Double
    /// STATUS1 as read. Its power-quality bits (``Status1/powerQuality``) were cleared by this poll; RSTDONE and the
    /// error bits were left for the sampler.
    public var status1: Status1
    /// EVENT_STATUS: which phases are in a dip or a swell now.
    public var live: EventStatus
    /// Read only when a latch or a live bit was set, or currents were being watched; nil otherwise.
    public var details: Details?

    public struct Details: Sendable, Hashable {
        /// DIPA…C, SWELLA…C, OIA…C: level codes (half-cycle RMS / 2^5, ``PowerQualityLevels/rms(code:)``).
        public var dip: [UInt32], swell: [UInt32], overcurrent: [UInt32]
        /// OISTATUS as read before the OI latch was cleared.
        public var overcurrentStatus: OvercurrentStatus
        /// xIRMSONE: the half-cycle RMS current codes now (an overcurrent ends when they fall back).
        public var halfCycleCurrent: [UInt32]

        public init(dip: [UInt32], swell: [UInt32], overcurrent: [UInt32], overcurrentStatus: OvercurrentStatus, halfCycleCurrent: [UInt32]) {
            self.dip = dip; self.swell = swell; self.overcurrent = overcurrent
            self.overcurrentStatus = overcurrentStatus; self.halfCycleCurrent = halfCycleCurrent
        }
    }

    /// False while the driver sets the chip up (or before it did): nothing was read.
    public var chipReady: Bool

    public init(takenAt: Double, wallTime: Double, status1: Status1, live: EventStatus, details: Details?, chipReady: Bool = true) {
        self.takenAt = takenAt; self.wallTime = wallTime; self.status1 = status1; self.live = live; self.details = details
        self.chipReady = chipReady
    }

    /// The chip reset (RSTDONE) since it was set up, or is being set up: nothing it says about events counts until the
    /// sampler has set it up again.
    public var chipReset: Bool { !chipReady || status1.contains(.RSTDONE) }
}
