// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock
import MeterReadings
public import MeterStore
public import ServiceLifecycle

/// How the storage keeps rows: how long, for whom, and where rows go that the database did not take.
public struct StoragePolicy: Sendable {
    /// Rows older than this are deleted (`persistence_interval_sec`), unless a claim still needs them.
    public var retentionSeconds: Double
    /// Features that need rows kept (the exporter until it has uploaded them).
    public var claims: [any RetentionClaim]
    /// Rows kept in memory while the database is unwritable; past it the oldest go (a week of minutes, ~4 MB).
    public var maximumBacklog: Int
    /// Where rows still in memory at a stop are saved, to be stored by the next start.
    public var spill: SpillFile

    public init(retentionSeconds: Double, claims: [any RetentionClaim] = [], maximumBacklog: Int = 10_080, spill: SpillFile) {
        self.retentionSeconds = retentionSeconds; self.claims = claims; self.maximumBacklog = maximumBacklog; self.spill = spill
    }
}

/// Rows the service could neither store nor spill: the stop failed, and says how many were lost.
public struct StorageStopError: Error, CustomStringConvertible, Sendable {
    public let rows: Int
    public let detail: String
    public var description: String {
        "\(rows) rows could be written neither to the database nor to a spill file: \(detail). "
            + "Fix: make the database's folder (or the state directory) writable"
    }
}

/// Writes every final row of the ``LiveHub`` to the store, and keeps rows in a bounded in-memory backlog
/// while the database cannot be written (read-only, full, locked, gone): sampling never stops for storage.
/// Each kind of trouble is logged once when it starts and once when it ends, not once a minute.
///
/// It subscribes to the hub's rows without loss when it is made, and drains them to the end: on shutdown it
/// writes the sampler's last (partial) row; rows the database still cannot take go to the ``SpillFile``
/// (stored by the next start, exactly once), and if even that fails ``run()`` throws ``StorageStopError`` so
/// the process exits non-zero. List it before the sampler in the service group so it stops after it.
public final class StorageService: Service {
    private let rows: AsyncStream<MinuteRow>
    private let hub: LiveHub
    private let openStore: @Sendable () throws -> any ReadingStore
    private let clock: any MeterClock
    private let policy: StoragePolicy
    private let notifier: SystemdNotifier
    private let logger: Logger

    /// - Parameters:
    ///   - hub: the rows to store (subscribed here, before the sampler starts) and where to report faults.
    ///   - openStore: opens (or re-opens) the database.
    public init(hub: LiveHub, openStore: @escaping @Sendable () throws -> any ReadingStore, clock: any MeterClock,
                policy: StoragePolicy, notifier: SystemdNotifier = SystemdNotifier(environment: [:]), logger: Logger) {
        self.rows = hub.rows.subscribe("storage", buffer: .lossless)
        self.hub = hub; self.openStore = openStore; self.clock = clock; self.policy = policy
        self.notifier = notifier; self.logger = logger
    }

    public func run() async throws {
        var writer = BacklogWriter(openStore: openStore, maximumBacklog: policy.maximumBacklog, counters: hub.counters, logger: logger)
        var stored = 0
        var spillImported = false

        if writer.open() { spillImported = importSpill(&writer) }
        hub.store.set(writer.store)
        for await row in rows {
            writer.append([row])
            if writer.store == nil, writer.open() { spillImported = importSpill(&writer) }
            stored += writer.drain()
            hub.store.set(writer.store)
            if !spillImported, writer.store != nil { spillImported = importSpill(&writer) }
            hub.health.set(.storageFault, writer.backlogCount > 0)
            if stored > 0, stored % 60 == 0 { applyRetention(writer.store) }
            notifier.notify("STATUS=\(stored) rows stored; last \(row.time): " +
                            "L1 \(Int(row.phases[0].p.rounded())) W, L2 \(Int(row.phases[1].p.rounded())) W, L3 \(Int(row.phases[2].p.rounded())) W" +
                            (writer.backlogCount > 0 ? "; \(writer.backlogCount) rows waiting for the database" : ""))
        }
        // The sampler finished: write what is left, spill what the database will not take.
        stored += writer.drain()
        var lost: StorageStopError?
        if writer.backlogCount > 0 {
            do {
                let path = try policy.spill.save(writer.backlog)
                logger.error("stopping with rows the database did not take: saved to a spill file; the next start stores them",
                             metadata: ["rows": "\(writer.backlogCount)", "spill.path": "\(path)"])
            } catch {
                lost = StorageStopError(rows: writer.backlogCount, detail: "\(error)")
                logger.critical("stopping with rows the database did not take, and no spill file could be written",
                                metadata: ["rows": "\(writer.backlogCount)", "error": "\(error)"])
            }
        }
        // The group shuts services down in reverse order and counts one that returns before its turn as a
        // failure: having written everything, wait for ours. The features, listed after the storage, stop first:
        // the store stays open for their last writes until then.
        try? await gracefulShutdown()
        hub.store.set(nil)
        writer.close()
        logger.info("storage stopped", metadata: ["rows.stored": "\(stored)"])
        if let lost { throw lost }
    }

    /// Stores the rows of earlier stops' spill files, then removes the files. - Returns: true when every file
    /// found was dealt with (imported, or kept aside when unreadable), false to try again later.
    private func importSpill(_ writer: inout BacklogWriter) -> Bool {
        guard let store = writer.store else { return false }
        for file in policy.spill.load() {
            do {
                let outcomes = file.rows.isEmpty ? [] : try store.insert(file.rows)
                for error in file.errors { logger.error("spill file line not imported", metadata: ["error": "\(error)"]) }
                if file.errors.isEmpty {
                    SpillFile.remove(file.path)
                } else if let kept = SpillFile.moveAside(file.path, now: Int64(clock.wall())) {
                    logger.error("spill file kept for inspection", metadata: ["spill.path": "\(kept)"])
                }
                logger.notice("stored the rows of an earlier stop's spill file", metadata: [
                    "spill.path": "\(file.path)", "rows": "\(file.rows.count)",
                    "rows.new": "\(outcomes.filter { $0 != .duplicate }.count)",
                ])
            } catch {
                logger.error("spill file not imported yet; it stays for the next try", metadata: ["spill.path": "\(file.path)", "error": "\(error)"])
                return false
            }
        }
        return true
    }

    private func applyRetention(_ store: (any ReadingStore)?) {
        guard let store else { return }
        do {
            let outcome = try store.applyRetention(keepingFrom: Int64(clock.wall() - policy.retentionSeconds), claims: policy.claims)
            if !outcome.heldBy.isEmpty {
                logger.info("retention: rows past the window kept for features", metadata: [
                    "claimants": "\(outcome.heldBy.joined(separator: ","))", "kept.from": "\(outcome.effectiveCutoff)",
                ])
            }
        } catch {
            logger.warning("retention delete failed", metadata: ["error": "\(error)"])
        }
    }
}
