// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the minute store failed: a ``Code``, the database path, what the store was doing, the SQL and SQLite's message.
///
/// `description` is one line: `<path>: <what> (SQLite <code>: <message>; SQL: `…`). Fix: <remedy>`.
///
/// ``isTransient`` sorts the codes for the service: a transient error (read-only filesystem or file, disk full,
/// busy/locked, I/O error) says "keep the rows in memory, call ``SQLiteReadingStore/reopen()`` later and insert
/// them again"; a permanent one will not go away by retrying.
///
/// Match on the code: `catch StoreError.Code.readOnly { … }` (or `error.code == .readOnly`).
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure. New codes may be added; match the ones you handle and keep a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case open, schema, newerSchema, write, read, corrupt, closed, readOnly, full, busy, ioError
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file could not be opened or created (permanent: a wrong path, a folder that is a file, …).
        public static let open = Code(.open)
        /// A schema migration failed and was rolled back (permanent).
        public static let schema = Code(.schema)
        /// The file's `PRAGMA user_version` is newer than this build knows; the file was not touched (permanent).
        public static let newerSchema = Code(.newerSchema)
        /// A write failed for a reason other than the transient ones, e.g. a constraint (permanent).
        public static let write = Code(.write)
        /// A read failed for a reason other than the transient ones (permanent).
        public static let read = Code(.read)
        /// The open database turned out damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`). Permanent for this connection;
        /// ``SQLiteReadingStore/reopen()`` moves the file aside and starts a new one.
        public static let corrupt = Code(.corrupt)
        /// The store was closed with ``SQLiteReadingStore/close()`` (permanent until reopened).
        public static let closed = Code(.closed)
        /// Transient: the file or its folder cannot be written (`SQLITE_READONLY`, `EROFS`, `EACCES`), e.g. the
        /// filesystem was remounted read-only.
        public static let readOnly = Code(.readOnly)
        /// Transient: the disk or quota is full (`SQLITE_FULL`, `ENOSPC`, `EDQUOT`).
        public static let full = Code(.full)
        /// Transient: another connection held the lock past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`).
        public static let busy = Code(.busy)
        /// Transient: the OS reported an I/O error (`SQLITE_IOERR`, `EIO`).
        public static let ioError = Code(.ioError)

        /// True for the codes a retry can cure: `.readOnly`, `.full`, `.busy`, `.ioError`.
        public var isTransient: Bool { [.readOnly, .full, .busy, .ioError].contains(value) }

        /// The code's name, e.g. `readOnly`.
        public var description: String { value.rawValue }

        /// True when `error` is a ``StoreError`` with this code, so that `catch StoreError.Code.full` works.
        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? StoreError)?.code == pattern
        }
    }

    /// What kind of failure.
    public let code: Code
    /// The database file.
    public let path: String
    /// What the store was doing and what went wrong, e.g. "cannot store the minute row at time 1700000040".
    public let detail: String
    /// The SQL that failed, if any.
    public let sql: String?
    /// `sqlite3_errmsg`, if SQLite reported the failure.
    public let sqliteMessage: String?
    /// The extended SQLite result code (e.g. 778 = `SQLITE_IOERR_WRITE`), if SQLite reported the failure.
    public let sqliteCode: Int32?
    /// The OS `errno` behind the failure (`sqlite3_system_errno`, or of a file-system call), 0 when unknown.
    public let systemErrno: Int32
    /// What to do about it.
    public let remedy: String

    /// True when retrying later may succeed: keep the rows in memory, ``SQLiteReadingStore/reopen()``, insert again.
    public var isTransient: Bool { code.isTransient }

    /// One line: `<path>: <detail> (SQLite <code>: <message>; SQL: `…`). Fix: <remedy>`.
    public var description: String {
        var text = "\(path): \(detail)"
        var cause: [String] = []
        if let sqliteCode { cause.append("SQLite \(sqliteCode): \(sqliteMessage ?? SQLiteError.Code(rawValue: sqliteCode).description)") }
        if systemErrno != 0 { cause.append("errno \(systemErrno) \(String(cString: strerror(systemErrno)))") }
        if let sql { cause.append("SQL: `\(sql.oneLine)`") }
        if !cause.isEmpty { text += " (\(cause.joined(separator: "; ")))" }
        return text + ". Fix: " + remedy
    }

    init(_ code: Code, path: String, detail: String, sql: String? = nil, sqliteMessage: String? = nil,
         sqliteCode: Int32? = nil, systemErrno: Int32 = 0, remedy: String? = nil) {
        self.code = code; self.path = path; self.detail = detail; self.sql = sql
        self.sqliteMessage = sqliteMessage; self.sqliteCode = sqliteCode; self.systemErrno = systemErrno
        self.remedy = remedy ?? Self.remedy(for: code, path: path)
    }

    /// Wraps a failed SQLite call. The code comes from SQLite's result code and errno when they name a transient
    /// cause (or damage), else it is `fallback`, the kind of work that failed (`.write`, `.read`, `.open`, `.schema`).
    init(_ fallback: Code, path: String, detail: String, _ error: SQLiteError) {
        self.init(Self.classify(error) ?? fallback, path: path, detail: detail, sql: error.sql,
                  sqliteMessage: error.message, sqliteCode: error.code.rawValue, systemErrno: error.systemErrno)
    }

    /// A failed file-system call (`mkdir`, `rename`): the code comes from `errno`.
    init(errno number: Int32, path: String, detail: String) {
        self.init(Self.classify(errno: number) ?? .open, path: path, detail: detail, systemErrno: number)
    }

    /// The transient (or damage) code an SQLite failure stands for, nil when it is none of them.
    ///
    /// The errno decides first: SQLite reports a read-only filesystem as `SQLITE_CANTOPEN` (it cannot create the
    /// `-shm` file) or `SQLITE_IOERR_*` with `EROFS`, and a full disk sometimes as `SQLITE_IOERR_WRITE` with `ENOSPC`.
    static func classify(_ error: SQLiteError) -> Code? {
        let primary = error.code.primary
        if primary == .cantOpen || primary == .ioErr, let code = classify(errno: error.systemErrno) { return code }
        switch primary {
        case .readOnly: return .readOnly
        case .full: return .full
        case .busy, .locked: return .busy
        case .ioErr: return .ioError
        case .corrupt, .notADatabase: return .corrupt
        default: return nil
        }
    }

    /// The transient code an `errno` stands for, nil when it is none of them.
    static func classify(errno number: Int32) -> Code? {
        switch number {
        case EROFS, EACCES, EPERM: .readOnly
        case ENOSPC, EDQUOT: .full
        case EIO: .ioError
        default: nil
        }
    }

    private static func remedy(for code: Code, path: String) -> String {
        let folder = DatabaseFiles.parentFolder(of: path)
        switch code {
        case .readOnly:
            return "make \(folder) and the database files writable; if the filesystem went read-only (`mount`, `dmesg`: "
                + "an SD card is remounted read-only after errors), repair it, then reopen the store and insert the kept rows again"
        case .full:
            return "free space on the filesystem of \(folder) (`df -h \(folder)`) or shorten persistence_interval_sec, "
                + "then insert the kept rows again"
        case .busy:
            return "another process held the write lock for more than 5 s; only clemap-edge may write this file "
                + "(readers such as `sqlite3` are fine in WAL mode); retry"
        case .ioError:
            return "the storage failed (`dmesg`); retry once it recovers, and replace the SD card if this repeats"
        case .corrupt:
            return "reopen the store (or restart the service): a damaged file is moved aside to <name>.corrupt-<UTC time> "
                + "and a new database is started"
        case .newerSchema:
            return "run the clemap-edge version that wrote this file, or move the file aside to start a new database"
        case .closed:
            return "reopen the store before using it"
        case .schema:
            return "the migration was rolled back and the file is unchanged; report this message with the SQL"
        case .open:
            return "check that \(folder) is a folder clemap-edge can create and enter, and that the path names a file"
        default:
            return "check the file with `sqlite3 \(path) 'PRAGMA integrity_check'`; if it prints ok, report this message with the SQL"
        }
    }
}
