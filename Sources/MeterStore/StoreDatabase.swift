// SPDX-License-Identifier: Apache-2.0
import FoundationEssentials
internal import GRDB

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
    /// GRDB's value for a parameter. An empty `.blob` stays a zero-length blob (a test checks it: SQLite stores a
    /// blob bound with a NULL pointer as NULL).
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
    /// Binds `values` to the parameters `1…`.
    func bind(_ values: [SQLiteValue]) throws {
        try setArguments(StatementArguments(values.map(\.databaseValue)))
    }
}
