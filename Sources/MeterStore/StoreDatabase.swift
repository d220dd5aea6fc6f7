// SPDX-License-Identifier: Apache-2.0
import Foundation
internal import GRDB
internal import GRDBSQLite

/// A value of an SQLite column or parameter. A NaN `Double` is stored by SQLite as NULL.
public enum SQLiteValue: Hashable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    /// Bytes, e.g. a feature's packed series.
    case blob([UInt8])
    case null
}

/// A feature's access to its own tables inside ``SQLiteReadingStore/read(_:_:)`` or
/// ``SQLiteReadingStore/write(_:_:)``: SQL with `?` parameters, rows as ``SQLiteValue``s.
///
/// Valid only inside the closure it is handed to (it borrows one of GRDB's connections): do not keep it.
public struct StoreDatabase {
    let db: Database
    /// The database file, for errors.
    let path: String
    init(_ db: Database, path: String) { self.db = db; self.path = path }

    /// Runs a statement that returns no rows. - Returns: rows changed (INSERT, UPDATE, DELETE).
    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLiteValue] = []) throws(StoreError) -> Int {
        do {
            return try capturingErrno(db, path: path) {
                let statement = try db.makeStatement(sql: sql)
                try statement.bind(arguments)
                try statement.execute()
                return db.changesCount
            }
        } catch {
            throw StoreError(.write, path: path, detail: "cannot run a feature's statement", any: error)
        }
    }

    /// Runs a query. - Returns: its rows, each the values of its columns in order.
    public func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws(StoreError) -> [[SQLiteValue]] {
        do {
            return try capturingErrno(db, path: path) {
                let statement = try db.makeStatement(sql: sql)
                try statement.bind(arguments)
                return try Row.fetchAll(statement).map { row in row.databaseValues.map(SQLiteValue.init) }
            }
        } catch {
            throw StoreError(.read, path: path, detail: "cannot run a feature's query", any: error)
        }
    }
}

extension SQLiteValue {
    /// GRDB's value for a parameter. An empty `.blob` cannot go through GRDB (it binds empty `Data` as NULL): see
    /// ``GRDB/Statement/bind(_:)``.
    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let v): v.databaseValue
        case .blob(let v): Data(v).databaseValue
        case .null: .null
        }
    }

    /// The column as stored.
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let v): self = .text(v)
        case .blob(let v): self = .blob([UInt8](v))
        }
    }
}

extension Statement {
    /// Binds `values` to the parameters `1…`. GRDB binds an empty `Data` with a nil pointer, which SQLite stores as
    /// NULL; an empty `.blob` is bound again here as a zero-length blob, so it reads back as bytes, not NULL.
    /// The corresponding C function is `sqlite3_bind_zeroblob`.
    func bind(_ values: [SQLiteValue]) throws {
        try setArguments(StatementArguments(values.map(\.databaseValue)))
        for (index, value) in values.enumerated() where value == .blob([]) {
            let code = sqlite3_bind_zeroblob(sqliteStatement, Int32(index + 1), 0)
            precondition(code == SQLITE_OK, "sqlite3_bind_zeroblob parameter \(index + 1) of `\(sql)`: \(code) (a MeterStore bug)")
        }
    }
}
