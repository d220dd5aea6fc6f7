// SPDX-License-Identifier: Apache-2.0

/// A feature's access to its own tables inside ``SQLiteReadingStore/read(_:_:)`` or
/// ``SQLiteReadingStore/write(_:_:)``: SQL with `?` parameters, rows as ``SQLiteValue``s.
///
/// Valid only inside the closure it is handed to (it borrows the store's connection and lock): do not keep it.
public struct StoreDatabase {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }

    /// Runs a statement that returns no rows. - Returns: rows changed (INSERT, UPDATE, DELETE).
    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLiteValue] = []) throws(StoreError) -> Int {
        do throws(SQLiteError) {
            let statement = try connection.prepare(sql)
            statement.bind(arguments)
            while try statement.step() {}
            return connection.changes
        } catch {
            throw StoreError(.write, path: connection.path, detail: "cannot run a feature's statement", error)
        }
    }

    /// Runs a query. - Returns: its rows, each the values of its columns in order.
    public func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws(StoreError) -> [[SQLiteValue]] {
        do throws(SQLiteError) {
            let statement = try connection.prepare(sql)
            statement.bind(arguments)
            var rows: [[SQLiteValue]] = []
            while try statement.step() { rows.append((0..<statement.columnCount).map { statement.value(at: $0) }) }
            return rows
        } catch {
            throw StoreError(.read, path: connection.path, detail: "cannot run a feature's query", error)
        }
    }
}
