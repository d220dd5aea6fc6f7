// SPDX-License-Identifier: Apache-2.0
internal import CSQLite

/// A value of an SQLite column or parameter. A NaN `Double` is stored by SQLite as NULL.
public enum SQLiteValue: Hashable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    /// Bytes, e.g. a feature's packed series.
    case blob([UInt8])
    case null
}

/// A compiled statement (`sqlite3_stmt *`) of one ``SQLiteConnection``, finalized at deinit.
///
/// Bind parameters by 1-based index, ``step()`` through the rows, read columns by 0-based index.
/// Same thread rule as its connection, which it keeps alive.
final class Statement {
    /// The SQL text, for error messages.
    let sql: String
    private let handle: OpaquePointer
    private let connection: SQLiteConnection

    init(_ handle: OpaquePointer, sql: String, connection: SQLiteConnection) {
        self.handle = handle; self.sql = sql; self.connection = connection
    }

    /// The corresponding C function is `sqlite3_finalize`.
    deinit { sqlite3_finalize(handle) }

    // MARK: Parameters (1-based)

    /// The corresponding C function is `sqlite3_bind_int64`.
    func bind(_ value: Int64, at index: Int32) { check(sqlite3_bind_int64(handle, index, value), index) }
    /// The corresponding C function is `sqlite3_bind_double`.
    func bind(_ value: Double, at index: Int32) { check(sqlite3_bind_double(handle, index, value), index) }
    /// The corresponding C function is `sqlite3_bind_text` with `SQLITE_TRANSIENT` (SQLite copies the bytes).
    func bind(_ value: String, at index: Int32) {
        check(sqlite3_bind_text(handle, index, value, -1, csqlite_transient()), index)
    }
    /// The corresponding C function is `sqlite3_bind_blob` with `SQLITE_TRANSIENT` (SQLite copies the bytes).
    func bind(_ value: [UInt8], at index: Int32) {
        check(value.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), csqlite_transient()) }, index)
    }
    /// The corresponding C function is `sqlite3_bind_null`.
    func bindNull(at index: Int32) { check(sqlite3_bind_null(handle, index), index) }

    /// Binds `value` to parameter `index`.
    func bind(_ value: SQLiteValue, at index: Int32) {
        switch value {
        case .integer(let v): bind(v, at: index)
        case .real(let v): bind(v, at: index)
        case .text(let v): bind(v, at: index)
        case .blob(let v): bind(v, at: index)
        case .null: bindNull(at: index)
        }
    }

    /// Binds `values` to parameters `first`, `first + 1`, ….
    func bind(_ values: [SQLiteValue], from first: Int32 = 1) {
        for (offset, value) in values.enumerated() { bind(value, at: first + Int32(offset)) }
    }

    /// Binding fails only for an index out of range or a statement in use (bugs here) or out of memory; like
    /// GRDB, treat it as impossible rather than make every bind throw.
    private func check(_ result: Int32, _ index: Int32) {
        precondition(result == SQLITE_OK, "sqlite3_bind parameter \(index) of `\(sql)`: \(connection.error(result, sql: sql))")
    }

    // MARK: Running

    /// Runs to the next row: true when a row is ready to read, false when done.
    /// The corresponding C function is `sqlite3_step`.
    func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let result: throw connection.error(result, sql: sql)
        }
    }

    /// Makes the statement ready to run again and clears its bindings. The corresponding C functions are
    /// `sqlite3_reset` (its result repeats the last `step` error, already thrown) and `sqlite3_clear_bindings`.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns (0-based)

    /// True when the column is NULL. The corresponding C function is `sqlite3_column_type`.
    func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
    /// The corresponding C function is `sqlite3_column_int64` (0 for NULL).
    func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    /// The corresponding C function is `sqlite3_column_double` (0 for NULL).
    func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }
    /// The corresponding C function is `sqlite3_column_text`; nil for NULL.
    func string(at index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        return String(cString: text)
    }

    /// The corresponding C functions are `sqlite3_column_blob` and `sqlite3_column_bytes`; empty for NULL.
    func bytes(at index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let start = sqlite3_column_blob(handle, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// The column as stored, by `sqlite3_column_type`.
    func value(at index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer(int64(at: index))
        case SQLITE_FLOAT: .real(double(at: index))
        case SQLITE_NULL: .null
        case SQLITE_BLOB: .blob(bytes(at: index))
        default: .text(string(at: index) ?? "")
        }
    }

    /// Number of result columns. The corresponding C function is `sqlite3_column_count`.
    var columnCount: Int32 { sqlite3_column_count(handle) }
}
