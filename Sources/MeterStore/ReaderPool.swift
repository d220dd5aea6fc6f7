// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Read-only connections to the database, opened on first use, each behind its own lock.
///
/// In WAL mode a reader sees the last committed transaction and never waits for the writer, so readers
/// (HTTP, exporter, forecaster) and the minute writer run side by side. A read takes the first free
/// connection; when all are busy it waits for one.
final class ReaderPool: Sendable {
    let path: String
    /// One reader and its lock (a `Mutex` cannot live in an array itself).
    private final class Slot: Sendable {
        let connection = Mutex<SQLiteConnection?>(nil)
    }

    private let slots: [Slot]
    private let next = Mutex(0)

    init(path: String, size: Int) {
        self.path = path
        slots = (0..<max(1, size)).map { _ in Slot() }
    }

    /// Runs `body` on a free reader. - Throws: ``StoreError`` when no reader can be opened, or `body`'s error.
    func withReader<Result: Sendable>(what: String, _ body: (SQLiteConnection) throws(StoreError) -> Result) throws(StoreError) -> Result {
        for slot in slots {
            let outcome = slot.connection.withLockIfAvailable { (connection: inout SQLiteConnection?) -> Swift.Result<Result, StoreError> in
                run(&connection, what: what, body)
            }
            if let outcome { return try outcome.get() }
        }
        // All busy: wait for one, round robin.
        let index = next.withLock { value -> Int in defer { value = (value + 1) % slots.count }; return value }
        return try slots[index].connection.withLock { (connection: inout SQLiteConnection?) -> Swift.Result<Result, StoreError> in
            run(&connection, what: what, body)
        }.get()
    }

    private func run<Result>(_ connection: inout SQLiteConnection?, what: String,
                             _ body: (SQLiteConnection) throws(StoreError) -> Result) -> Swift.Result<Result, StoreError> {
        do throws(StoreError) {
            if connection == nil { connection = try open(what: what) }
            return .success(try body(connection!))
        } catch {
            // A reader that failed may point at a file since moved aside: open afresh next time.
            if error.code != .busy { connection?.close(); connection = nil }
            return .failure(error)
        }
    }

    private func open(what: String) throws(StoreError) -> SQLiteConnection {
        do {
            let connection = try SQLiteConnection(path: path, flags: [.readOnly])
            connection.setBusyTimeout(milliseconds: SQLiteReadingStore.busyTimeoutMilliseconds)
            SQLiteReadingStore.limitPageCache(connection)
            return connection
        } catch {
            throw StoreError(.open, path: path, detail: "\(what): cannot open a reader", error)
        }
    }

    /// Closes every reader (they reopen on next use). Waits for reads in progress.
    func closeAll() {
        for slot in slots { slot.connection.withLock { $0?.close(); $0 = nil } }
    }
}
