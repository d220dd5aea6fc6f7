// SPDX-License-Identifier: Apache-2.0
import ADE9000
import Logging
import MeterReadings
@testable import MeterStore
import MeterTesting
import Testing

@Suite("Damaged, newer and read-only files")
struct RecoveryTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("data_gathering.db") }

    /// `data_gathering.db.corrupt-yyyyMMddTHHmmssZ`.
    func isCorruptName(_ name: String) -> Bool {
        let prefix = "data_gathering.db.corrupt-"
        guard name.hasPrefix(prefix) else { return false }
        let stamp = Array(name.dropFirst(prefix.count))
        return stamp.count == 16 && stamp[8] == "T" && stamp[15] == "Z"
            && (stamp[0..<8] + stamp[9..<15]).allSatisfy(\.isNumber)
    }

    enum Damage: String, CaseIterable { case garbage, brokenPage }

    @Test("a damaged file is moved aside with its contents intact; a new database works", arguments: Damage.allCases)
    func damagedFileMovedAside(_ damage: Damage) throws {
        switch damage {
        case .garbage:
            write(Array("this is not an SQLite database, just garbage bytes\n".utf8) + (0..<4000).map { UInt8($0 % 251) },
                  to: path)
            write(Array("a stale -wal of the garbage file".utf8), to: path + "-wal")
        case .brokenPage:
            do {
                let store = try SQLiteReadingStore(path: path, logger: quietLogger)
                try store.insert((0..<300).map { makeRow(time: 60 * Int64($0), k: Double($0)) })
            }
            var content = try #require(bytes(of: path))
            try #require(content.count > 6 * 4096)
            for i in (4 * 4096)..<(6 * 4096) { content[i] = 0xA5 }  // two b-tree pages overwritten
            write(content, to: path)
        }
        let original = try #require(bytes(of: path))
        let originalWAL = bytes(of: path + "-wal")
        let recorder = LogRecorder()

        let store = try SQLiteReadingStore(path: path, logger: recorder.logger)
        defer { store.close() }

        let aside = folder.names().filter(isCorruptName)
        try #require(aside.count == 1, "\(folder.names())")
        #expect(holds(folder.file(aside[0]), original), "moved, not changed")
        // Its -wal moves along; SQLite's opening may have created an empty one beside a file that had none.
        #expect(holds(folder.file(aside[0]) + "-wal", originalWAL) || (originalWAL == nil && holds(folder.file(aside[0]) + "-wal", [])))
        #expect(!DatabaseFiles.exists(path + "-wal") || bytes(of: path + "-wal") != originalWAL, "no stale -wal beside the new file")
        let warnings = recorder.entries(.warning)
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("Damaged database \(path) moved aside to \(folder.file(aside[0])); ") == true)
        #expect(warnings.first?.contains("db.path=\(path)") == true)
        #expect(warnings.first?.contains("db.moved_to=\(folder.file(aside[0]))") == true)

        #expect(try store.count() == 0)
        #expect(try store.insert(makeRow(time: 60)) == .inserted)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("a second damaged file gets its own name; nothing is overwritten")
    func twoDamagedFiles() throws {
        let garbage: [UInt8] = Array(repeating: 0x42, count: 2048)
        write(garbage, to: path)
        _ = try SQLiteReadingStore(path: path, logger: quietLogger)
        write(garbage + [1], to: path)
        _ = try SQLiteReadingStore(path: path, logger: quietLogger)
        write(garbage + [2], to: path)
        _ = try SQLiteReadingStore(path: path, logger: quietLogger)
        let aside = folder.names().filter { $0.hasPrefix("data_gathering.db.corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(aside.count == 3, "\(folder.names())")
        #expect(Set(aside.compactMap { bytes(of: folder.file($0)) }) == [garbage, garbage + [1], garbage + [2]])
    }

    @Test("a database from a newer schema throws .newerSchema and is left byte for byte (also its -wal)",
          arguments: [false, true])
    func newerSchema(withWAL: Bool) throws {
        do {
            let connection = try SQLiteConnection(path: path, flags: [.readWrite, .create])
            if withWAL { _ = try connection.strings("PRAGMA journal_mode = WAL") }
            try connection.execute("CREATE TABLE meter_data (time INTEGER PRIMARY KEY, future BLOB); PRAGMA user_version = 99")
            if withWAL {
                try connection.execute("INSERT INTO meter_data VALUES (60, x'00')")
                connection.setCheckpointOnClose(false)  // leave committed pages in the -wal
            }
        }
        let before = try #require(bytes(of: path))
        let walBefore = bytes(of: path + "-wal")
        #expect((walBefore?.count ?? 0 > 0) == withWAL)
        let namesBefore = folder.names()

        do {
            _ = try SQLiteReadingStore(path: path, logger: quietLogger)
            Issue.record("opened a schema-99 database")
        } catch StoreError.Code.newerSchema {
            // matched with ~=
        } catch {
            Issue.record("expected .newerSchema, got \(error)")
        }
        do {
            _ = try SQLiteReadingStore(path: path, logger: quietLogger)
        } catch {
            #expect(!error.isTransient)
            #expect(error.description.hasPrefix("\(path): the database has schema version 99"))
            #expect(error.description.contains(". Fix: "))
            #expect(!error.description.contains("\n"))
        }
        #expect(holds(path, before))
        #expect(holds(path + "-wal", walBefore))
        #expect(folder.names().filter { !$0.hasSuffix("-shm") } == namesBefore.filter { !$0.hasSuffix("-shm") })
    }

    @Test("writes to a read-only connection throw a transient .readOnly; after reopening writable no row is lost")
    func readOnlyConnection() throws {
        let first = makeRow(time: 60, k: 1), backlog = [makeRow(time: 120, k: 2), makeRow(time: 180, k: 3)]
        do {
            let store = try SQLiteReadingStore(path: path, logger: quietLogger)
            try store.insert(first)
        }

        let readOnly = try SQLiteReadingStore(path: path, logger: quietLogger, readOnly: true)
        do {
            try readOnly.insert(backlog)
            Issue.record("insert into a read-only database succeeded")
        } catch {
            #expect(error.code == .readOnly)
            #expect(error.isTransient)
            #expect(error.sqliteCode == 8)  // SQLITE_READONLY
            #expect(error.sql?.hasPrefix("INSERT INTO meter_data") == true || error.sql == "BEGIN IMMEDIATE")
            #expect(error.description.hasPrefix("\(path): cannot store 2 minute rows"))
        }
        #expect(throws: StoreError.self) { try readOnly.deleteRows(olderThan: 1_000) }
        #expect(try readOnly.latest(limit: 10) == [first], "reads still work")
        readOnly.close()

        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        #expect(try store.insert(backlog) == [.inserted, .inserted])
        #expect(try store.latest(limit: 10) == [backlog[1], backlog[0], first])
        let totals = try store.totals(), expected = energySum([first] + backlog)
        #expect(totals[.a] == expected[0] && totals[.b] == expected[1] && totals[.c] == expected[2])
    }

    @Test("a really read-only filesystem (tmpfs remounted ro, works as root): transient .readOnly, then reopen",
          .enabled(if: TmpfsMount.isPossible))
    func readOnlyFilesystem() throws {
        let mount = try TmpfsMount()
        let path = mount.path + "/DB/data_gathering.db"
        let first = makeRow(time: 60, k: 1), kept = makeRow(time: 120, k: 2)

        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        try store.insert(first)
        store.close()  // a filesystem with a file open for writing cannot be remounted read-only
        try mount.remount(readOnly: true)

        #expect { try store.reopen() } throws: { error in
            (error as? StoreError)?.code == .readOnly && (error as? StoreError)?.isTransient == true
        }
        #expect { _ = try SQLiteReadingStore(path: path, logger: quietLogger) } throws: { error in
            (error as? StoreError)?.code == .readOnly
        }
        for newFile in ["/DB/new.db", "/other/new.db"] {  // in the existing folder, and in one to create
            #expect { _ = try SQLiteReadingStore(path: mount.path + newFile, logger: quietLogger) } throws: { error in
                (error as? StoreError)?.code == .readOnly
            }
        }
        #expect(throws: StoreError.self) { try store.insert(kept) }

        try mount.remount(readOnly: false)
        try store.reopen()
        #expect(try store.insert([first, kept]) == [.duplicate, .inserted])
        #expect(try store.latest(limit: 10) == [kept, first])
        store.close()
    }

    @Test("a writer holding the lock past busy_timeout (5 s): transient .busy, nothing written")
    func busy() throws {
        let store = try SQLiteReadingStore(path: path, logger: quietLogger)
        let other = try SQLiteConnection(path: path, flags: [.readWrite])
        try other.execute("BEGIN IMMEDIATE")
        do {
            try store.insert(makeRow(time: 60))
            Issue.record("insert succeeded while another connection held the write lock")
        } catch StoreError.Code.busy {
            // matched with ~=
        } catch {
            Issue.record("expected .busy, got \(error)")
        }
        try other.execute("ROLLBACK")
        #expect(try store.count() == 0)
        #expect(try store.insert(makeRow(time: 60)) == .inserted)
    }
}

@Suite("Error classification")
struct ClassificationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var sqlite: Int32, errno: Int32, expected: StoreError.Code
        var testDescription: String { "SQLite \(sqlite) errno \(errno) → \(expected)" }
    }

    static let cases: [Case] = [
        Case(sqlite: 5, errno: 0, expected: .busy),                 // SQLITE_BUSY
        Case(sqlite: 6, errno: 0, expected: .busy),                 // SQLITE_LOCKED
        Case(sqlite: 5 | (2 << 8), errno: 0, expected: .busy),      // SQLITE_BUSY_SNAPSHOT
        Case(sqlite: 8, errno: 0, expected: .readOnly),             // SQLITE_READONLY
        Case(sqlite: 8 | (4 << 8), errno: 0, expected: .readOnly),  // SQLITE_READONLY_DBMOVED
        Case(sqlite: 13, errno: 0, expected: .full),                // SQLITE_FULL
        Case(sqlite: 10 | (3 << 8), errno: 28, expected: .full),    // SQLITE_IOERR_WRITE, ENOSPC
        Case(sqlite: 10 | (3 << 8), errno: 30, expected: .readOnly),// SQLITE_IOERR_WRITE, EROFS
        Case(sqlite: 10 | (3 << 8), errno: 5, expected: .ioError),  // SQLITE_IOERR_WRITE, EIO
        Case(sqlite: 10 | (4 << 8), errno: 0, expected: .ioError),  // SQLITE_IOERR_FSYNC
        Case(sqlite: 14, errno: 30, expected: .readOnly),           // SQLITE_CANTOPEN, EROFS
        Case(sqlite: 14, errno: 2, expected: .write),               // SQLITE_CANTOPEN, ENOENT: not transient
        Case(sqlite: 11, errno: 0, expected: .corrupt),             // SQLITE_CORRUPT
        Case(sqlite: 26, errno: 0, expected: .corrupt),             // SQLITE_NOTADB
        Case(sqlite: 19 | (5 << 8), errno: 0, expected: .write),    // SQLITE_CONSTRAINT_NOTNULL
    ]

    @Test(arguments: cases)
    func classify(_ c: Case) {
        let sqlite = SQLiteError(code: .init(rawValue: c.sqlite), message: "m", systemErrno: c.errno, sql: "SELECT 1", path: "/x.db")
        let error = StoreError(.write, path: "/x.db", detail: "cannot do it", sqlite)
        #expect(error.code == c.expected)
        #expect(error.isTransient == [.busy, .readOnly, .full, .ioError].contains(c.expected))
        #expect(c.expected ~= error as any Error)
        #expect(error.description.hasPrefix("/x.db: cannot do it (SQLite \(c.sqlite): m"))
        #expect(error.description.contains("SQL: `SELECT 1`). Fix: "))
    }
}
