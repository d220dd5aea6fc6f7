// SPDX-License-Identifier: Apache-2.0
import ADE9000
import Logging
import MeterReadings
@testable import MeterStore
import MeterTesting
import Testing

@Suite("Insert and read")
struct InsertReadTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("data.db") }

    @Test("every field reads back exactly; NULL-able fields and NaN round-trip")
    func roundTrip() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let ugly = MinuteRow(
            time: 1_700_000_040, durationSeconds: 59.987654321,
            phases: [.init(v: 230.123456789, i: 0.1 + 0.2, p: -1234.5678901, q: 1.0 / 3, s: 1e-7, pf: -0.999999),
                     .init(v: 229.5, i: 12.25, p: 2817.0000001, q: -0.0001, s: 2817.5, pf: 0.99982),
                     .init(v: 231.75, i: 0, p: 0, q: 0, s: 0, pf: .nan)],
            freq: 49.98765,
            energy: [.init(whImport: 0, whExport: 20.576131, varh: 0.00555, vah: 20.58),
                     .init(whImport: 46.950000001, whExport: 0, varh: -0.0000017, vah: 46.958333),
                     .init(whImport: 0, whExport: 0, varh: 0, vah: 0)],
            samples: 58, flags: [.partial, .missedSamples, .clockJump], temperature: 43.21, inputB: 1)
        let plain = MinuteRow(time: 1_700_000_100, durationSeconds: 60, phases: makeRow(time: 0).phases, freq: 50,
                              energy: makeRow(time: 0).energy, samples: 60, flags: [], temperature: nil, inputB: nil)

        #expect(try store.insert(ugly) == .inserted)
        #expect(try store.insert(plain) == .inserted)

        let back = try #require(try store.row(at: ugly.time))
        #expect(Columns.sameStoredValues(back, ugly))
        #expect(back.phases[2].pf.isNaN)
        var comparable = back, expected = ugly
        comparable.phases[2].pf = 0; expected.phases[2].pf = 0
        #expect(comparable == expected, "every field bit for bit")

        #expect(try store.row(at: plain.time) == plain)
        #expect(try store.row(at: plain.time)?.temperature == nil)
        #expect(try store.row(at: plain.time)?.inputB == nil)
        #expect(try store.row(at: 1) == nil)
        #expect(try store.count() == 2)
    }

    @Test("latest is newest first; rows(from:to:) is [from, to) ascending")
    func readAPI() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let rows = (0..<10).map { makeRow(time: 1_700_000_000 + 60 * Int64($0), k: Double($0)) }
        #expect(try store.insert(rows.shuffled()).allSatisfy { $0 == .inserted })

        #expect(try store.latest(limit: 3) == [rows[9], rows[8], rows[7]])
        #expect(try store.latest(limit: 100) == rows.reversed())
        #expect(try store.rows(from: rows[2].time, to: rows[5].time) == [rows[2], rows[3], rows[4]])
        #expect(try store.rows(from: rows[2].time + 1, to: rows[3].time + 1) == [rows[3]])
        #expect(try store.rows(from: 0, to: rows[0].time).isEmpty)
        #expect(try store.integrityCheck() == "ok")
        #expect(store.path == path)
    }

    @Test("a row whose time is taken goes to meter_data_conflicts; nothing is overwritten; totals count both")
    func conflict() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let first = makeRow(time: 1_700_000_040, k: 1)
        let second = makeRow(time: 1_700_000_040, k: 2, flags: .clockJump)  // after the clock jumped back

        #expect(try store.insert(first) == .inserted)
        #expect(try store.insert(second) == .conflict)
        #expect(try store.row(at: first.time) == first)
        #expect(try store.count() == 1)
        #expect(try store.conflicts() == [second])

        // Inserting the same rows again (a retry after an error) changes nothing.
        #expect(try store.insert([first, second]) == [.duplicate, .duplicate])
        #expect(try store.conflicts() == [second])

        let third = makeRow(time: 1_700_000_040, k: 3)
        #expect(try store.insert(third) == .conflict)
        #expect(try store.conflicts() == [second, third])

        let totals = try store.totals(), expected = energySum([first, second, third])
        for phase in Phase.allCases { #expect(totals[phase] == expected[phase.rawValue]) }
    }

    @Test("insertAside stores rows with an untrusted time in meter_data_conflicts only, and counts their energy")
    func aside() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let rows = [makeRow(time: 60, k: 1), makeRow(time: 120, k: 2)]
        #expect(try store.insertAside(rows) == [.conflict, .conflict])
        #expect(try store.insertAside(rows) == [.duplicate, .duplicate])
        #expect(try store.count() == 0)
        #expect(try store.conflicts() == rows)
        #expect(try store.insert(rows[0]) == .inserted, "meter_data is still free at that time")
        let totals = try store.totals(), expected = energySum(rows + [rows[0]])
        for phase in Phase.allCases { #expect(totals[phase] == expected[phase.rawValue]) }
    }

    @Test("totals accumulate across close and reopen and equal the sum of the inserted rows' energy")
    func totalsSurviveRestarts() throws {
        let rows = (0..<8).map { makeRow(time: 60 * Int64($0), k: Double($0) * 1.5) }
        do {
            let store = try SQLiteReadingStore(path: path, logger: quietLogger)
            #expect(try store.insert(Array(rows[0..<3])) == [.inserted, .inserted, .inserted])
            store.close()
            #expect(throws: StoreError.self) { try store.count() }
            try store.reopen()
            try store.insert(rows[3])
        }
        do {
            let store = try SQLiteReadingStore(path: path, logger: quietLogger)
            try store.insert(Array(rows[4...]))
            let totals = try store.totals(), expected = energySum(rows)
            for phase in Phase.allCases { #expect(totals[phase] == expected[phase.rawValue], "\(phase)") }
            #expect(try store.count() == 8)
        }
        let connection = try SQLiteConnection(path: path, flags: [.readOnly])
        #expect(try connection.int64("SELECT DISTINCT updated FROM energy_totals") == rows[7].time)
    }

    @Test("retention deletes only rows older than the cut and never touches totals or conflicts")
    func retention() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let rows = (0..<10).map { makeRow(time: 1_000 + 60 * Int64($0), k: Double($0)) }
        try store.insert(rows)
        try store.insert(makeRow(time: rows[0].time, k: 99))  // a conflict for an old minute
        let totalsBefore = try store.totals()

        #expect(try store.deleteRows(olderThan: rows[4].time) == 4)
        #expect(try store.latest(limit: 100) == Array(rows[4...].reversed()))
        #expect(try store.deleteRows(olderThan: rows[4].time) == 0)
        #expect(try store.totals() == totalsBefore)
        #expect(try store.conflicts().count == 1)
    }

    @Test("a closed store throws .closed (permanent) until reopened")
    func closed() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        store.close()
        store.close()
        do {
            try store.insert(makeRow(time: 60))
            Issue.record("insert into a closed store succeeded")
        } catch {
            #expect(error.code == .closed)
            #expect(!error.isTransient)
            #expect(error.description.hasPrefix(path + ": "))
        }
        try store.reopen()
        #expect(try store.insert(makeRow(time: 60)) == .inserted)
    }
}
