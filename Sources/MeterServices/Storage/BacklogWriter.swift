// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterReadings
import MeterStore

/// The storage service's write path: a store that may be missing or failing, and the rows waiting for it.
struct BacklogWriter {
    private let openStore: @Sendable () throws -> any ReadingStore
    private let maximumBacklog: Int
    private let logger: Logger
    private(set) var store: (any ReadingStore)?
    private(set) var backlog: [MinuteRow] = []
    private var failing = false
    private var dropped = 0
    private let counters: ServiceCounters?

    init(openStore: @escaping @Sendable () throws -> any ReadingStore, maximumBacklog: Int, counters: ServiceCounters? = nil, logger: Logger) {
        self.openStore = openStore; self.maximumBacklog = maximumBacklog; self.counters = counters; self.logger = logger
    }

    var backlogCount: Int { backlog.count }

    /// Opens the store if it is not open. - Returns: true when it was opened by this call.
    @discardableResult
    mutating func open() -> Bool {
        guard store == nil else { return false }
        do {
            store = try openStore()
            return true
        } catch {
            trouble("database cannot be opened; keeping rows in memory", error)
            return false
        }
    }

    mutating func append(_ rows: [MinuteRow]) {
        backlog += rows
        if backlog.count > maximumBacklog {
            let excess = backlog.count - maximumBacklog
            backlog.removeFirst(excess)
            dropped += excess
            logger.error("in-memory backlog full: oldest rows dropped", metadata: ["rows.dropped": "\(dropped)"])
        }
    }

    /// Writes the backlog in one transaction (rows flagged unsynchronised go aside). - Returns: rows written.
    mutating func drain() -> Int {
        guard !backlog.isEmpty else { return 0 }
        open()
        guard let store else { return 0 }
        do {
            let count = backlog.count
            let outcomes = try store.insert(backlog)
            // After the commit: a row logged here is on disk.
            for (row, outcome) in zip(backlog, outcomes) {
                logger.debug("row stored", metadata: ["row.time": "\(row.time)", "row.outcome": "\(outcome)", "row.flags": "\(row.flags.rawValue)"])
            }
            backlog.removeAll()
            counters?.update { $0.rowsWritten += count }
            if failing {
                failing = false
                logger.notice("database writable again; backlog written", metadata: ["rows": "\(count)"])
            }
            return count
        } catch {
            trouble("database write failed; keeping rows in memory and retrying every interval", error)
            if !error.isTransient {
                // Corrupt or replaced under us: reopen, which moves a damaged file aside.
                store.close()
                self.store = nil
            }
            return 0
        }
    }

    mutating func close() {
        store?.close()
        store = nil
    }

    private mutating func trouble(_ message: Logger.Message, _ error: any Error) {
        counters?.update { $0.storageFaults += 1 }
        guard !failing else { return }
        failing = true
        logger.error(message, metadata: ["error": "\(error)"])
    }
}
