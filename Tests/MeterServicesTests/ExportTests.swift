// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Foundation
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import S3Client
import Synchronization
import Testing

/// A bucket in memory that can be taken down (transient) or made to refuse (permanent): the outbox's logic without a
/// network. The requests themselves are tested against moto's server (`Tests/S3ClientTests`, `integration/process`).
final class MemoryBucket: ObjectStorage {
    struct State { var objects: [String: [UInt8]] = [:]; var puts: [String] = []; var failure: S3Error? }
    let state = Mutex(State())

    static let down = S3Error(operation: "PUT", bucket: "b", key: nil, host: "127.0.0.1:1", status: nil, code: nil,
                              message: "Could not connect to server", isPermanent: false, remedy: "check the network")
    static let refused = S3Error(operation: "PUT", bucket: "b", key: nil, host: "127.0.0.1:1", status: 403, code: "SignatureDoesNotMatch",
                                 message: "The request signature we calculated does not match", isPermanent: true,
                                 remedy: "check [CLOUD] secret_access_key")

    var puts: [String] { state.withLock { $0.puts } }
    var objects: [String: [UInt8]] { state.withLock { $0.objects } }
    func fail(with error: S3Error?) { state.withLock { $0.failure = error } }

    func put(_ key: String, bytes: [UInt8], contentType: String) throws(S3Error) {
        try state.withLock { (s: inout State) throws(S3Error) in
            s.puts.append(key)
            if let failure = s.failure { throw failure }
            s.objects[key] = bytes
        }
    }
    func put(_ key: String, file path: String, contentType: String) throws(S3Error) {
        let bytes = Array(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").utf8)
        try put(key, bytes: bytes, contentType: contentType)
    }
    func get(_ key: String, maxBytes: Int) throws(S3Error) -> [UInt8] { state.withLock { $0.objects[key] ?? [] } }
    func download(_ key: String, to path: String, maxBytes: Int) throws(S3Error) -> Int64 { 0 }
    func head(_ key: String) throws(S3Error) -> S3Object? { nil }
    func list(prefix: String) throws(S3Error) -> [S3Object] { [] }
}

@Suite struct LakeLayoutTests {
    @Test func hourKeysArePartitionedByDeviceDateAndHourInUTC() {
        let start: Int64 = 1_796_533_200  // 2026-12-06 05:00:00 UTC
        #expect(LakeLayout.hourKey(prefix: "data/", device: "SE05000551", hourStart: start)
                == "data/minutes/device=SE05000551/date=2026-12-06/hour=05.csv")
        #expect(LakeLayout.hourKey(prefix: "", device: "X", hourStart: 0) == "minutes/device=X/date=1970-01-01/hour=00.csv")
    }

    @Test func theCSVHasTheColumnNamesAndEmptyNullsAndIsTheSameEveryTime() {
        let rows: [[SQLiteValue]] = [[.integer(60), .real(230.5), .null, .real(1e-5)]]
        let text = String(decoding: LakeLayout.csv(rows), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == Substring(MinuteRow.columns.joined(separator: ",")))
        #expect(lines[0].hasPrefix("time,l1_v,l2_v,l3_v,l1_i"))
        #expect(lines[1] == "60,230.5,,1e-05")
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(LakeLayout.csv(rows) == LakeLayout.csv(rows))
    }

    @Test func trainingDataIsTimeAndTargetWithGapsLeftOut() {
        let text = String(decoding: LakeLayout.trainingCSV(firstMinute: 10, watts: [100.5, .nan, 300]), as: UTF8.self)
        #expect(text == "time,target\n600,100.5\n720,300.0\n")
    }
}

@Suite struct ExportOutboxTests {
    let hour: Int64 = 1_796_533_200
    let folder = TemporaryFolder()

    static func row(time: Int64, watts: Double = 900) -> MinuteRow {
        let phase = Reading.PhaseValues(v: 230, i: watts / 690, p: watts / 3, q: 0, s: watts / 3, pf: 1)
        return MinuteRow(time: time, durationSeconds: 60, phases: [phase, phase, phase], freq: 50,
                         energy: Array(repeating: .zero, count: 3), samples: 60, flags: [], temperature: nil, inputB: nil)
    }

    /// A database with `hours` whole hours of minutes from `hour`, and one minute of the hour after (so they are closed).
    func store(hours: Int) throws -> SQLiteReadingStore {
        let store = try SQLiteReadingStore(path: folder.file("meter.db"), logger: quietLogger, features: MeterApp.featureSchemas)
        var rows = (0..<(hours * 60)).map { Self.row(time: hour + Int64($0) * 60) }
        rows.append(Self.row(time: hour + Int64(hours) * 3600))
        _ = try store.insert(rows)
        return store
    }

    func exporter(_ bucket: MemoryBucket, clock: VirtualClock, retention: Double = 14 * 86_400, logger: Logger = quietLogger) -> Exporter {
        let settings = CloudSettings(enabled: true, bucket: "b", device: "SE1")
        return Exporter(settings: settings, context: .init(retentionSeconds: retention, openStorage: { bucket }),
                        clock: clock, logger: logger)
    }

    /// `hours` closed hours stored, a bucket failing with `failure`, and an exporter that logs to `log`, `after` seconds
    /// past the hours.
    func failing(hours: Int, with failure: S3Error, after: Int64 = 120, retention: Double = 14 * 86_400) throws
        -> (store: SQLiteReadingStore, bucket: MemoryBucket, clock: VirtualClock, log: LogRecorder, exporter: Exporter) {
        let store = try store(hours: hours)
        let bucket = MemoryBucket()
        bucket.fail(with: failure)
        let clock = VirtualClock(wall: Double(hour + Int64(hours) * 3600 + after))
        let log = LogRecorder()
        return (store, bucket, clock, log, exporter(bucket, clock: clock, retention: retention, logger: log.logger))
    }

    func hourKey(_ k: Int) -> String { LakeLayout.hourKey(prefix: "data/", device: "SE1", hourStart: hour + Int64(k) * 3600) }

    @Test func everyClosedHourIsUploadedOnceOldestFirstAsItsRows() async throws {
        let store = try store(hours: 3)
        defer { store.close() }
        let bucket = MemoryBucket()
        var exporter = exporter(bucket, clock: VirtualClock(wall: Double(hour + 3 * 3600 + 120)))
        let outcome = await exporter.pass(store: store)
        #expect(outcome.uploaded == 3 && outcome.rows == 180 && outcome.error == nil)
        #expect(bucket.puts == [hourKey(0), hourKey(1), hourKey(2)], "the open hour waits; the closed ones go in time order")
        // The object is the hour's rows, header first.
        let lines = String(decoding: try #require(bucket.objects[hourKey(1)]), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 61 && lines[1].hasPrefix("\(hour + 3600),230.0,"))
        // A second pass uploads nothing again.
        #expect(await exporter.pass(store: store).uploaded == 0)
        #expect(bucket.puts.count == 3)
        let status = try store.read("status") { db throws(StoreError) in try ExportTables.status(in: db) }
        #expect(status.pending == 0 && status.uploaded == 3 && status.uploadedRows == 180)
    }

    @Test func anHourThatGainsRowsLaterIsUploadedAgainUnderItsKey() async throws {
        let store = try store(hours: 1)
        defer { store.close() }
        try store.write("delete") { db throws(StoreError) in _ = try db.execute("DELETE FROM meter_data WHERE time = ?", [.integer(hour + 600)]) }
        let bucket = MemoryBucket()
        var exporter = exporter(bucket, clock: VirtualClock(wall: Double(hour + 3600 + 120)))
        _ = await exporter.pass(store: store)
        // A spill file stored late brings the missing minute; the next closed hour has the exporter look again.
        _ = try store.insert(Self.row(time: hour + 600))
        _ = await exporter.pass(store: store)
        #expect(bucket.puts == [hourKey(0)], "rows are looked at again when an hour closes, not every minute")
        _ = try store.insert(Self.row(time: hour + 2 * 3600))
        _ = await exporter.pass(store: store)
        #expect(bucket.puts == [hourKey(0), hourKey(0), hourKey(1)])
        #expect(String(decoding: try #require(bucket.objects[hourKey(0)]), as: UTF8.self).split(separator: "\n").count == 61)
        let rows = try store.read("outbox") { db throws(StoreError) in try db.query("SELECT count(*) FROM export_outbox WHERE from_time = ?", [.integer(hour)]) }
        #expect(rows[0][0] == .integer(1), "one outbox row per hour, re-armed")
    }

    @Test func aStoreThatIsDownPausesTheQueueAndBacksOffInsteadOfStorming() async throws {
        var (store, bucket, clock, log, exporter) = try failing(hours: 4, with: MemoryBucket.down)
        defer { store.close() }
        for _ in 0..<10 { _ = await exporter.pass(store: store) }
        #expect(bucket.puts == [hourKey(0)], "one request, then a pause: not one per pass, not one per hour")
        // The pauses double: 30 s, 60 s, 120 s … (±20 %); one request per pause.
        var attempts: [Int] = []
        for wait in [40.0, 80, 160, 320] {
            clock.advance(seconds: wait)
            for _ in 0..<3 { _ = await exporter.pass(store: store) }
            attempts.append(bucket.puts.count)
        }
        #expect(attempts == [2, 3, 4, 5])
        #expect(exporter.backlog && exporter.pending == ServiceHealth.ExportBacklog(pending: 4, oldest: hour))
        #expect(log.entries(.warning).filter { $0.contains("upload failed") }.count == 1, "logged once, not once a pause")
        // Back: everything goes, oldest first, and the recovery is logged.
        bucket.fail(with: nil)
        clock.advance(seconds: 700)
        let outcome = await exporter.pass(store: store)
        #expect(outcome.uploaded == 4)
        #expect(bucket.objects.keys.sorted() == (0..<4).map(hourKey))
        #expect(Array(bucket.puts.suffix(4)) == (0..<4).map(hourKey))
        #expect(log.entries(.notice).contains { $0.contains("uploading again") })
        #expect(!exporter.backlog && exporter.pending?.pending == 0)
    }

    @Test func aRefusalIsLoggedOnceWithTheFixAndRetriedOnlyHoursLater() async throws {
        var (store, bucket, clock, log, exporter) = try failing(hours: 2, with: MemoryBucket.refused)
        defer { store.close() }
        for _ in 0..<60 {
            _ = await exporter.pass(store: store)
            clock.advance(seconds: 240)  // four hours in all
        }
        #expect(bucket.puts.count == 1, "a refusal waits ~6 h before the next request")
        let errors = log.entries(.error).filter { $0.contains("upload failed") }
        #expect(errors.count == 1)
        // Six hours ±20 % after the refusal: at 8 h it has certainly been retried (7 h failed one run in twelve).
        clock.advance(seconds: 4 * 3600)
        _ = await exporter.pass(store: store)
        #expect(bucket.puts.count == 2)
        #expect(log.entries(.error).filter { $0.contains("upload failed") }.count == 1, "the same refusal is not logged again")
        let status = try store.read("status") { db throws(StoreError) in try ExportTables.status(in: db) }
        #expect(status.failing == 1 && status.permanent == 1 && status.lastError?.contains("SignatureDoesNotMatch") == true)
    }

    @Test func theClaimKeepsHoursNotUploadedAndRetentionGivesThemUpAtTheWindowAfterWarning() async throws {
        let retention = 3.0 * 3600
        // Queued, not uploaded: the claim holds the first hour whole, though retention is due inside it.
        var (store, bucket, clock, log, exporter) = try failing(hours: 3, with: MemoryBucket.down, after: 1000, retention: retention)
        defer { store.close() }
        _ = await exporter.pass(store: store)
        #expect(try ExportClaim().oldestTimeNeeded(store) == hour)
        let outcome = try store.applyRetention(keepingFrom: Int64(clock.wall() - retention), claims: [ExportClaim()])
        #expect(outcome.deleted == 0 && outcome.heldBy == ["exporter"])
        #expect(log.entries(.warning).contains { $0.contains("leaves the database within") }, "warned before anything goes")
        // An hour later the first hour is past the window: given up, logged, released.
        clock.advance(seconds: 3600)
        _ = await exporter.pass(store: store)
        #expect(log.entries(.error).contains { $0.contains("given up") })
        #expect(try ExportClaim().oldestTimeNeeded(store) == hour + 3600)
        let status = try store.read("status") { db throws(StoreError) in try ExportTables.status(in: db) }
        #expect(status.dropped == 1 && status.pending == 2)
        // Uploaded: nothing is claimed before the queuing cursor any more.
        bucket.fail(with: nil)
        _ = await exporter.pass(store: store, ignoringBackoff: true)
        #expect(try ExportClaim().oldestTimeNeeded(store) == hour + 3 * 3600)
    }

    @Test func aTrainingRequestUploadsTheHistoryToTheTrainingKeyAndIsMarkedExported() async throws {
        let store = try store(hours: 2)
        defer { store.close() }
        try store.write("request") { db throws(StoreError) in
            _ = try db.execute("DELETE FROM meter_data WHERE time = ?", [.integer(hour + 120)])
            try ForecastTables.requestExport(reason: "drift", from: hour, to: hour + 2 * 3600, at: hour + 2 * 3600, in: db)
        }
        let bucket = MemoryBucket()
        var exporter = exporter(bucket, clock: VirtualClock(wall: Double(hour + 2 * 3600 + 120)))
        _ = await exporter.pass(store: store)
        #expect(bucket.puts.last == "data/Clemap_train.csv", "after the hours")
        let lines = String(decoding: try #require(bucket.objects["data/Clemap_train.csv"]), as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "time,target")
        #expect(lines.count == 1 + 119, "one line a minute known; the missing minute is a gap")
        #expect(lines[1] == "\(hour),900.0" && lines[2] == "\(hour + 60),900.0" && lines[3] == "\(hour + 180),900.0")
        let pending = try store.read("requests") { db throws(StoreError) in try ForecastTables.pendingExports(in: db) }
        #expect(pending.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".training.csv"), "the file sent is removed")
        _ = await exporter.pass(store: store)
        #expect(bucket.puts.filter { $0 == "data/Clemap_train.csv" }.count == 1)
    }

    @Test func driftsAtOnceMakeOneTrainingUploadAndEveryRequestIsMarked() async throws {
        let store = try store(hours: 2)
        defer { store.close() }
        // As the forecaster records them: one request per model and target that drifted in the same hour.
        try store.write("requests") { db throws(StoreError) in
            for reason in ["builtin value+60min", "builtin mean+60min", "keras value+1min"] {
                try ForecastTables.requestExport(reason: "drift of \(reason)", from: hour, to: hour + 2 * 3600, at: hour + 2 * 3600, in: db)
            }
        }
        let bucket = MemoryBucket()
        let clock = VirtualClock(wall: Double(hour + 2 * 3600 + 120))
        var exporter = exporter(bucket, clock: clock)
        _ = await exporter.pass(store: store)
        _ = await exporter.pass(store: store)
        #expect(bucket.puts.filter { $0 == "data/Clemap_train.csv" }.count == 1)
        #expect(try store.read("requests") { db throws(StoreError) in try ForecastTables.pendingExports(in: db) }.isEmpty)
        // A later drift: one more upload.
        try store.write("request") { db throws(StoreError) in
            try ForecastTables.requestExport(reason: "drift again", from: hour, to: hour + 2 * 3600, at: hour + 3 * 3600, in: db)
        }
        _ = await exporter.pass(store: store)
        _ = await exporter.pass(store: store)
        #expect(bucket.puts.filter { $0 == "data/Clemap_train.csv" }.count == 2)
        #expect(try store.read("requests") { db throws(StoreError) in try ForecastTables.pendingExports(in: db) }.isEmpty)
    }
}

extension ExportOutboxTests {
    /// A year of training data comes from the forecaster's own history (meter_data keeps two weeks), a day at a time.
    @Test func trainingDataReachesBackIntoTheForecastersHistoryBeyondMeterData() async throws {
        let store = try store(hours: 1)
        defer { store.close() }
        let day = hour / 86_400 - 3  // three days before the stored rows
        var watts = [Float](repeating: 500, count: 1440)
        watts[7] = .nan
        try store.write("history") { db throws(StoreError) in
            try ForecastTables.saveHistoryDay(day, watts: watts, in: db)
            try ForecastTables.requestExport(reason: "drift", from: day * 86_400, to: hour + 3600, at: hour + 3600, in: db)
        }
        let bucket = MemoryBucket()
        var exporter = exporter(bucket, clock: VirtualClock(wall: Double(hour + 3600 + 120)))
        _ = await exporter.pass(store: store)
        let lines = String(decoding: try #require(bucket.objects["data/Clemap_train.csv"]), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1 + 1439 + 60, "a day of history but its missing minute, and the hour of meter_data")
        #expect(lines[1] == "\(day * 86_400),500.0" && lines[8] == "\(day * 86_400 + 8 * 60),500.0")
        #expect(lines[1440] == "\(hour),900.0" && lines.last == "\(hour + 3540),900.0")
        let recorded = try store.read("outbox") { db throws(StoreError) in
            try db.query("SELECT rows, bytes FROM export_outbox WHERE kind = 'training'")
        }
        #expect(recorded.first == [.integer(1499), .integer(Int64(bucket.objects["data/Clemap_train.csv"]!.count))])
    }
}

/// The exporter in the whole service, built by ``MeterApp``: rows to objects while sampling, the backlog in the health.
@Suite struct ExportServiceTests {
    /// The service with the exporter on `bucket` (the forecaster off), run 3 h 5 min from 05:00 UTC.
    func run(_ bucket: MemoryBucket) async throws -> (rig: ServiceRig, app: MeterApp) {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 5, angle: 0), clock: VirtualClock(wall: 1_796_533_200.0 - 30))
        let app = try rig.makeApp(seconds: 3 * 3600 + 300, configure: {
            $0.cloud = CloudSettings(enabled: true, bucket: "b", device: "SIM")
            $0.forecast.enabled = false
        }, objectStorage: { bucket })
        try await app.run()
        return (rig, app)
    }

    @Test func theServiceUploadsEveryClosedHourWhileItSamples() async throws {
        let bucket = MemoryBucket()
        let (rig, _) = try await run(bucket)
        let keys = (0..<3).map { LakeLayout.hourKey(prefix: "data/", device: "SIM", hourStart: 1_796_533_200 + Int64($0) * 3600) }
        #expect(bucket.puts == keys)
        let stored = try rig.store().rows(from: 1_796_533_200, to: 1_796_533_200 + 3600)
        let object = String(decoding: try #require(bucket.objects[keys[0]]), as: UTF8.self).split(separator: "\n")
        #expect(object.count == 1 + stored.count && stored.count == 60)
        #expect(object[1].hasPrefix("\(stored[0].time),"))
    }

    @Test func aStoreThatStaysDownShowsAsTheExporterBacklogInTheHealthWithItsSize() async throws {
        let bucket = MemoryBucket()
        bucket.fail(with: MemoryBucket.down)
        let (_, app) = try await run(bucket)
        #expect(app.hub.health.current.contains(.exporterBacklog))
        #expect(app.hub.health.exportBacklog == ServiceHealth.ExportBacklog(pending: 3, oldest: 1_796_533_200))
        #expect(app.hub.health.summary.contains("exporter-backlog (3 uploads, the oldest from 1796533200)"), "\(app.hub.health.summary)")
        // Three hours down: a handful of requests (30 s, 60 s, … up to an hour apart), not one a minute.
        #expect((3...9).contains(bucket.puts.count), "\(bucket.puts.count) requests")
    }
}
