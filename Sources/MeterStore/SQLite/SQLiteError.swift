// SPDX-License-Identifier: Apache-2.0
internal import CSQLite

/// A failed SQLite call: the (extended) result code, `sqlite3_errmsg`, the OS `errno` SQLite saw, the SQL and the file.
///
/// Internal: `SQLiteReadingStore` turns it into a ``StoreError`` that says what the store was doing.
/// Match it on codes with `~=`: `catch SQLiteError.Code.busy` matches `SQLITE_BUSY` and all its extended codes.
struct SQLiteError: Error, CustomStringConvertible {
    /// An SQLite result code, primary (`SQLITE_IOERR`) or extended (`SQLITE_IOERR_WRITE`).
    struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        let rawValue: Int32
        init(rawValue: Int32) { self.rawValue = rawValue }

        /// The primary code: the low 8 bits (`SQLITE_IOERR` for `SQLITE_IOERR_WRITE`).
        var primary: Code { Code(rawValue: rawValue & 0xFF) }

        /// `SQLITE_ERROR`: generic error (often bad SQL).
        static let error = Code(rawValue: SQLITE_ERROR)
        /// `SQLITE_BUSY`: another connection holds the lock longer than the busy timeout.
        static let busy = Code(rawValue: SQLITE_BUSY)
        /// `SQLITE_LOCKED`: a conflict inside this connection (shared cache, open statement).
        static let locked = Code(rawValue: SQLITE_LOCKED)
        /// `SQLITE_READONLY`: a write to a database opened, or fallen back to, read-only.
        static let readOnly = Code(rawValue: SQLITE_READONLY)
        /// `SQLITE_IOERR`: the OS reported an I/O error (see `systemErrno`).
        static let ioErr = Code(rawValue: SQLITE_IOERR)
        /// `SQLITE_CORRUPT`: the file's content is malformed.
        static let corrupt = Code(rawValue: SQLITE_CORRUPT)
        /// `SQLITE_FULL`: the disk (or quota) is full.
        static let full = Code(rawValue: SQLITE_FULL)
        /// `SQLITE_CANTOPEN`: the file (or its `-wal`/`-shm`) could not be opened or created.
        static let cantOpen = Code(rawValue: SQLITE_CANTOPEN)
        /// `SQLITE_CONSTRAINT`: a NOT NULL, CHECK or UNIQUE constraint failed.
        static let constraint = Code(rawValue: SQLITE_CONSTRAINT)
        /// `SQLITE_NOTADB`: the file is not an SQLite database.
        static let notADatabase = Code(rawValue: SQLITE_NOTADB)

        /// `sqlite3_errstr`: SQLite's English name for the code, e.g. "disk I/O error".
        var description: String { "\(rawValue) \(String(cString: sqlite3_errstr(rawValue)))" }

        /// True when `error` is an ``SQLiteError`` whose code is `pattern`, or whose primary code is `pattern`
        /// when `pattern` is a primary code.
        static func ~= (pattern: Code, error: any Error) -> Bool {
            guard let error = error as? SQLiteError else { return false }
            return error.code == pattern || (pattern.primary == pattern && error.code.primary == pattern)
        }
    }

    /// The extended result code (extended codes are switched on for every connection).
    let code: Code
    /// `sqlite3_errmsg` at the time of the failure.
    let message: String
    /// `sqlite3_system_errno`: the `errno` of the last failed OS call SQLite made, 0 when none.
    let systemErrno: Int32
    /// The statement that failed, nil for `sqlite3_open_v2`.
    let sql: String?
    /// The database file.
    let path: String

    var description: String {
        var text = "\(path): SQLite error \(code): \(message)"
        if systemErrno != 0 { text += " (errno \(systemErrno))" }
        if let sql { text += " - while executing `\(sql.oneLine)`" }
        return text
    }
}

extension String {
    /// The SQL with runs of white space (newlines of multi-line DDL) folded to one space, for one-line messages.
    var oneLine: String { split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ") }
}
