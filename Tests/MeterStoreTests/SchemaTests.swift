// SPDX-License-Identifier: Apache-2.0
import Logging
@testable import MeterStore
import MeterReadings
import MeterTesting
import Testing

/// The vocabulary, written out here on purpose (not taken from `Columns`): the file layout other programs rely on.
let expectedMeterDataColumns = """
    time l1_v l2_v l3_v l1_i l2_i l3_i l1_p l2_p l3_p l1_q l2_q l3_q l1_s l2_s l3_s l1_pf l2_pf l3_pf freq \
    l1_wh_imp l2_wh_imp l3_wh_imp l1_wh_exp l2_wh_exp l3_wh_exp l1_varh l2_varh l3_varh l1_vah l2_vah l3_vah \
    duration_s samples flags temp_c input_b
    """.split(separator: " ").map(String.init)

/// The columns migration "2 power quality" adds to both tables, after the others (SQLite appends).
let powerQualityColumns = """
    l1_vthd l2_vthd l3_vthd l1_vthd_max l2_vthd_max l3_vthd_max l1_ithd l2_ithd l3_ithd l1_ithd_max l2_ithd_max l3_ithd_max n_i
    """.split(separator: " ").map(String.init)

/// `PRAGMA table_info`: (name, declared type, not null, primary key) per column.
func tableInfo(_ table: String, in path: String) throws -> [(name: String, type: String, notNull: Bool, key: Bool)] {
    let connection = try SQLiteConnection(path: path, flags: [.readOnly])
    let statement = try connection.prepare("PRAGMA table_info(\(table))")
    var columns: [(String, String, Bool, Bool)] = []
    while try statement.step() {
        columns.append((statement.string(at: 1) ?? "", statement.string(at: 2) ?? "", statement.int64(at: 3) != 0,
                        statement.int64(at: 5) != 0))
    }
    return columns
}

@Suite("Schema")
struct SchemaTests {
    @Test("a new file gets user_version 2, its migrations recorded by name, WAL, and exactly the vocabulary's columns, in a folder created for it")
    func newDatabase() throws {
        let folder = TemporaryFolder()
        let path = folder.file("DB/nested/data_gathering.db")
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        defer { store.close() }

        let connection = try SQLiteConnection(path: path, flags: [.readOnly])
        #expect(try connection.int64("PRAGMA user_version") == 2)
        #expect(try connection.strings("SELECT feature || '/' || name FROM store_migrations")
                == ["meter_data/1 minute rows, conflicts, lifetime totals", "meter_data/2 power quality: THD, neutral current"])
        #expect(try connection.strings("PRAGMA journal_mode") == ["wal"])
        #expect(try store.pragma("synchronous") == ["2"], "FULL")
        #expect(try store.pragma("busy_timeout") == ["5000"])

        let meterData = try tableInfo("meter_data", in: path)
        #expect(meterData.map(\.name) == expectedMeterDataColumns + powerQualityColumns)
        #expect(Columns.meterData == expectedMeterDataColumns + powerQualityColumns)
        #expect(MinuteRow.columns == expectedMeterDataColumns + powerQualityColumns)
        for column in meterData {
            let integer = ["time", "samples", "flags", "input_b"].contains(column.name)
            #expect(column.type == (integer ? "INTEGER" : "REAL"), "\(column.name)")
            #expect(column.key == (column.name == "time"), "\(column.name)")
        }

        let conflicts = try tableInfo("meter_data_conflicts", in: path)
        #expect(conflicts.map(\.name) == expectedMeterDataColumns + ["stored_at"] + powerQualityColumns)
        #expect(conflicts.allSatisfy { !$0.key }, "no primary key on time")
        let conflictTypes = Dictionary(uniqueKeysWithValues: conflicts.map { ($0.name, $0.type) })
        #expect(meterData.allSatisfy { conflictTypes[$0.name] == $0.type })

        let totals = try tableInfo("energy_totals", in: path)
        #expect(totals.map(\.name) == ["phase", "wh_imp", "wh_exp", "varh", "vah", "updated"])
        #expect(totals.map(\.type) == ["INTEGER", "REAL", "REAL", "REAL", "REAL", "INTEGER"])
        #expect(try connection.int64("SELECT count(*) FROM energy_totals") == 3)
        #expect(throws: SQLiteError.self) {
            let writer = try SQLiteConnection(path: path, flags: [.readWrite])
            try writer.execute("INSERT INTO energy_totals (phase) VALUES (4)")  // CHECK (phase IN (1, 2, 3))
        }
    }

    @Test("opening an up-to-date file again applies nothing and keeps the rows")
    func reopenExisting() throws {
        let folder = TemporaryFolder()
        let path = folder.file("data.db")
        let recorder = LogRecorder()
        do {
            let store = try SQLiteReadingStore(path: path, logger: recorder.logger)
            try store.insert(makeRow(time: 60))
        }
        #expect(recorder.entries(.info).filter { $0.hasPrefix("Applied database schema migration") }.count == 2)
        let again = try SQLiteReadingStore(path: path, logger: recorder.logger)
        #expect(try again.count() == 1)
        #expect(recorder.entries(.info).filter { $0.hasPrefix("Applied database schema migration") }.count == 2)
        #expect(recorder.entries(.warning).isEmpty)
    }
}
