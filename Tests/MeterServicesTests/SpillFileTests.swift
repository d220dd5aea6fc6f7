// SPDX-License-Identifier: Apache-2.0

import Foundation
import MeterFiles
import MeterReadings
import MeterServices
import MeterTesting
import Testing

/// The spill file on its own: where rows go, what a failure says, and that every field comes back.
@Suite struct SpillFileTests {
    func row(_ minute: Int64) -> MinuteRow {
        let phase = Reading.PhaseValues(v: 230.125, i: 1.5, p: 345.5, q: -20.25, s: 346.75, pf: 0.996)
        let energy = MinuteRow.PhaseEnergy(whImport: 5.75, whExport: 0.125, varh: -0.25, vah: 5.875)
        return MinuteRow(time: minute * 60, durationSeconds: 60, phases: [phase, phase, phase], freq: 50.0009765625,
                         energy: [energy, energy, energy], samples: 60, flags: [], temperature: 41.5, inputB: 1)
    }

    @Test func savesBesideTheDatabaseAndLoadsEveryFieldBack() throws {
        let folder = TemporaryFolder()
        let spill = SpillFile(databasePath: folder.file("meter.db"), stateDirectory: folder.file("state"))
        let rows = [row(29_916_667), row(29_916_668)]
        #expect(try spill.save(Array(rows[..<1])) == folder.file("meter.db.spill"))
        #expect(try spill.save(Array(rows[1...])) == folder.file("meter.db.spill"))  // appended, not replaced
        let loaded = spill.load()
        #expect(loaded.count == 1)
        #expect(loaded.first?.rows == rows)
        #expect(loaded.first?.errors.isEmpty == true)
    }

    @Test func fallsBackToTheStateDirectoryWhenTheDatabaseFolderCannotBeWritten() throws {
        let folder = TemporaryFolder()
        // The database's "folder" is a regular file, so nothing can be created beside the database.
        let blocker = folder.write("not-a-folder", "x")
        let spill = SpillFile(databasePath: blocker + "/meter.db", stateDirectory: folder.file("state"))
        #expect(try spill.save([row(1)]) == folder.file("state/meter.db.spill"))
    }

    @Test func aFailureEverywhereNamesEveryLocationAndWhy() throws {
        let folder = TemporaryFolder()
        let blocker = folder.write("not-a-folder", "x")
        let spill = SpillFile(databasePath: blocker + "/meter.db", stateDirectory: blocker + "/state")
        do {
            _ = try spill.save([row(1)])
            Issue.record("saved although no location can be written")
        } catch let failure as AtomicFile.Failure {
            #expect(failure.detail.contains(blocker + "/meter.db.spill: "), "\(failure.detail)")
            #expect(failure.detail.contains(blocker + "/state/meter.db.spill: "), "\(failure.detail)")
            #expect(failure.detail.contains("Not a directory"), "\(failure.detail)")
            #expect(failure.errno == ENOTDIR)
        }
    }

    @Test func aLineThatIsNotARowIsReportedWithItsLineNumber() throws {
        let folder = TemporaryFolder()
        let spill = SpillFile(databasePath: folder.file("meter.db"), stateDirectory: nil)
        _ = try spill.save([row(1)])
        let path = folder.file("meter.db.spill")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\": \"soon\"}\n".utf8))
        handle.closeFile()
        let loaded = try #require(spill.load().first)
        #expect(loaded.rows.count == 1)
        #expect(loaded.errors.map(\.line) == [2])
        #expect(loaded.errors.first?.description.hasPrefix(path + ":2: not a meter_data row") == true)
    }
}
