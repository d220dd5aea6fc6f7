// SPDX-License-Identifier: Apache-2.0
import Logging

extension SQLiteReadingStore {
    /// Each connection's page cache (`PRAGMA cache_size`), in KiB. SQLite's default is 2 MiB a connection; the service
    /// writes a row and a handful of forecasts a minute and reads little, and every MiB is a thirtieth of its
    /// memory budget.
    static let pageCacheKiB = 512

    /// Sets ``pageCacheKiB`` on `connection`; a failure leaves SQLite's default, which only costs memory.
    static func limitPageCache(_ connection: SQLiteConnection) {
        do throws(SQLiteError) { try connection.execute("PRAGMA cache_size = -\(pageCacheKiB)") } catch {}
    }

    /// How long a write waits for another process's lock (`PRAGMA busy_timeout`), in milliseconds.
    static let busyTimeoutMilliseconds: Int32 = 5000

    /// Opens the database at `path` ready for use: folder, open, damage check (moving a damaged file aside),
    /// schema version check, WAL, migrations. Used by `init` and ``reopen()``.
    static func openDatabase(path: String, readOnly: Bool, features: [StoreSchema], logger: Logger) throws(StoreError) -> SQLiteConnection {
        if !readOnly { try DatabaseFiles.createParentFolder(of: path) }
        var connection = try connect(path: path, readOnly: readOnly)

        if let damage = try damage(of: connection) {
            connection.close()
            guard !readOnly else {
                throw StoreError(.corrupt, path: path, detail: "the database is damaged: \(damage)")
            }
            let aside = try DatabaseFiles.moveAside(path, now: DatabaseFiles.now())
            logger.warning("Damaged database \(path) moved aside to \(aside); starting a new database",
                           metadata: ["db.path": "\(path)", "db.moved_to": "\(aside)", "db.damage": "\(damage)"])
            connection = try connect(path: path, readOnly: readOnly)
        }

        let version: Int64
        do { version = try connection.int64("PRAGMA user_version") } catch {
            throw StoreError(.open, path: path, detail: "cannot read the schema version", error)
        }
        do throws(StoreError) {
            try Schema.checkNotNewer(connection, version: version, features: features)
        } catch {
            connection.close()  // nothing written, no checkpoint at close: the file and its -wal stay as they were
            throw error
        }

        connection.setCheckpointOnClose(true)
        try setUpWAL(connection)
        try Schema.migrate(connection, from: version, features: features, logger: logger)
        logger.debug("Opened database", metadata: ["db.path": "\(path)", "db.schema.version": "\(Schema.currentVersion)"])
        return connection
    }

    /// Opens the file and sets the busy timeout. Refuses a read-write open that SQLite silently fell back to read-only.
    private static func connect(path: String, readOnly: Bool) throws(StoreError) -> SQLiteConnection {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, flags: readOnly ? [.readOnly] : [.readWrite, .create])
        } catch {
            // A new file on a read-only filesystem fails as SQLITE_CANTOPEN with errno ENOENT (SQLite's read-only
            // retry could not find it); the folder's write access tells the transient cause.
            if StoreError.classify(error) == nil, !readOnly, let number = DatabaseFiles.writeAccessError(of: path),
               StoreError.classify(errno: number) == .readOnly {
                throw StoreError(.readOnly, path: path, detail: "cannot create the database: its folder is not writable",
                                 sqliteMessage: error.message, sqliteCode: error.code.rawValue, systemErrno: number)
            }
            throw StoreError(.open, path: path, detail: "cannot open the database", error)
        }
        connection.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
        limitPageCache(connection)
        connection.setCheckpointOnClose(false)  // until the checks pass: never rewrite a file we refuse
        if !readOnly && connection.isReadOnly {
            connection.close()
            throw StoreError(.readOnly, path: path,
                             detail: "SQLite could open the database only read-only: the file or its folder is not writable")
        }
        return connection
    }

    /// Nil when the file is a sound database; else what is wrong with it (`SQLITE_NOTADB`, `SQLITE_CORRUPT`, or the
    /// first lines of `PRAGMA quick_check`). Other failures (busy, I/O, read-only) throw: they are no proof of damage.
    private static func damage(of connection: SQLiteConnection) throws(StoreError) -> String? {
        do {
            let lines = try connection.strings("PRAGMA quick_check")
            return lines == ["ok"] ? nil : "PRAGMA quick_check: " + lines.prefix(3).joined(separator: "; ")
        } catch where error.code.primary == .notADatabase || error.code.primary == .corrupt {
            return "\(error.message) (SQLite \(error.code))"
        } catch {
            throw StoreError(.open, path: connection.path, detail: "cannot check the database (PRAGMA quick_check)", error)
        }
    }

    /// WAL lets readers (the original `SELECT … FROM meter_data` scripts, `sqlite3`) read while the service writes.
    ///
    /// `synchronous = FULL`, not GRDB's NORMAL: "A transaction committed in WAL mode with synchronous=NORMAL might
    /// roll back following a power loss or system crash" (sqlite.org/pragma.html#pragma_synchronous). A meter
    /// must not lose a committed minute at a power cut, and one fsync of the WAL per minute costs nothing.
    /// `synchronous` is per connection, so it is set at every open; `journal_mode = WAL` persists in the file.
    private static func setUpWAL(_ connection: SQLiteConnection) throws(StoreError) {
        let mode: [String]
        do {
            mode = try connection.strings("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = FULL")
        } catch {
            throw StoreError(.open, path: connection.path, detail: "cannot set up WAL mode", error)
        }
        guard mode == ["wal"] else {
            throw StoreError(.open, path: connection.path, detail: "SQLite kept journal mode \(mode) instead of WAL",
                             sql: "PRAGMA journal_mode = WAL",
                             remedy: "make the database folder writable (WAL needs the -wal and -shm files)")
        }
    }
}
