// SPDX-License-Identifier: Apache-2.0
internal import GRDB
internal import GRDBSQLite

/// A failed SQLite call as GRDB reports it (`DatabaseError`: extended result code, message, SQL), plus the OS `errno`
/// SQLite saw, which `DatabaseError` does not carry: ``capturingErrno(_:_:)`` reads `sqlite3_system_errno` on the
/// connection that failed, right after the failure.
///
/// Internal: `SQLiteReadingStore` turns it into a ``StoreError`` that says what the store was doing.
struct SQLiteError: Error, CustomStringConvertible {
    /// An SQLite result code, primary (`SQLITE_IOERR`) or extended (`SQLITE_IOERR_WRITE`): GRDB's `ResultCode`.
    typealias Code = ResultCode

    /// The extended result code (GRDB switches extended codes on for every connection).
    let code: Code
    /// `sqlite3_errmsg` at the time of the failure.
    let message: String
    /// `sqlite3_system_errno`: the `errno` of the last failed OS call SQLite made, 0 when unknown.
    let systemErrno: Int32
    /// The statement that failed, nil for an open.
    let sql: String?
    /// The database file.
    let path: String

    init(code: Code, message: String, systemErrno: Int32, sql: String?, path: String) {
        self.code = code; self.message = message; self.systemErrno = systemErrno; self.sql = sql; self.path = path
    }

    init(_ error: DatabaseError, systemErrno: Int32, path: String) {
        self.init(code: error.extendedResultCode, message: error.message ?? error.extendedResultCode.description,
                  systemErrno: systemErrno, sql: error.sql, path: path)
    }

    var description: String {
        var text = "\(path): SQLite error \(code): \(message)"
        if systemErrno != 0 { text += " (errno \(systemErrno))" }
        if let sql { text += " - while executing `\(sql.oneLine)`" }
        return text
    }

    /// SQLite's English name for a result code, e.g. "disk I/O error". The corresponding C function is `sqlite3_errstr`.
    static func name(of code: Int32) -> String { String(cString: sqlite3_errstr(code)) }
}

/// Runs `body` on `db`; a `DatabaseError` it throws becomes an ``SQLiteError`` with the `errno` SQLite saw
/// (`sqlite3_system_errno` of this connection, read before the connection does anything else).
func capturingErrno<T>(_ db: Database, path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DatabaseError {
        throw SQLiteError(error, systemErrno: db.sqliteConnection.map { sqlite3_system_errno($0) } ?? 0, path: path)
    }
}

/// `error` as an ``SQLiteError`` with the `errno` of the pool's writer, for a `DatabaseError` thrown by GRDB code that
/// ran on the writer outside our closures (the migrator). SQLite keeps a connection's errno until its next I/O error.
func withWriterErrno(_ error: any Error, _ pool: DatabasePool) -> any Error {
    guard let error = error as? DatabaseError else { return error }
    let errno = pool.writeWithoutTransaction { db in db.sqliteConnection.map { sqlite3_system_errno($0) } ?? 0 }
    return SQLiteError(error, systemErrno: errno, path: pool.path)
}

extension String {
    /// The SQL with runs of white space (newlines of multi-line DDL) folded to one space, for one-line messages.
    var oneLine: String { split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ") }
}
