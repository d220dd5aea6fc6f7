// SPDX-License-Identifier: Apache-2.0
import Logging
import MeterReadings
@testable import MeterStore
import MeterTesting
import Testing

/// The query of the original readers (original-system.md §4); it must keep working and return watts.
let originalQuery = "SELECT time, l1_p, l2_p, l3_p FROM meter_data ORDER BY time DESC LIMIT 10"

@Suite("The original readers' query, from other connections and processes, while the store is open")
struct ExternalReaderTests {
    let folder = TemporaryFolder()
    let rows = (0..<12).map { makeRow(time: 1_700_000_000 + 60 * Int64($0), k: Double($0)) }

    /// The 10 newest rows as (time, l1_p, l2_p, l3_p).
    var expected: [[Double]] {
        rows.suffix(10).reversed().map { [Double($0.time), $0.phases[0].p, $0.phases[1].p, $0.phases[2].p] }
    }

    func openStore() throws -> SQLiteReadingStore {
        let store = try SQLiteReadingStore(path: folder.file("data_gathering.db"), logger: quietLogger)
        try store.insert(Array(rows[..<6]))
        for row in rows[6...] { try store.insert(row) }
        return store
    }

    @Test("a second, independent SQLiteConnection")
    func secondConnection() throws {
        let store = try openStore()
        defer { store.close() }
        let reader = try SQLiteConnection(path: store.path, flags: [.readOnly])
        let statement = try reader.prepare(originalQuery)
        var got: [[Double]] = []
        var types: Set<String> = []
        while try statement.step() {
            got.append([Double(statement.int64(at: 0))] + (1...3).map { statement.double(at: $0) })
            for column in Int32(1)...3 {
                if case .real = statement.value(at: column) { types.insert("real") } else { types.insert("other") }
            }
        }
        #expect(got == expected)
        #expect(types == ["real"])
    }

    @Test("the sqlite3 command-line tool", .enabled(if: installed("sqlite3")))
    func sqlite3Tool() throws {
        let store = try openStore()
        defer { store.close() }
        let result = try run(["sqlite3", store.path, originalQuery])
        #expect(result.status == 0, "\(result.errors)")
        let got = result.output.split(separator: "\n").map { $0.split(separator: "|").map { Double(String($0)) ?? .nan } }
        #expect(got == expected)
        let types = try run(["sqlite3", store.path, "SELECT DISTINCT typeof(l1_p), typeof(l2_p), typeof(l3_p) FROM meter_data"])
        #expect(types.output == "real|real|real\n")
        // The store still writes while and after the other process reads.
        #expect(try store.insert(makeRow(time: 1_800_000_000)) == .inserted)
    }

    @Test("Python's sqlite3 module returns floats", .enabled(if: installed("python3")))
    func python() throws {
        let store = try openStore()
        defer { store.close() }
        let script = """
            import sqlite3, sys
            connection = sqlite3.connect(sys.argv[1])
            for row in connection.execute(sys.argv[2]):
                print(row[0], *(type(value).__name__ + ":" + repr(value) for value in row[1:]))
            """
        let result = try run(["python3", "-c", script, store.path, originalQuery])
        #expect(result.status == 0, "\(result.errors)")
        var got: [[Double]] = []
        for line in result.output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            var values = [Double(String(fields[0])) ?? .nan]
            for field in fields.dropFirst() {
                #expect(field.hasPrefix("float:"), "Python got \(field), not a float")
                values.append(Double(String(field.dropFirst("float:".count))) ?? .nan)
            }
            got.append(values)
        }
        #expect(got == expected)
    }
}
