// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterCore
public import MeterStore
public import ServiceLifecycle

/// Writes closed intervals to the store, and keeps them in a bounded in-memory backlog while the
/// database cannot be written (read-only, full, locked, gone): sampling never stops for storage.
///
/// Rows measured while the wall clock was not synchronised wait in memory and are re-stamped from the
/// monotonic clock once it is (flag `restamped`). Each kind of trouble is logged once when it starts and
/// once when it ends, not once a minute.
///
/// It drains its input to the end: on shutdown it writes the sampler's last (partial) row, then closes
/// the database. List it before the sampler in the service group so it stops after it.
public final class StorageService: Service {
    private let intervals: AsyncStream<ClosedInterval>
    private let openStore: @Sendable () throws -> SQLiteReadingStore
    private let clock: any ServiceClock
    private let intervalSeconds: Double
    private let retentionSeconds: Double
    private let maximumBacklog: Int
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let health: ServiceHealth

    /// - Parameters:
    ///   - intervals: the sampler's output.
    ///   - openStore: opens (or re-opens) the database.
    ///   - retentionSeconds: rows older than this are deleted (`persistence_interval_sec`).
    ///   - maximumBacklog: rows kept in memory while the database is unwritable; past it the oldest go
    ///     (default: a week of minutes, about 4 MB).
    public init(intervals: AsyncStream<ClosedInterval>, openStore: @escaping @Sendable () throws -> SQLiteReadingStore,
                clock: any ServiceClock, intervalSeconds: Double, retentionSeconds: Double, maximumBacklog: Int = 10_080,
                notifier: SystemdNotifier = SystemdNotifier(environment: [:]), logger: Logger, health: ServiceHealth = ServiceHealth()) {
        self.health = health
        self.intervals = intervals; self.openStore = openStore; self.clock = clock
        self.intervalSeconds = intervalSeconds; self.retentionSeconds = retentionSeconds
        self.maximumBacklog = maximumBacklog; self.notifier = notifier; self.logger = logger
    }

    public func run() async throws {
        var writer = BacklogWriter(openStore: openStore, maximumBacklog: maximumBacklog, logger: logger)
        var unsynchronised: [ClosedInterval] = []
        var stored = 0

        writer.open()
        for await interval in intervals {
            if interval.row.durationSeconds < 0.5 { continue } // a single snapshot: no energy window, nothing to store
            if !interval.wallSynchronized {
                if unsynchronised.isEmpty { logger.warning("system clock not synchronised: holding rows until it is") }
                unsynchronised.append(interval)
                if unsynchronised.count > maximumBacklog { unsynchronised.removeFirst() }
                continue
            }
            if !unsynchronised.isEmpty {
                writer.append(restamp(unsynchronised))
                logger.notice("system clock synchronised: re-stamped held rows", metadata: ["rows": "\(unsynchronised.count)"])
                unsynchronised.removeAll()
            }
            writer.append([interval.row])
            stored += writer.drain()
            health.set(.storageFault, writer.backlogCount > 0)
            if stored > 0, stored % 60 == 0 { writer.deleteRows(olderThan: Int64(clock.wall() - retentionSeconds)) }
            let row = interval.row
            notifier.notify("STATUS=\(stored) rows stored; last \(row.time): " +
                            "L1 \(Int(row.phases[0].p.rounded())) W, L2 \(Int(row.phases[1].p.rounded())) W, L3 \(Int(row.phases[2].p.rounded())) W" +
                            (writer.backlogCount > 0 ? "; \(writer.backlogCount) rows waiting for the database" : ""))
        }
        // The sampler finished: write what is left.
        if !unsynchronised.isEmpty {
            if clock.isSynchronized() {
                writer.append(restamp(unsynchronised))
            } else {
                // Never into meter_data under a bogus time; kept aside instead of lost.
                writer.appendAside(unsynchronised.map { var row = $0.row; row.flags.insert(.unsynchronised); return row })
            }
        }
        stored += writer.drain()
        if writer.backlogCount > 0 {
            logger.error("stopping with rows the database did not take", metadata: ["rows": "\(writer.backlogCount)"])
        }
        writer.close()
        logger.info("storage stopped", metadata: ["rows.stored": "\(stored)"])
        // The group shuts services down in reverse order and counts one that returns before its turn as a
        // failure: having written everything, wait for ours.
        try? await gracefulShutdown()
    }

    /// Labels held rows by the synchronised clock: a row's true start is wall now − (monotonic now −
    /// monotonic start); it is labelled by the interval that holds its midpoint. Two partial rows that
    /// fall into one interval (around the sync step) cannot share a label: the second goes to
    /// `meter_data_conflicts`, kept, never overwriting.
    private func restamp(_ held: [ClosedInterval]) -> [MinuteRow] {
        let wall = clock.wall(), monotonic = clock.monotonic()
        return held.map { interval in
            var row = interval.row
            let middle = wall - (monotonic - interval.monotonicStart) + row.durationSeconds / 2
            row.time = Int64((middle / intervalSeconds).rounded(.down) * intervalSeconds)
            row.flags.insert(.restamped)
            return row
        }
    }
}
