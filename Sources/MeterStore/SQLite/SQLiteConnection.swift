// SPDX-License-Identifier: Apache-2.0
internal import CSQLite

/// One open SQLite database handle (`sqlite3 *`), closed by ``close()`` or at deinit.
///
/// Not `Sendable`: use it from one thread at a time. It is opened with `SQLITE_OPEN_NOMUTEX` for that reason;
/// `SQLiteReadingStore` keeps its connection behind a `Mutex`. Every call blocks while SQLite does its I/O.
/// The SQLite calls of this module live in this folder only (`SQLite/`), so C types never leave it.
final class SQLiteConnection {
    /// Flags of `sqlite3_open_v2`.
    struct OpenFlags: OptionSet {
        let rawValue: Int32
        /// `SQLITE_OPEN_READONLY`.
        static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        /// `SQLITE_OPEN_READWRITE`.
        static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        /// `SQLITE_OPEN_CREATE`: create the file when missing (with `.readWrite`).
        static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
    }

    /// The database file.
    let path: String
    private var handle: OpaquePointer?

    /// Opens `path`. The corresponding C function is `sqlite3_open_v2`, with `SQLITE_OPEN_NOMUTEX` and
    /// `SQLITE_OPEN_EXRESCODE` added (extended result codes).
    ///
    /// SQLite opens lazily: a file that is not a database opens fine and the first statement fails with `SQLITE_NOTADB`.
    /// A `.readWrite` open of a file SQLite cannot write falls back to read-only; see ``isReadOnly``.
    init(path: String, flags: OpenFlags) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let result = sqlite3_open_v2(path, &db, flags.rawValue | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard result == SQLITE_OK, let db else {
            let error = SQLiteError(
                code: .init(rawValue: db.map { sqlite3_extended_errcode($0) } ?? result),
                message: db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result)),
                systemErrno: db.map { sqlite3_system_errno($0) } ?? 0, sql: nil, path: path)
            sqlite3_close_v2(db)
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Closes the handle; later calls trap. The corresponding C function is `sqlite3_close_v2`, which defers the
    /// close until statements still alive are finalized. Safe to call twice.
    func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// The handle; using a closed connection is a bug of this module, not a condition of the world.
    var db: OpaquePointer {
        guard let handle else { preconditionFailure("SQLiteConnection \(path) used after close (a MeterStore bug)") }
        return handle
    }

    /// True when the main database is read-only (opened so, or fallen back to read-only because the file or its
    /// folder cannot be written). The corresponding C function is `sqlite3_db_readonly`.
    var isReadOnly: Bool { sqlite3_db_readonly(db, "main") == 1 }

    /// Rows changed by the last INSERT, UPDATE or DELETE. The corresponding C function is `sqlite3_changes64`.
    var changes: Int { Int(sqlite3_changes64(db)) }

    /// Whether closing the last connection checkpoints the WAL into the database file (SQLite's default: yes).
    /// Off while a file is only being inspected, so a file we refuse or move aside is not rewritten at close.
    /// The corresponding C call is `sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, …)`.
    func setCheckpointOnClose(_ enabled: Bool) {
        var current: Int32 = 0
        let result = csqlite_db_config_int(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, enabled ? 0 : 1, &current)
        precondition(result == SQLITE_OK, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE needs SQLite 3.28 (this is \(String(cString: sqlite3_libversion())))")
    }

    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    /// The corresponding C function is `sqlite3_busy_timeout`.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(db, milliseconds)
    }

    /// Runs one or more statements that return no rows you need. The corresponding C function is `sqlite3_exec`.
    func execute(_ sql: String) throws(SQLiteError) {
        let result = sqlite3_exec(db, sql, nil, nil, nil)
        guard result == SQLITE_OK else { throw error(result, sql: sql) }
    }

    /// Compiles one statement. The corresponding C function is `sqlite3_prepare_v2`.
    func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard result == SQLITE_OK, let statement else { throw error(result, sql: sql) }
        return Statement(statement, sql: sql, connection: self)
    }

    /// Runs a statement that returns one text column (`PRAGMA quick_check`, `PRAGMA journal_mode = WAL`) and returns
    /// its rows.
    func strings(_ sql: String) throws(SQLiteError) -> [String] {
        let statement = try prepare(sql)
        var rows: [String] = []
        while try statement.step() { rows.append(statement.string(at: 0) ?? "") }
        return rows
    }

    /// Runs a statement that returns one integer (`PRAGMA user_version`, `SELECT count(*)`).
    func int64(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(at: 0)
    }

    /// Runs `body` in a write transaction: `BEGIN IMMEDIATE`, then `COMMIT`, or `ROLLBACK` when anything throws.
    ///
    /// IMMEDIATE takes the write lock at the start, so a busy database fails (after the busy timeout) before any work,
    /// never halfway. The rollback runs only while a transaction is still open (`sqlite3_get_autocommit` is 0):
    /// SQLite may already have rolled back by itself, e.g. after `SQLITE_FULL`.
    func transaction<Result>(_ body: () throws(SQLiteError) -> Result) throws(SQLiteError) -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(db) == 0 { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }

    /// The error for a failed call: `sqlite3_extended_errcode` when it refines `result`, `sqlite3_errmsg`,
    /// `sqlite3_system_errno`.
    func error(_ result: Int32, sql: String?) -> SQLiteError {
        let extended = sqlite3_extended_errcode(db)
        let code = extended & 0xFF == result & 0xFF ? extended : result
        return SQLiteError(code: .init(rawValue: code), message: String(cString: sqlite3_errmsg(db)),
                           systemErrno: sqlite3_system_errno(db), sql: sql, path: path)
    }
}
