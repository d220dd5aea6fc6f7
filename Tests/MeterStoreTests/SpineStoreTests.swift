// SPDX-License-Identifier: Apache-2.0
import ADE9000
import Dispatch
import Foundation
import Logging
import MeterReadings
@testable import MeterStore
import MeterTesting
import Synchronization
import Testing

/// The store as the features will use it: readers beside the writer, migrations per feature, an older file
/// upgraded in place, retention that asks before deleting.
@Suite("Store: readers, feature migrations, upgrade, retention")
struct SpineStoreTests {
    let folder = TemporaryFolder()

    @Test("a reader reads rows while the writer holds an open transaction, without waiting for its commit")
    func readerDoesNotWaitForTheWriter() throws {
        let store = try SQLiteReadingStore(path: folder.file("data.db"), logger: quietLogger)
        defer { store.close() }
        try store.insert((0..<5).map { makeRow(time: 60 * Int64($0)) })
        let seen = Mutex<(count: Int, latest: Int64?, seconds: Double)?>(nil)
        try store.write("hold the write lock") { db throws(StoreError) in
            // Uncommitted: a row the reader must not see yet.
            try db.execute("INSERT INTO meter_data (time, samples, flags) VALUES (?, 0, 0)", [.integer(6000)])
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let started = DispatchTime.now().uptimeNanoseconds
                let count = try? store.count()
                let latest = try? store.latest(limit: 1).first?.time
                seen.withLock { $0 = (count ?? -1, latest, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9) }
                done.signal()
            }
            // With one connection for both, the reader would wait here until after the commit, and time out.
            #expect(done.wait(timeout: .now() + 5) == .success, "the reader waited for the writer")
        }
        let result = try #require(seen.withLock { $0 })
        #expect(result.count == 5 && result.latest == 240, "the reader sees the last commit, not the open transaction")
        #expect(result.seconds < 1, "\(result.seconds) s")
        #expect(try store.count() == 6)
    }

    @Test("the first release's database upgrades in place and keeps every row and total")
    func releaseFixtureUpgrades() throws {
        let fixture = Fixtures.repositoryRoot + "/Tests/MeterStoreTests/Fixtures/release-0.1.0.db"
        let path = folder.file("old.db")
        #expect(FileManager.default.fileExists(atPath: fixture), "the committed fixture")
        try FileManager.default.copyItem(atPath: fixture, toPath: path)
        // What the old release stored, read without the store.
        let before = try Raw(path)
        #expect(before.int("PRAGMA user_version") == 1 && before.int("SELECT count(*) FROM meter_data") == 20)
        let rowsBefore = before.strings("SELECT * FROM meter_data ORDER BY time")
        let totalsBefore = before.strings("SELECT * FROM energy_totals ORDER BY phase")
        before.close()

        let recorder = LogRecorder()
        let feature = StoreSchema(feature: "forecast", migrations: [
            StoreMigration("1 forecast table", sql: "CREATE TABLE forecast (issued INTEGER NOT NULL, target INTEGER NOT NULL, value REAL)"),
        ])
        let store = try SQLiteReadingStore(path: path, logger: recorder.logger, features: [feature])
        #expect(try store.count() == 20)
        let stored = try store.rows(from: 0, to: .max)
        #expect(abs(try store.totals()[.a]!.whImport - stored.reduce(0) { $0 + $1.energy[0].whImport }) < 1e-9)
        // The new row lands on top of the old ones; nothing old moved.
        try store.insert(makeRow(time: stored.last!.time + 60))
        store.close()

        let after = try Raw(path)
        defer { after.close() }
        #expect(after.int("PRAGMA user_version") == 2)
        // Every old row and value as it was; the power-quality columns added after them, NULL (unknown).
        let original = expectedMeterDataColumns.joined(separator: ", ")
        #expect(after.strings("SELECT \(original) FROM meter_data ORDER BY time LIMIT 20") == rowsBefore)
        #expect(after.int("SELECT count(*) FROM meter_data WHERE time <= \(stored[19].time) AND coalesce(\(powerQualityColumns.joined(separator: ", "))) IS NOT NULL") == 0)
        #expect(after.strings("SELECT feature || '/' || name FROM store_migrations ORDER BY feature, name")
                == ["forecast/1 forecast table", "meter_data/1 minute rows, conflicts, lifetime totals",
                    "meter_data/2 power quality: THD, neutral current"])
        #expect(after.int("SELECT count(*) FROM forecast") == 0)
        #expect(totalsBefore.count == 3 && after.strings("SELECT phase FROM energy_totals") == ["1", "2", "3"])
        #expect(recorder.entries(.info).contains { $0.hasPrefix("Upgraded the database to named migrations") })
        // Opening again applies nothing.
        let again = LogRecorder()
        try SQLiteReadingStore(path: path, logger: again.logger, features: [feature]).close()
        #expect(!again.entries(.info).contains { $0.hasPrefix("Applied") || $0.hasPrefix("Upgraded") })
    }

    @Test("a feature's later migration applies in order; one this build does not know refuses the file untouched")
    func featureMigrations() throws {
        let path = folder.file("data.db")
        let v1 = StoreSchema(feature: "exporter", migrations: [StoreMigration("1 outbox", sql: "CREATE TABLE outbox (hour INTEGER PRIMARY KEY)")])
        try SQLiteReadingStore(path: path, logger: quietLogger, features: [v1]).close()
        let v2 = StoreSchema(feature: "exporter", migrations: v1.migrations + [
            StoreMigration("2 attempts", sql: "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0"),
        ])
        let store = try SQLiteReadingStore(path: path, logger: quietLogger, features: [v2])
        _ = try store.write("queue an hour") { db throws(StoreError) in try db.execute("INSERT INTO outbox (hour) VALUES (?)", [.integer(7)]) }
        #expect(try store.read("read the outbox") { db throws(StoreError) in try db.query("SELECT hour, attempts FROM outbox") }
                == [[.integer(7), .integer(0)]])
        store.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // An older build, knowing only the first migration, meets the second.
        #expect(throws: StoreError.self) { try SQLiteReadingStore(path: path, logger: quietLogger, features: [v1]) }
        do { _ = try SQLiteReadingStore(path: path, logger: quietLogger, features: [v1]) } catch {
            #expect(error.code == .newerSchema && error.description.contains("2 attempts"), "\(error)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test("a feature's values go in and come back as written: integers, reals, text, bytes (empty too) and NULL")
    func featureValuesRoundTrip() throws {
        let feature = StoreSchema(feature: "packed", migrations: [StoreMigration("1 days", sql: "CREATE TABLE days (day INTEGER PRIMARY KEY, n REAL, label TEXT, bytes BLOB)")])
        let store = try SQLiteReadingStore(path: folder.file("data.db"), logger: quietLogger, features: [feature])
        defer { store.close() }
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0]  // NULs inside and at the end: bytes, not a C string
        let written: [[SQLiteValue]] = [
            [.integer(20_000), .real(-0.125), .text("é\u{0}x"), .blob(bytes)],
            [.integer(20_001), .null, .null, .null],
        ]
        try store.write("write days") { db throws(StoreError) in
            for row in written { try db.execute("INSERT INTO days (day, n, label, bytes) VALUES (?, ?, ?, ?)", row) }
        }
        let read = try store.read("read days") { db throws(StoreError) in try db.query("SELECT day, n, label, bytes FROM days ORDER BY day") }
        #expect(read[1] == written[1])
        #expect(read[0][0] == written[0][0] && read[0][1] == written[0][1] && read[0][3] == written[0][3])
    }

    @Test("retention deletes nothing a feature still claims, and everything older")
    func retentionAsksClaims() throws {
        struct Claim: RetentionClaim {
            let claimant = "exporter"
            let oldest: Int64?
            func oldestTimeNeeded(_ store: any ReadingStore) throws -> Int64? { oldest }
        }
        struct Unsure: RetentionClaim {
            let claimant = "confused"
            func oldestTimeNeeded(_ store: any ReadingStore) throws -> Int64? { throw StoreError(.read, path: "x", detail: "cannot tell") }
        }
        let store = try SQLiteReadingStore(path: folder.file("data.db"), logger: quietLogger)
        defer { store.close() }
        try store.insert((0..<10).map { makeRow(time: 60 * Int64($0)) })
        var outcome = try store.applyRetention(keepingFrom: 420, claims: [Unsure()])
        #expect(outcome.deleted == 0 && outcome.heldBy == ["confused"])
        outcome = try store.applyRetention(keepingFrom: 420, claims: [Claim(oldest: 180), Claim(oldest: nil)])
        #expect(outcome.deleted == 3 && outcome.effectiveCutoff == 180 && outcome.heldBy == ["exporter"])
        #expect(try store.rows(from: 0, to: .max).first?.time == 180)
        outcome = try store.applyRetention(keepingFrom: 420, claims: [Claim(oldest: nil)])
        #expect(outcome.deleted == 4 && outcome.heldBy.isEmpty)
        #expect(try store.count() == 3)
    }

    @Test("a row flagged unsynchronised goes to meter_data_conflicts, never meter_data")
    func unsynchronisedRowsGoAside() throws {
        let store = try SQLiteReadingStore(path: folder.file("data.db"), logger: quietLogger)
        defer { store.close() }
        #expect(try store.insert(makeRow(time: 60, flags: [.unsynchronised, .partial])) == .conflict)
        #expect(try store.count() == 0 && store.conflicts().count == 1)
    }

    @Test("a row's JSON form reads back bit for bit (the spill file's format)")
    func rowJSONRoundTrip() throws {
        var row = makeRow(time: 1_700_000_040, k: 1.0 / 3)
        row.phases[2].pf = .nan
        row.temperature = nil
        let data = try JSONEncoder().encode(row)
        let back = try JSONDecoder().decode(MinuteRow.self, from: data)
        #expect(Columns.sameStoredValues(back, row))
        #expect(back.phases[0].p.bitPattern == row.phases[0].p.bitPattern && back.temperature == nil && back.phases[2].pf.isNaN)
        let keys = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys
        #expect(Set(keys) == Set(MinuteRow.columns))
    }
}

/// A plain SQLite connection to look at a file from outside the store.
private struct Raw {
    let connection: SQLiteConnection
    init(_ path: String) throws { connection = try SQLiteConnection(path: path, flags: [.readOnly]) }
    func int(_ sql: String) -> Int64 { (try? connection.int64(sql)) ?? -1 }
    /// Every row as one string, columns joined by `|` (NULL as `∅`).
    func strings(_ sql: String) -> [String] {
        guard let statement = try? connection.prepare(sql) else { return [] }
        var rows: [String] = []
        while (try? statement.step()) == true {
            rows.append((0..<statement.columnCount).map { i -> String in
                switch statement.value(at: i) {
                case .integer(let v): "\(v)"
                case .real(let v): "\(v)"
                case .text(let v): v
                case .blob(let v): "\(v.count) bytes"
                case .null: "∅"
                }
            }.joined(separator: "|"))
        }
        return rows
    }
    func close() { connection.close() }
}
