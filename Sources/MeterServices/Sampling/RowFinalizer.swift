// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock
public import MeterReadings

/// Turns closed intervals into final rows: stamped, flagged and ready to broadcast and store.
///
/// Rows measured while the wall clock was not synchronised are held and, once it is, re-stamped from the
/// monotonic clock (flag ``RowFlags/restamped``). If the service stops before that, they are flagged
/// ``RowFlags/unsynchronised`` (the store puts such rows in `meter_data_conflicts`, never in `meter_data`).
/// An interval of a single snapshot (no energy window) is no row at all.
///
/// A value type without I/O; the sampler owns one and feeds it from its own task.
public struct RowFinalizer: Sendable {
    /// Seconds per row (`gathering_interval_sec`).
    public let intervalSeconds: Double
    /// Rows held at most while the clock is unsynchronised (a week of minutes); past it the oldest go, logged.
    public let maximumHeld: Int
    private let logger: Logger
    private var held: [ClosedInterval] = []
    private var droppedWhileHeld = 0

    public init(intervalSeconds: Double, maximumHeld: Int = 10_080, logger: Logger) {
        self.intervalSeconds = intervalSeconds; self.maximumHeld = maximumHeld; self.logger = logger
    }

    /// Rows waiting for the clock to be synchronised.
    public var heldCount: Int { held.count }

    /// The final rows that `interval` makes, in order: none while the clock is unsynchronised, the held ones
    /// re-stamped and then this one once it is.
    public mutating func finalize(_ interval: ClosedInterval, clock: any MeterClock) -> [MinuteRow] {
        if interval.row.durationSeconds < 0.5 { return [] }  // a single snapshot: no energy window
        if !interval.wallSynchronized {
            if held.isEmpty { logger.warning("system clock not synchronised: holding rows until it is") }
            held.append(interval)
            if held.count > maximumHeld {
                held.removeFirst()
                droppedWhileHeld += 1
                if droppedWhileHeld == 1 {
                    logger.error("system clock unsynchronised for longer than the rows held allow: dropping the oldest held rows")
                }
            }
            return []
        }
        var rows: [MinuteRow] = []
        if !held.isEmpty {
            rows = restamp(held, clock: clock)
            logger.notice("system clock synchronised: re-stamped held rows", metadata: ["rows": "\(held.count)"])
            held.removeAll()
        }
        return rows + [interval.row]
    }

    /// At stop: the held rows, re-stamped if the clock is synchronised by now, else flagged
    /// ``RowFlags/unsynchronised`` (kept aside under their unsynchronised time rather than lost).
    public mutating func finish(clock: any MeterClock) -> [MinuteRow] {
        defer { held.removeAll() }
        guard !held.isEmpty else { return [] }
        if clock.isSynchronized() { return restamp(held, clock: clock) }
        return held.map { var row = $0.row; row.flags.insert(.unsynchronised); return row }
    }

    /// Labels held rows by the synchronised clock: a row's true start is wall now − (monotonic now −
    /// monotonic start); it is labelled by the interval that holds its midpoint. Two partial rows that
    /// fall into one interval (around the sync step) cannot share a label: the store puts the second in
    /// `meter_data_conflicts`, kept, never overwriting.
    private func restamp(_ held: [ClosedInterval], clock: any MeterClock) -> [MinuteRow] {
        held.map { interval in
            var row = interval.row
            let middle = clock.wall(atMonotonic: interval.monotonicStart) + row.durationSeconds / 2
            row.time = Int64((middle / intervalSeconds).rounded(.down) * intervalSeconds)
            row.flags.insert(.restamped)
            return row
        }
    }
}
