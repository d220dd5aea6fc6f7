// SPDX-License-Identifier: Apache-2.0
internal import GRDB
internal import GRDBSQLite
import Logging

extension SQLiteReadingStore {
    /// How long a statement waits for another connection's lock (`PRAGMA busy_timeout`), in seconds: the writer's
    /// `busyMode` and the readers' `readonlyBusyMode` (GRDB's default for readers is 10 s).
    static let busyTimeoutSeconds: Double = 5

    /// Opens the database at `path` ready for use: folder, damage check (moving a damaged file aside), schema version
    /// check, then GRDB's `DatabasePool` (WAL), `synchronous = FULL`, migrations. Used by `init` and ``reopen()``.
    ///
    /// The checks run on a read-only connection of their own before the pool opens, because opening the pool writes:
    /// GRDB sets `journal_mode = WAL` and commits an empty transaction when the `-wal` is empty. A read-only
    /// connection never writes the file and never checkpoints its `-wal` at close, so a file we refuse or move aside
    /// stays byte for byte as it was.
    static func openDatabase(path: String, readOnly: Bool, features: [StoreSchema], logger: Logger) throws(StoreError) -> DatabasePool {
        if !readOnly { try DatabaseFiles.createParentFolder(of: path) }
        var version: Int64 = 0
        if DatabaseFiles.exists(path) {
            let inspection = try inspect(path: path, features: features)
            switch inspection {
            case .sound(let found):
                version = found
            case .damaged(let damage):
                guard !readOnly else {
                    throw StoreError(.corrupt, path: path, detail: "the database is damaged: \(damage)")
                }
                let aside = try DatabaseFiles.moveAside(path, now: DatabaseFiles.now())
                logger.warning("Damaged database \(path) moved aside to \(aside); starting a new database",
                               metadata: ["db.path": "\(path)", "db.moved_to": "\(aside)", "db.damage": "\(damage)"])
            }
        }

        let pool = try connect(path: path, readOnly: readOnly)
        if !readOnly { try assertSynchronousFull(pool) }
        try Schema.migrate(pool, from: version, features: features, logger: logger)
        logger.debug("Opened database", metadata: ["db.path": "\(path)", "db.schema.version": "\(Schema.currentVersion)"])
        return pool
    }

    private enum Inspection {
        case sound(version: Int64)
        /// What is wrong with it (`SQLITE_NOTADB`, `SQLITE_CORRUPT`, or the first lines of `PRAGMA quick_check`).
        case damaged(String)
    }

    /// Reads the file without writing it: `PRAGMA quick_check`, `user_version`, the newer-schema refusal.
    /// Failures other than damage (busy, I/O, read-only) throw: they are no proof of damage.
    private static func inspect(path: String, features: [StoreSchema]) throws(StoreError) -> Inspection {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.label = "MeterStore.inspection"
        let damage: (SQLiteError) -> String? = { error in
            let primary = error.code.primaryResultCode
            return primary == .SQLITE_NOTADB || primary == .SQLITE_CORRUPT ? "\(error.message) (SQLite \(error.code))" : nil
        }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)  // GRDB reads sqlite_master at open
        } catch let error as DatabaseError {
            let failure = SQLiteError(error, systemErrno: 0, path: path)
            if let damage = damage(failure) { return .damaged(damage) }
            throw openError(failure, path: path, detail: "cannot open the database to check it")
        } catch {
            throw StoreError(.open, path: path, detail: "cannot open the database to check it", any: error)
        }
        defer { try? queue.close() }
        do {
            return try queue.read { db in
                try capturingErrno(db, path: path) {
                    let lines = try String.fetchAll(db, sql: "PRAGMA quick_check")
                    guard lines == ["ok"] else { return .damaged("PRAGMA quick_check: " + lines.prefix(3).joined(separator: "; ")) }
                    let version = try Int64.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                    try Schema.checkNotNewer(db, path: path, version: version, features: features)
                    return .sound(version: version)
                }
            }
        } catch let error as SQLiteError {
            if let damage = damage(error) { return .damaged(damage) }
            throw StoreError(.open, path: path, detail: "cannot check the database (PRAGMA quick_check)", error)
        } catch {
            throw StoreError(.open, path: path, detail: "cannot check the database", any: error)
        }
    }

    /// Opens GRDB's `DatabasePool`: the writer (WAL, `busy_timeout` 5 s) and, on first use, up to 4 read-only readers.
    /// Refuses a read-write open that SQLite silently fell back to read-only.
    private static func connect(path: String, readOnly: Bool) throws(StoreError) -> DatabasePool {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.maximumReaderCount = 4
        // SQLite's default, as before GRDB (whose default is on): a feature's REFERENCES stay declarations.
        configuration.foreignKeysEnabled = false
        configuration.label = "MeterStore"
        configuration.prepareDatabase { db in
            // Runs on every connection before GRDB touches the file (WAL set-up comes later, on the writer).
            guard let handle = db.sqliteConnection else { return }
            if db.configuration.readonly {
                // Readers wait 5 s like the writer, not GRDB's 10 s (`readonlyBusyMode` is not public in GRDB 7.10).
                sqlite3_busy_timeout(handle, Int32(busyTimeoutSeconds * 1000))
                return
            }
            guard sqlite3_db_readonly(handle, "main") == 1 else { return }
            throw StoreError(.readOnly, path: path,
                             detail: "SQLite could open the database only read-only: the file or its folder is not writable")
        }
        do {
            return try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw openError(SQLiteError(error, systemErrno: 0, path: path), path: path, detail: "cannot open the database")
        } catch {
            throw StoreError(.open, path: path, detail: "cannot open the database", any: error)
        }
    }

    /// The error for a failed open. GRDB closes a connection whose open failed, so SQLite's errno is lost: a new file
    /// on a read-only filesystem fails as `SQLITE_CANTOPEN` (SQLite's read-only retry could not find it), and the
    /// folder's write access tells the transient cause.
    private static func openError(_ error: SQLiteError, path: String, detail: String) -> StoreError {
        if StoreError.classify(error) == nil, let number = DatabaseFiles.writeAccessError(of: path),
           StoreError.classify(errno: number) == .readOnly {
            return StoreError(.readOnly, path: path, detail: "\(detail): its folder is not writable",
                              sqliteMessage: error.message, sqliteCode: error.code.rawValue, systemErrno: number)
        }
        return StoreError(.open, path: path, detail: detail, error)
    }

    /// `synchronous = FULL` on the writer, over GRDB's NORMAL.
    ///
    /// GRDB's `DatabasePool` sets `synchronous = NORMAL` when it sets up WAL, after `prepareDatabase`: "A transaction
    /// committed in WAL mode with synchronous=NORMAL might roll back following a power loss or system crash"
    /// (sqlite.org/pragma.html#pragma_synchronous). A meter must not lose a committed minute at a power cut, and one
    /// fsync of the WAL per minute costs nothing. `synchronous` is per connection, so it is set at every open.
    private static func assertSynchronousFull(_ pool: DatabasePool) throws(StoreError) {
        do {
            try pool.writeWithoutTransaction { db in try capturingErrno(db, path: pool.path) { try db.execute(sql: "PRAGMA synchronous = FULL") } }
        } catch {
            throw StoreError(.open, path: pool.path, detail: "cannot set synchronous = FULL", any: error)
        }
    }
}
