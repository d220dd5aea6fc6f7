// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterCore
import MeterStore

/// The storage service's write path: a store that may be missing or failing, and the rows waiting for it.
struct BacklogWriter {
    private let openStore: @Sendable () throws -> SQLiteReadingStore
    private let maximumBacklog: Int
    private let logger: Logger
    private var store: SQLiteReadingStore?
    private var backlog: [MinuteRow] = []
    private var aside: [MinuteRow] = []
    private var failing = false
    private var dropped = 0

    init(openStore: @escaping @Sendable () throws -> SQLiteReadingStore, maximumBacklog: Int, logger: Logger) {
        self.openStore = openStore; self.maximumBacklog = maximumBacklog; self.logger = logger
    }

    var backlogCount: Int { backlog.count + aside.count }

    mutating func open() {
        guard store == nil else { return }
        do {
            store = try openStore()
        } catch {
            trouble("database cannot be opened; keeping rows in memory", error)
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

    mutating func appendAside(_ rows: [MinuteRow]) { aside += rows }

    /// Writes the backlog in one transaction. - Returns: rows written.
    mutating func drain() -> Int {
        guard !backlog.isEmpty || !aside.isEmpty else { return 0 }
        open()
        guard let store else { return 0 }
        do {
            let count = backlog.count
            if !backlog.isEmpty {
                let outcomes = try store.insert(backlog)
                // After the commit: a row logged here is on disk.
                for (row, outcome) in zip(backlog, outcomes) {
                    logger.debug("row stored", metadata: ["row.time": "\(row.time)", "row.outcome": "\(outcome)", "row.flags": "\(row.flags.rawValue)"])
                }
            }
            backlog.removeAll()
            if !aside.isEmpty { try store.insertAside(aside); aside.removeAll() }
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

    mutating func deleteRows(olderThan time: Int64) {
        guard let store else { return }
        do { _ = try store.deleteRows(olderThan: time) } catch {
            logger.warning("retention delete failed", metadata: ["error": "\(error)"])
        }
    }

    mutating func close() {
        store?.close()
        store = nil
    }

    private mutating func trouble(_ message: Logger.Message, _ error: any Error) {
        guard !failing else { return }
        failing = true
        logger.error(message, metadata: ["error": "\(error)"])
    }
}
