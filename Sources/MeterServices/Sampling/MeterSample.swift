// SPDX-License-Identifier: Apache-2.0

public import MeterReadings

/// One snapshot with the two times it was taken at (the driver's stamp) and whether the wall clock could be trusted.
public struct MeterSample: Sendable {
    /// Service monotonic seconds (never jumps).
    public var monotonic: Double
    /// Unix seconds from the wall clock, as it was (maybe unsynchronised).
    public var wall: Double
    /// The reading; its energy is counted since the meter started.
    public var reading: Reading
    /// Whether the wall clock was synchronised when the sample was taken.
    public var wallSynchronized: Bool

    public init(monotonic: Double, wall: Double, reading: Reading, wallSynchronized: Bool = true) {
        self.monotonic = monotonic; self.wall = wall; self.reading = reading; self.wallSynchronized = wallSynchronized
    }

    /// A sample at the reading's own stamp (``Reading/monotonic``, ``Reading/time``).
    public init(_ reading: Reading, wallSynchronized: Bool) {
        self.init(monotonic: reading.monotonic, wall: reading.time, reading: reading, wallSynchronized: wallSynchronized)
    }
}

/// A finished interval and where it started on the monotonic clock (to re-stamp it later).
public struct ClosedInterval: Sendable {
    public var row: MinuteRow
    public var monotonicStart: Double
    /// Whether the wall clock was synchronised for the whole interval; if not, `row.time` is not to be
    /// trusted and the row waits to be re-stamped.
    public var wallSynchronized: Bool = true
}
