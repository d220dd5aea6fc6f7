// SPDX-License-Identifier: Apache-2.0
import Dispatch
import KerasModel
#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import MeterClock
public import MeterConfig
import MeterReadings
public import MeterStore
public import S3Client
public import ServiceLifecycle
import Synchronization

/// The exporter in the service: after each final row it queues the closed hours of `meter_data` and the forecaster's
/// training-data requests in the outbox (``ExportTables``), uploads what is due oldest first, and looks for new models.
///
/// It follows the rows only as a tick (it reads what to upload from the database, the one truth), so a long drain
/// after days offline never holds rows back from anyone. Uploads run on a background dispatch thread (libcurl
/// blocks); its writes are one short transaction per upload on the store the storage service has open. A failure
/// pauses the whole queue (``Backoff``), is logged once when it starts and once when it ends, and never costs more
/// than one request per pause.
public final class ExportService: Service {
    /// What the exporter needs beyond `[CLOUD]`.
    public struct Context: Sendable {
        /// `persistence_interval_sec`: hours pending longer than this are given up when retention deletes their rows.
        public var retentionSeconds: Double
        /// Opens the object store (credentials resolved then); retried at the next due upload when it throws.
        public var openStorage: @Sendable () throws -> any ObjectStorage
        /// Hands a downloaded model file to the forecaster; nil when the forecaster cannot take one.
        public var offerModel: (@Sendable (_ stagedFile: String, _ source: String) async -> ModelOfferVerdict)?
        /// Where a downloaded model is staged: beside the forecaster's model file, so that it is renamed into place.
        public var modelStaging: String?
        public var backoff = Backoff()
        /// Models larger than this are not downloaded (the size the forecaster would refuse to load anyway).
        public var modelMaxBytes = KerasModel.Limits().fileBytes

        public init(retentionSeconds: Double, openStorage: @escaping @Sendable () throws -> any ObjectStorage,
                    offerModel: (@Sendable (String, String) async -> ModelOfferVerdict)? = nil, modelStaging: String? = nil) {
            self.retentionSeconds = retentionSeconds; self.openStorage = openStorage
            self.offerModel = offerModel; self.modelStaging = modelStaging
        }
    }

    private let settings: CloudSettings
    private let context: Context
    private let rows: AsyncStream<MinuteRow>
    private let hub: LiveHub
    private let clock: any MeterClock
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    public init(settings: CloudSettings, context: Context, hub: LiveHub, clock: any MeterClock, logger: Logger) {
        self.settings = settings; self.context = context; self.hub = hub; self.clock = clock; self.logger = logger
        // A day of ticks: the loop below only turns them into wake-ups, so it never falls behind.
        rows = hub.rows.subscribe("export", buffer: .newest(1440))
    }

    public func run() async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let rows = self.rows
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A first pass as soon as the storage service has the database open (a backlog from before a
                    // restart goes now, not after the first row, a minute later), then one after each row.
                    for _ in 0..<60 where self.hub.store.current == nil {
                        try? await self.clock.sleep(for: .milliseconds(500))
                    }
                    wake.yield()
                    for await _ in rows { wake.yield() }
                    wake.finish()
                }
                group.addTask {
                    var exporter = Exporter(settings: self.settings, context: self.context, clock: self.clock, logger: self.logger)
                    for await _ in wakes {
                        guard let store = self.hub.store.current else { continue }
                        await exporter.pass(store: store, stopping: { self.stopping.load(ordering: .relaxed) })
                        self.hub.health.exportBacklog = exporter.pending
                        self.hub.health.set(.exporterBacklog, exporter.backlog)
                    }
                }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        logger.info("export stopped")
        try? await gracefulShutdown()
    }
}

/// One pass of the exporter over the outbox; the service runs one after each row, `export once` and `flush` one.
public struct Exporter: Sendable {
    let settings: CloudSettings
    let context: ExportService.Context
    let clock: any MeterClock
    let logger: Logger
    private var storage: (any ObjectStorage)?
    /// No upload before this (the queue's pause after a failure), Unix seconds.
    private var pausedUntil: Double = -.infinity
    private var failuresInARow = 0
    /// The kind of failure being reported (host, status, code), so that it is logged once, not once a pause.
    private var reported: String?
    /// The newest failure's description, for the retention warning.
    private var lastError: String?
    /// Whether this exporter queued once (its first pass looks at every hour since the cursor, whatever changed).
    private var queuedOnce = false
    private var nextModelPoll: Double = -.infinity
    private var nextRetentionCheck: Double = -.infinity
    /// Something is waiting longer than it should: failing uploads, or data older than two hours not uploaded.
    public private(set) var backlog = false
    /// The outbox after the last pass: uploads waiting and the oldest data's start.
    public private(set) var pending: ServiceHealth.ExportBacklog?

    public init(settings: CloudSettings, context: ExportService.Context, clock: any MeterClock, logger: Logger) {
        self.settings = settings; self.context = context; self.clock = clock; self.logger = logger
    }

    /// What a pass did.
    public struct Outcome: Sendable {
        public var uploaded = 0, failed = 0, rows = 0, bytes = 0
        public var error: String?
    }

    /// Queues what is new, uploads what is due (everything pending when `ignoringBackoff`) until the queue is empty,
    /// an upload fails, or `stopping` says so; then looks for a model when one is due.
    @discardableResult
    public mutating func pass(store: any ReadingStore, ignoringBackoff: Bool = false, pollModel: Bool = true,
                              stopping: @Sendable () -> Bool = { false }) async -> Outcome {
        var outcome = Outcome()
        let now = clock.wall()
        queue(store: store, now: now)
        if now >= nextRetentionCheck { nextRetentionCheck = now + 3600; checkRetention(store: store, now: now) }
        if ignoringBackoff || now >= pausedUntil {
            await upload(store: store, ignoringBackoff: ignoringBackoff, stopping: stopping, outcome: &outcome)
        }
        // Looking for models shares the pause: a store that refuses uploads is not asked for listings meanwhile.
        if pollModel, !settings.modelPrefix.isEmpty, context.offerModel != nil, now >= nextModelPoll, now >= pausedUntil, !stopping() {
            nextModelPoll = now + Double(settings.pollIntervalSeconds)
            await pollModels(store: store)
        }
        if let status = try? store.read("cannot read the export outbox", { db throws(StoreError) in try ExportTables.status(in: db) }) {
            backlog = status.failing > 0 || status.oldestPending.map { Double($0) < clock.wall() - 7200 } == true
            pending = ServiceHealth.ExportBacklog(pending: status.pending, oldest: status.oldestPending)
        }
        return outcome
    }

    // MARK: - Queuing

    private mutating func queue(store: any ReadingStore, now: Double) {
        let settings = self.settings
        do {
            // A write (and its fsync) only when there is something to queue: a new closed hour, a training request,
            // and the first pass (rows stored while the exporter was off or the service stopped).
            let (stored, cursor, requests) = try store.read("cannot read what to export") { db throws(StoreError) in
                let stored = try db.query("SELECT max(time), min(time) FROM meter_data")[0]
                let cursor = try ExportTables.state("queued_through", in: db).flatMap { Int64($0) }
                let requests = try db.query("""
                    SELECT count(*) FROM forecast_export_request WHERE exported IS NULL
                    AND rowid > coalesce((SELECT max(request) FROM export_outbox WHERE kind = 'training'), 0)
                    """)[0][0].int
                return (stored[0].isNull ? nil : (newest: stored[0].int, oldest: stored[1].int), cursor, requests)
            }
            // Closed hours: those before the hour of the newest stored row.
            guard let stored else { return }
            let closedBefore = stored.newest / 3600 * 3600
            guard !queuedOnce || closedBefore != cursor || requests > 0 else { return }
            queuedOnce = true
            try store.write("cannot queue exports") { db throws(StoreError) in
                // The last two days are looked at again, so that rows stored late (a spill file) re-arm their hour.
                let from = cursor.map { $0 - 2 * 86_400 } ?? stored.oldest
                try ExportTables.queueHours(from: from, before: closedBefore, now: Int64(now), key: { start in
                    LakeLayout.hourKey(prefix: settings.dataPrefix, device: settings.device, hourStart: start)
                }, in: db)
                if cursor != closedBefore { try ExportTables.setState("queued_through", "\(closedBefore)", in: db) }
                try ExportTables.queueTrainingRequests(key: settings.trainingKey, now: Int64(now), in: db)
            }
        } catch {
            logger.warning("export: cannot queue uploads now; tried again after the next row", metadata: ["error": "\(error)"])
        }
    }

    /// Warns a day (or a quarter of the retention window) before an hour not uploaded would leave the database; gives
    /// up the hours whose rows retention deletes.
    private func checkRetention(store: any ReadingStore, now: Double) {
        guard context.retentionSeconds > 0 else { return }
        let cutoff = Int64(now - context.retentionSeconds)
        let margin = Int64(min(86_400, context.retentionSeconds / 4))
        do {
            let (dropped, oldest) = try store.write("cannot give up expired exports") { db throws(StoreError) in
                let dropped = try ExportTables.drop(hoursEndingBy: cutoff, at: Int64(now), in: db)
                return (dropped, try ExportTables.oldestPendingHour(in: db))
            }
            if dropped.count > 0 {
                logger.error("export: hours never uploaded were given up: retention deleted their rows", metadata: [
                    "hours": "\(dropped.count)", "oldest": "\(dropped.oldest.map(LakeLayout.hourLabel) ?? "-")",
                    "fix": "fix what stops the uploads (export status), or raise [DATA_GATHERING_MODULE] persistence_interval_sec",
                ])
            }
            if let oldest, oldest + 3600 - cutoff <= margin {
                let hours = max(0, (oldest + 3600 - cutoff) / 3600)
                logger.warning("export: the oldest hour not uploaded leaves the database within \(hours) h (retention)", metadata: [
                    "hour": "\(LakeLayout.hourLabel(oldest))", "last.error": "\(lastError ?? "none")",
                    "fix": "fix what stops the uploads (clemap-edge export status), or raise persistence_interval_sec",
                ])
            }
        } catch {
            logger.warning("export: retention check failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Uploading

    private mutating func upload(store: any ReadingStore, ignoringBackoff: Bool, stopping: () -> Bool, outcome: inout Outcome) async {
        while !stopping() {
            let now = clock.wall()
            guard let batch = try? store.read("cannot read the export outbox", { db throws(StoreError) in
                try ExportTables.due(now: Int64(now), ignoringBackoff: ignoringBackoff, limit: 16, in: db)
            }), !batch.isEmpty else { return }
            for entry in batch {
                if stopping() { return }
                guard await upload(entry, store: store, outcome: &outcome) else { return }
            }
        }
    }

    /// Uploads one entry. - Returns: false when it failed (the queue pauses).
    private mutating func upload(_ entry: ExportTables.Entry, store: any ReadingStore, outcome: inout Outcome) async -> Bool {
        let body: Body
        do {
            body = try Self.body(of: entry, store: store)
        } catch {
            // The database, not the network: try again after the next row.
            logger.warning("export: cannot read the rows to upload", metadata: ["key": "\(entry.key)", "error": "\(error)"])
            return false
        }
        do {
            let storage = try openedStorage()
            let key = entry.key
            let result: Result<Void, S3Error> = await BackgroundQueue.run {
                Result { () throws(S3Error) in
                    switch body {
                    case .bytes(let bytes, _): try storage.put(key, bytes: bytes, contentType: "text/csv")
                    case .file(let path, _, _): try storage.put(key, file: path, contentType: "text/csv")
                    }
                }
            }
            if case .file(let path, _, _) = body { unlink(path) }
            try result.get()
        } catch {
            failed(entry, error: error, store: store)
            outcome.failed += 1
            outcome.error = "\(error)"
            return false
        }
        let time = Int64(clock.wall())
        do {
            try store.write("cannot record an upload") { db throws(StoreError) in
                try ExportTables.uploaded(entry, rows: body.rows, bytes: body.count, at: time, in: db)
            }
        } catch {
            // Uploaded but not recorded: it is uploaded again (same key, same bytes) once the database takes writes.
            logger.warning("export: uploaded, but not recorded; it will be uploaded again", metadata: ["key": "\(entry.key)", "error": "\(error)"])
            return false
        }
        if reported != nil {
            logger.notice("export: uploading again", metadata: ["after.failures": "\(failuresInARow)"])
            self.reported = nil
            lastError = nil
            try? store.write("cannot clear the exporter's error") { db throws(StoreError) in
                _ = try db.execute("DELETE FROM export_state WHERE name IN ('last_error', 'paused_until')")
            }
        }
        failuresInARow = 0
        pausedUntil = -.infinity
        outcome.uploaded += 1; outcome.rows += body.rows; outcome.bytes += body.count
        logger.debug("export: uploaded", metadata: ["key": "\(entry.key)", "rows": "\(body.rows)", "bytes": "\(body.count)"])
        return true
    }

    private mutating func failed(_ entry: ExportTables.Entry, error: S3Error, store: any ReadingStore) {
        let retryAt = pause(after: error, what: "upload failed; the outbox keeps it", key: entry.key, store: store)
        try? store.write("cannot record a failed upload") { db throws(StoreError) in
            try ExportTables.failed(entry, error: "\(error)", permanent: error.isPermanent, retryAt: Int64(retryAt), in: db)
        }
    }

    /// Pauses the queue after a failure (``Backoff``); logs the error when it is a new one. - Returns: the pause's end.
    @discardableResult
    private mutating func pause(after error: S3Error, what: String, key: String, store: any ReadingStore) -> Double {
        failuresInARow += 1
        let delay = context.backoff.delay(failures: failuresInARow, permanent: error.isPermanent, unit: Double.random(in: 0..<1))
        pausedUntil = clock.wall() + delay
        let text = "\(error)"
        lastError = text
        // The same failure again is not news: the same store answering the same way, whichever request met it (a
        // model listing or an upload) and however a network error is worded ("after 0 ms", "after 1 ms").
        let kind = "\(error.host) \(error.status ?? 0) \(error.code ?? "") \(error.isPermanent)"
        if reported != kind {
            // Once per kind of error; the pause itself is quiet.
            let level: Logger.Level = error.isPermanent ? .error : .warning
            let then = error.isPermanent ? "the store refused: fix what the error names; tried again every \(Int(context.backoff.permanent / 3600)) h"
                : "tried again after a pause (doubling, at most \(Int(context.backoff.maximum / 60)) min)"
            logger.log(level: level, "export: \(what); \(then)", metadata: [
                "key": "\(key)", "error": "\(text)", "retry.in.s": "\(Int(delay))",
            ])
            reported = kind
        }
        // For `export status`: what failed last, and until when the queue waits.
        let until = pausedUntil
        try? store.write("cannot record the exporter's error") { db throws(StoreError) in
            try ExportTables.setState("last_error", text, in: db)
            try ExportTables.setState("paused_until", "\(Int64(until))", in: db)
        }
        // A store that refused the credentials may take new ones (a rotated key in ~/.aws/credentials).
        if error.isPermanent { storage = nil }
        return pausedUntil
    }

    /// The object store, opened (credentials resolved) on first use and again after a refusal.
    private mutating func openedStorage() throws(S3Error) -> any ObjectStorage {
        if let storage { return storage }
        do {
            let opened = try context.openStorage()
            storage = opened
            return opened
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(operation: "CREDENTIALS", bucket: settings.bucket, key: nil, host: "", status: nil, code: nil,
                          message: "\(error)", isPermanent: true, remedy: "check [CLOUD] in config.ini")
        }
    }

    /// What an upload sends: an hour's CSV in memory (tens of kB), or the training data in a file beside the database.
    enum Body {
        case bytes([UInt8], rows: Int)
        case file(String, bytes: Int, rows: Int)
        var rows: Int { switch self { case .bytes(_, let rows), .file(_, _, let rows): rows } }
        var count: Int { switch self { case .bytes(let bytes, _): bytes.count; case .file(_, let bytes, _): bytes } }
    }

    /// The body of an upload, read from the database now.
    static func body(of entry: ExportTables.Entry, store: any ReadingStore) throws -> Body {
        if entry.kind == "training" {
            let path = store.path + ".training.csv"
            let rows = try TrainingHistory.write(from: entry.from, to: entry.to, store: store, path: path)
            var info = stat()
            guard stat(path, &info) == 0 else { throw TrainingHistory.WriteError(description: "\(path) vanished") }
            return .file(path, bytes: Int(info.st_size), rows: rows)
        }
        let rows = try store.read("cannot read the rows to upload") { db throws(StoreError) in
            try ExportTables.minuteRows(from: entry.from, to: entry.to, in: db)
        }
        return .bytes(LakeLayout.csv(rows), rows: rows.count)
    }

    // MARK: - Models

    private mutating func pollModels(store: any ReadingStore) async {
        guard let offer = context.offerModel, let staging = context.modelStaging else { return }
        do {
            let storage = try openedStorage(), prefix = settings.modelPrefix, limit = context.modelMaxBytes
            let seen = (try? store.read("cannot read the export state") { db throws(StoreError) in try ExportTables.state("model_seen", in: db) }) ?? nil
            let found: Result<(S3Object, Int64)?, S3Error> = await BackgroundQueue.run {
                Result { () throws(S3Error) -> (S3Object, Int64)? in
                    let models = try storage.list(prefix: prefix).filter { $0.key.hasSuffix("model.tar.gz") }
                    guard let newest = models.max(by: { ($0.lastModified, $0.key) < ($1.lastModified, $1.key) }),
                          "\(newest.key) \(newest.etag)" != seen else { return nil }
                    guard newest.size <= Int64(limit) else { return (newest, -1) }
                    return (newest, try storage.download(newest.key, to: staging, maxBytes: limit))
                }
            }
            guard let (object, size) = try found.get() else { return }
            let identity = "\(object.key) \(object.etag)"
            func remember() {
                try? store.write("cannot record the model seen") { db throws(StoreError) in try ExportTables.setState("model_seen", identity, in: db) }
            }
            guard size >= 0 else {
                logger.error("export: model refused: too large", metadata: ["key": "\(object.key)", "bytes": "\(object.size)", "limit": "\(limit)"])
                remember()
                return
            }
            logger.info("export: new model downloaded; the forecaster checks it", metadata: ["key": "\(object.key)", "bytes": "\(size)"])
            switch await offer(staging, "s3://\(settings.bucket)/\(object.key)") {
            case .served(let summary):
                logger.notice("export: new model served", metadata: ["key": "\(object.key)", "model": "\(summary)"])
                remember()
            case .refused(let reason):
                logger.error("export: new model refused; the current one keeps serving", metadata: ["key": "\(object.key)", "reason": "\(reason)"])
                remember()
            case .notYet(let reason):
                logger.info("export: new model not checked yet; fetched again at the next poll", metadata: ["key": "\(object.key)", "reason": "\(reason)"])
            }
        } catch {
            pause(after: error, what: "cannot look for a new model", key: settings.modelPrefix, store: store)
        }
    }
}

/// The training data of a request: the forecaster's history (`forecast_history`, a year at most), with the minutes of
/// `meter_data` over it where both know a minute; written a day at a time to a file, since a year is ~10 MB of CSV
/// that the service must not hold in memory.
enum TrainingHistory {
    struct WriteError: Error, CustomStringConvertible { var description: String }

    /// Writes ``LakeLayout/trainingCSV(firstMinute:watts:)`` of `[from, to)` to `path`. - Returns: the lines (minutes known).
    static func write(from: Int64, to: Int64, store: any ReadingStore, path: String) throws(WriteError) -> Int {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw WriteError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        func put(_ bytes: [UInt8]) throws(WriteError) {
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 { if errno == EINTR { continue }; throw WriteError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
        try put(LakeLayout.trainingHeader)
        var lines = 0
        let firstMinute = (from + 59) / 60, endMinute = (to + 59) / 60
        var day = firstMinute / 1440
        while day * 1440 < endMinute {
            let start = max(firstMinute, day * 1440), end = min(endMinute, (day + 1) * 1440)
            let watts: [Float]
            do {
                watts = try store.read("cannot read the training history") { db throws(StoreError) in
                    var watts = [Float](repeating: .nan, count: Int(end - start))
                    for (_, values) in try ForecastTables.historyDays(from: day, before: day + 1, in: db).days {
                        for minute in start..<end where values[Int(minute - day * 1440)].isFinite {
                            watts[Int(minute - start)] = values[Int(minute - day * 1440)]
                        }
                    }
                    for row in try db.query("SELECT time, l1_p + l2_p + l3_p FROM meter_data WHERE time >= ? AND time < ?",
                                            [.integer(start * 60), .integer(end * 60)]) {
                        guard let total = row[1].double, total.isFinite else { continue }
                        watts[Int(row[0].int / 60 - start)] = Float(total)
                    }
                    return watts
                }
            } catch {
                throw WriteError(description: "\(error)")
            }
            lines += watts.count(where: \.isFinite)
            try put(LakeLayout.trainingLines(firstMinute: start, watts: watts))
            day += 1
        }
        return lines
    }
}
