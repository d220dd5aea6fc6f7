// SPDX-License-Identifier: Apache-2.0
import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
public import Forecast
public import Logging
public import MeterConfig
import MeterFiles
import MeterReadings
public import MeterStore
public import ServiceLifecycle
public import Synchronization

/// The forecaster in the service: follows the hub's final rows, keeps its compact history (`forecast_history`),
/// issues every model's forecasts each minute from consecutive minutes only, stores and scores them, trains the
/// built-in model on its schedule on a background dispatch thread, watches a Keras model file, takes new model
/// files offered to it (``offer(stagedFile:source:)``), and records drift.
///
/// It reads rows from a bounded subscription (a day of rows): if it ever falls that far behind, it loses its own
/// rows, visibly, and never slows sampling or storage. It writes only its own tables, one short transaction a
/// minute, on the store the storage service has open (``LiveHub/store``); while there is none, it keeps its history
/// in memory and says so once. Listed before the sampler in the group, it sees every row, the last one included.
public final class ForecastService: Service {
    private let settings: ForecastSettings
    private let rows: AsyncStream<MinuteRow>
    private let sharedStore: SharedStore
    private let calendar: ForecastCalendar
    private let logger: Logger
    private let loadModelFile: (@Sendable (String) throws -> any CheckedForecastModel)?
    /// The built-in model and the Keras model in use, readable by other services (HTTP) at any time.
    public let state = Mutex<ForecastState>(ForecastState())
    /// A training's model, until the row loop takes it.
    private let finished = Mutex<BuiltinForecaster?>(nil)
    /// Model files offered, until the row loop takes them; `stopped` once it no longer will.
    private let offers = Mutex<(pending: [ModelOffer], stopped: Bool, lastID: UInt64)>(([], false, 0))

    /// - Parameters:
    ///   - loadModelFile: loads `[FORECAST] model` (a Keras file); nil when none is configured.
    public init(settings: ForecastSettings, hub: LiveHub, calendar: ForecastCalendar, logger: Logger,
                loadModelFile: (@Sendable (String) throws -> any CheckedForecastModel)? = nil) {
        self.settings = settings
        self.rows = hub.rows.subscribe("forecast", buffer: .newest(1440))
        self.sharedStore = hub.store; self.calendar = calendar; self.logger = logger
        self.loadModelFile = loadModelFile
    }

    public func run() async throws {
        // However this returns, no offer is left waiting.
        defer { closeOffers() }
        var restored = false
        var faults = FaultGate(logger: logger)
        var engine = ForecastEngine(history: MinuteSeries(capacityMinutes: settings.historyDays * 1440))
        var builtin: BuiltinForecaster?
        var modelFile: (any CheckedForecastModel)?
        var modelCheckWaits = true
        var training: Task<Void, Never>?
        var lastTrainingMinute: Int64?
        var savedHistoryThrough: Int64 = .min
        var lastHourlyWork: Int64 = .min
        var lastDrift: [String: Int64] = [:]
        var triedStamp: FileStamp?

        func serve() {
            var models: [any ServedForecastModel] = []
            if let modelFile { models.append(modelFile) }
            if let builtin { models.append(BuiltinServedModel(model: builtin)) }
            engine.models = models
            state.withLock {
                $0.builtin = builtin
                $0.modelFile = modelFile.map { ($0.name, $0.summary) }
            }
        }

        for await row in rows {
            let minute = row.time / 60
            let store = sharedStore.current
            if let store, !restored {
                restored = true
                builtin = restore(store, into: &engine, upTo: minute)
                lastTrainingMinute = builtin.map { $0.trainedAt }
                serve()
            }

            let usable = !row.flags.contains(.unsynchronised) && row.durationSeconds >= 30
            let total = row.phases.reduce(0.0) { $0 + $1.p }
            let step = engine.observe(minute: minute, watts: usable && total.isFinite ? total : nil)

            // A finished training takes effect before the next issue.
            if let trained = finished.withLock({ value in defer { value = nil }; return value }) {
                training = nil
                builtin = trained
                serve()
            }

            // Offered model files, checked on the history up to this minute. One that passes serves from the next
            // minute on; this minute's forecasts came from the model before, so no minute goes without one. Taken
            // with or without a database (the log has the verdict then).
            for offer in offers.withLock({ state in defer { state.pending = [] }; return state.pending }) {
                let (verdict, served) = take(offer, history: engine.history, at: minute, store: store)
                if let served {
                    modelFile = served.model
                    // The file watch sees the installed file as tried: it does not load it a second time.
                    triedStamp = served.stamp
                    modelCheckWaits = false
                    serve()
                }
                offer.reply.resume(returning: verdict)
            }

            guard let store else {
                faults.failed("the database is not open (the storage service says why); forecasts are kept in memory only")
                continue
            }
            do {
                try store.write("cannot store the forecasts") { db throws(StoreError) in
                    try ForecastTables.insert(step.forecasts, into: db)
                    for actual in step.actuals {
                        try ForecastTables.setActual(actual.actual, issued: actual.issued, horizonMinutes: actual.horizonMinutes, kind: actual.kind, in: db)
                    }
                    try ForecastTables.addScores(step.scores, hour: row.time / 3600, in: db)
                }
                faults.succeeded()
            } catch {
                faults.failed("forecasts not stored: \(error)")
                continue
            }

            // Hourly: history to its table, old forecasts out, drift.
            if row.time / 3600 != lastHourlyWork {
                lastHourlyWork = row.time / 3600
                savedHistoryThrough = saveHistory(engine.history, store, from: savedHistoryThrough, faults: &faults)
                prune(store, now: row.time)
                // A model trained on demand (`clemap-edge forecast train`) is taken when newer.
                if training == nil, let stored = try? ForecastRestore.storedBuiltin(store, logger: logger),
                   stored.trainedAt > (builtin?.trainedAt ?? .min) {
                    builtin = stored
                    lastTrainingMinute = stored.trainedAt
                    serve()
                }
                // The targets each model serves itself: where the built-in model serves persistence, it cannot drift.
                let served = engine.models.map { model in
                    (model.name, ForecastTarget.all.filter { model.name != "builtin" || builtin?.validation[$0]?.servesPersistence == false })
                }
                checkDrift(store, now: row.time, served: served, lastDrift: &lastDrift)
            }
            // The model file: looked at hourly for a change, and every minute while it waits for history to be
            // checked on.
            if row.time % 3600 < 60 || modelCheckWaits {
                modelCheckWaits = false
                switch checkModelFile(current: triedStamp, history: engine.history, at: minute, store: store) {
                case .loaded(let file):
                    modelFile = file.model
                    triedStamp = file.stamp
                    serve()
                case .refused(let stamp):
                    triedStamp = stamp
                case .notYet:
                    modelCheckWaits = true
                case .unchanged:
                    break
                }
            }

            // Training: due on the schedule, from what the forecaster holds; on a thread of its own.
            let due = lastTrainingMinute.map { minute - $0 >= Int64(settings.trainEveryHours) * 60 } ?? true
            let held = engine.history.firstMinute.map { minute - $0 } ?? 0
            if training == nil, due, held >= Int64(settings.minTrainingDays) * 1440 {
                lastTrainingMinute = minute
                training = train(engine.history, at: minute, store: store)
            }
        }
        // No row comes any more: answer the offers still waiting now, not only once the group lets this return.
        closeOffers()
        if let task = training { await task.value }
        // The storage service closes the store after its last row; if it still is open, keep today's history.
        if let store = sharedStore.current { _ = saveHistory(engine.history, store, from: savedHistoryThrough, faults: &faults) }
        logger.info("forecast stopped")
        try? await gracefulShutdown()
    }

    // MARK: - Model files offered

    /// Offers a new model file, staged by the caller (the exporter, from S3), to replace `[FORECAST] model`.
    ///
    /// The row loop takes it at its next row and checks it on the forecaster's history (``ModelUpdate/verify(staged:history:at:loader:)``).
    /// One that passes is installed over `[FORECAST] model` (``ModelUpdate/install(staged:destination:)``, the file
    /// before kept as `<model>.previous`), served from the next minute on and recorded as `model_loaded`. One that
    /// fails is logged as an error, recorded as `model_rejected` with `source` and the reason, and its staged file
    /// deleted; the model before goes on serving. Stage the file in the folder of `[FORECAST] model`.
    ///
    /// Suspends until the row loop decides (about a minute). Resumed with ``ModelOfferVerdict/notYet(reason:)``, the
    /// staged file kept, when the history holds no window to check on yet, when the service stops first, or when
    /// the calling task is cancelled.
    /// - Parameters:
    ///   - stagedFile: the downloaded model file (`model.tar.gz`, `.h5` or `.keras`).
    ///   - source: where it came from, for the log and the event (e.g. the S3 key; never a presigned URL).
    /// - Returns: served, refused (with the reason), or not yet.
    public func offer(stagedFile: String, source: String) async -> ModelOfferVerdict {
        let id = offers.withLock { state in state.lastID += 1; return state.lastID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (reply: CheckedContinuation<ModelOfferVerdict, Never>) in
                // Checked under the lock the cancellation handler takes too, so an offer is resumed exactly once.
                let refusal: String? = offers.withLock { state in
                    if state.stopped { return Self.stoppedReason }
                    if Task.isCancelled { return Self.cancelledReason }
                    state.pending.append(ModelOffer(id: id, staged: stagedFile, source: source, reply: reply))
                    return nil
                }
                if let refusal { reply.resume(returning: .notYet(reason: refusal)) }
            }
        } onCancel: {
            let offer = offers.withLock { state in state.pending.firstIndex { $0.id == id }.map { state.pending.remove(at: $0) } }
            offer?.reply.resume(returning: .notYet(reason: Self.cancelledReason))
        }
    }

    private static let stoppedReason = "the forecaster stopped before taking the model; the staged file is kept: offer it again after the service starts"
    private static let cancelledReason = "the offer was cancelled before the forecaster took the model; the staged file is kept"

    /// Marks the row loop as gone and resumes every offer still waiting.
    private func closeOffers() {
        let left = offers.withLock { state in
            state.stopped = true
            defer { state.pending = [] }
            return state.pending
        }
        for offer in left { offer.reply.resume(returning: .notYet(reason: Self.stoppedReason)) }
    }

    /// Verifies, installs and records one offered file. - Returns: the verdict, and the model to serve with the
    /// installed file's stamp when it passed.
    private func take(_ offer: ModelOffer, history: MinuteSeries, at minute: Int64, store: (any ReadingStore)?)
        -> (verdict: ModelOfferVerdict, served: (model: any CheckedForecastModel, stamp: FileStamp?)?) {
        let time = (minute + 1) * 60
        let source = offer.source
        func refuse(_ reason: String) -> (ModelOfferVerdict, (model: any CheckedForecastModel, stamp: FileStamp?)?) {
            logger.error("forecast: offered model refused; the current models stay", metadata: ["source": "\(source)", "reason": "\(reason)"])
            recordModelEvent("model_rejected", "\(source): \(reason)", time: time, store: store)
            if unlink(offer.staged) != 0 && errno != ENOENT {
                logger.warning("forecast: the refused staged file could not be deleted", metadata: ["path": "\(offer.staged)", "error": "\(String(cString: strerror(errno)))"])
            }
            return (.refused(reason: reason), nil)
        }
        guard let destination = settings.modelPath else {
            return refuse("\(offer.staged): no [FORECAST] model is set, so there is no file to install it as. "
                          + "Fix: set one in config.ini, e.g. model = models/model.tar.gz, and restart the service")
        }
        let verified: (model: any CheckedForecastModel, check: String)
        do {
            verified = try ModelUpdate.verify(staged: offer.staged, history: history, at: minute, loader: loadModelFile ?? KerasServedModel.loader)
        } catch let error as NotYetCheckable {
            logger.info("forecast: offered model not checked yet", metadata: ["source": "\(source)", "reason": "\(error)"])
            return (.notYet(reason: "\(error); the staged file is kept: offer it again later"), nil)
        } catch {
            return refuse("\(error)")
        }
        let bytes = AtomicFile.read(offer.staged)
        let kept: String?
        do { kept = try ModelUpdate.install(staged: offer.staged, destination: destination) } catch {
            return refuse("verified, but not installed: \(error)")
        }
        let (model, check) = verified
        // The bytes of the model served, as the file watch keeps them (see checkModelFile).
        if let store, let bytes {
            do {
                try store.write("cannot store the served model") { db throws(StoreError) in
                    try ForecastTables.saveModel(name: "keras", trainedAt: time, state: Data(bytes).base64EncodedString(), in: db)
                }
            } catch {
                logger.warning("forecast: the served model's bytes were not stored", metadata: ["error": "\(error)"])
            }
        }
        let installed = "installed as \(destination)" + (kept.map { ", the model before kept as \($0)" } ?? "")
        logger.notice("forecast: offered model served", metadata: ["source": "\(source)", "model": "\(model.summary)", "check": "\(check)", "path": "\(destination)"])
        recordModelEvent("model_loaded", "\(source): \(model.summary); \(check); \(installed)", time: time, store: store)
        return (.served(summary: "\(model.summary); \(check)"), (model, FileStamp(destination)))
    }

    /// Records a `model_loaded` or `model_rejected` event of the Keras model (logged, not thrown, when it fails).
    private func recordModelEvent(_ kind: String, _ detail: String, time: Int64, store: (any ReadingStore)?) {
        guard let store else { return }
        do {
            try store.write("cannot record a model event") { db throws(StoreError) in
                try ForecastTables.record(.init(time: time, kind: kind, model: "keras", detail: detail), in: db)
            }
        } catch {
            logger.warning("forecast: a model event was not recorded", metadata: ["kind": "\(kind)", "error": "\(error)"])
        }
    }

    // MARK: - Start

    private func restore(_ store: any ReadingStore, into engine: inout ForecastEngine, upTo minute: Int64) -> BuiltinForecaster? {
        let restored = ForecastRestore.load(store, historyDays: settings.historyDays, upTo: minute, logger: logger)
        engine = ForecastEngine(history: restored.history)
        let series = restored.history
        logger.info("forecast: history restored", metadata: [
            "minutes": "\(series.lastMinute.map { $0 - (series.firstMinute ?? $0) + 1 } ?? 0)",
            "builtin": "\(restored.builtin.map { "trained at \($0.trainedAt * 60)" } ?? "none yet")",
        ])
        return restored.builtin
    }

    // MARK: - Training

    private func train(_ history: MinuteSeries, at minute: Int64, store: any ReadingStore) -> Task<Void, Never> {
        let calendar = self.calendar, logger = self.logger
        return Task {
            let started = ContinuousClock.now
            let model = await BackgroundQueue.run { BuiltinForecaster.train(history: history, endingAt: minute, calendar: calendar) }
            let seconds = (ContinuousClock.now - started).seconds
            let summary = model.validationSummary.joined(separator: "; ")
            logger.info("forecast: built-in model trained", metadata: ["seconds": "\(DecimalText.fixed(seconds, 2))", "validation": "\(summary)"])
            do { try ForecastRestore.saveBuiltin(model, store, detail: "in \(DecimalText.fixed(seconds, 2)) s; \(summary)") } catch {
                logger.warning("forecast: the trained model was not stored (it is used, and trained again after a restart)", metadata: ["error": "\(error)"])
            }
            self.finished.withLock { $0 = model }
        }
    }

    // MARK: - Hourly work

    /// Writes the days from the one holding `from` to the newest. - Returns: the newest minute written.
    private func saveHistory(_ history: MinuteSeries, _ store: any ReadingStore, from: Int64, faults: inout FaultGate) -> Int64 {
        guard let first = history.firstMinute, let last = history.lastMinute else { return from }
        let startDay = max(first / 1440, from == .min ? first / 1440 : from / 1440)
        do {
            try store.write("cannot store the forecast history") { db throws(StoreError) in
                for day in startDay...(last / 1440) {
                    try ForecastTables.saveHistoryDay(day, watts: history.values(from: day * 1440, count: 1440), in: db)
                }
                try ForecastTables.deleteHistory(before: last / 1440 - Int64(settings.historyDays), in: db)
            }
            return last
        } catch {
            faults.failed("history not stored (it is rebuilt from meter_data at the next start): \(error)")
            return from
        }
    }

    private func prune(_ store: any ReadingStore, now: Int64) {
        try? store.write("cannot prune the forecasts") { db throws(StoreError) in
            try ForecastTables.prune(forecastsBefore: now - Int64(settings.keepForecastsDays) * 86_400,
                                     scoresBefore: now - Int64(settings.scoreWindowHours + settings.driftForHours) * 3600, in: db)
        }
    }

    /// A drift: the served model's rolling skill (over `score_window_hours`) below `drift_skill_below` at every
    /// hour of the last `drift_for_hours`, for some target. One event per model and target per drift period.
    private func checkDrift(_ store: any ReadingStore, now: Int64, served: [(model: String, targets: [ForecastTarget])],
                            lastDrift: inout [String: Int64]) {
        let hour = now / 3600
        for (model, targets) in served {
            for target in targets {
                let key = ForecastTables.ScoreKey(model: model, horizonMinutes: target.horizonMinutes, kind: target.kind.rawValue)
                let window = Int64(settings.scoreWindowHours), span = Int64(settings.driftForHours)
                guard let hourly = try? store.read("cannot read the scores", { db throws(StoreError) in
                    try ForecastTables.hourlyScores(key, from: (hour - window - span) * 3600, in: db)
                }) else { continue }
                let verdict = DriftRule(window: Int(window), span: Int(span), level: settings.driftSkillBelow)
                    .drifted(hourly: hourly, now: hour)
                guard let skill = verdict, lastDrift["\(key)"].map({ hour - $0 >= span }) ?? true else { continue }
                lastDrift["\(key)"] = hour
                let from = now - Int64(settings.historyDays) * 86_400
                let detail = "\(target) rolling skill stayed below \(settings.driftSkillBelow) for \(span) h (now \(DecimalText.signed(skill, 3)))"
                logger.warning("forecast: drift", metadata: ["model": "\(model)", "detail": "\(detail)"])
                try? store.write("cannot record the drift") { db throws(StoreError) in
                    try ForecastTables.record(.init(time: now, kind: "drift", model: model, detail: detail), in: db)
                    try ForecastTables.requestExport(reason: "drift of \(model) at \(target)", from: from, to: now, at: now, in: db)
                }
            }
        }
    }

    /// Loads `[FORECAST] model` when it is new or changed, checks it on recent history, and only then returns it.
    private enum ModelFileCheck {
        case unchanged, notYet
        case refused(FileStamp)
        case loaded((model: any CheckedForecastModel, stamp: FileStamp))
    }

    /// Loads `[FORECAST] model` when it is new or changed and checks it on recent history; only a model that
    /// passes is returned (and served). The bytes of the model served are kept in `forecast_model` (`keras`): when a
    /// different file passes, those of the one before are written to `<model>.previous`, so that copying it back
    /// rolls back.
    private func checkModelFile(current: FileStamp?, history: MinuteSeries, at minute: Int64, store: any ReadingStore) -> ModelFileCheck {
        guard let path = settings.modelPath, let loadModelFile else { return .unchanged }
        guard let stamp = FileStamp(path), stamp != current else { return .unchanged }
        let time = (minute + 1) * 60
        func record(_ kind: String, _ detail: String) { recordModelEvent(kind, detail, time: time, store: store) }
        do {
            guard let bytes = AtomicFile.read(path) else { return .notYet }
            let (model, check) = try ModelUpdate.verify(staged: path, history: history, at: minute, loader: loadModelFile)
            let encoded = Data(bytes).base64EncodedString()
            let previous = try store.read("cannot read the served model") { db throws(StoreError) in try ForecastTables.model(name: "keras", in: db) }
            var kept = ""
            if let previous, previous.state != encoded, let old = Data(base64Encoded: previous.state) {
                do {
                    try AtomicFile.write(Array(old), to: path + ".previous", mode: 0o640)
                    kept = "; the model served before is kept as \(path).previous"
                } catch {
                    logger.warning("forecast: the previous model could not be kept", metadata: ["error": "\(error)"])
                }
            }
            try store.write("cannot store the served model") { db throws(StoreError) in
                try ForecastTables.saveModel(name: "keras", trainedAt: time, state: encoded, in: db)
            }
            logger.notice("forecast: model file loaded", metadata: ["path": "\(path)", "model": "\(model.summary)", "check": "\(check)"])
            record("model_loaded", "\(path): \(model.summary); \(check)\(kept)")
            return .loaded((model, stamp))
        } catch let error as NotYetCheckable {
            logger.info("forecast: model file not served yet", metadata: ["path": "\(path)", "reason": "\(error)"])
            return .notYet
        } catch {
            logger.error("forecast: model file refused; the current models stay", metadata: ["path": "\(path)", "error": "\(error)"])
            record("model_rejected", "\(path): \(error)")
            // Not tried again until the file changes.
            return .refused(stamp)
        }
    }
}

/// The forecaster's state as stored: its history (`forecast_history`, then the minutes of `meter_data` after
/// it) and the built-in model (`forecast_model`). The service starts from it; the CLI forecasts from it.
public enum ForecastRestore {
    public static func load(_ store: any ReadingStore, historyDays: Int, upTo minute: Int64, logger: Logger)
        -> (history: MinuteSeries, builtin: BuiltinForecaster?) {
        let firstDay = minute / 1440 - Int64(historyDays)
        var series = MinuteSeries(capacityMinutes: historyDays * 1440)
        var builtin: BuiltinForecaster?
        do {
            let (days, skipped) = try store.read("cannot read the forecast history") { db throws(StoreError) in
                try ForecastTables.historyDays(from: firstDay, in: db)
            }
            for day in skipped { logger.warning("forecast: a history day of the wrong size was skipped", metadata: ["day": "\(day)"]) }
            // A day's blob spans the whole day: load it from its first to its last minute known, so that the minutes
            // after it (from meter_data, then live) extend the history instead of landing in the past.
            for day in days {
                guard let start = day.watts.firstIndex(where: { !$0.isNaN }), let end = day.watts.lastIndex(where: { !$0.isNaN }) else { continue }
                series.load(minute: day.day * 1440 + Int64(start), values: Array(day.watts[start...end]))
            }
            // Then the minutes of meter_data after it, a day at a time and only the three powers: a year of whole
            // rows at once would cost the service tens of MiB at start.
            var from = ((series.lastMinute ?? firstDay * 1440 - 1) + 1) * 60
            let end = minute * 60
            while from < end {
                let until = min(end, from + 86_400)
                let rows = try store.read("cannot read meter_data for the forecast history") { db throws(StoreError) in
                    try db.query("SELECT time, l1_p, l2_p, l3_p FROM meter_data WHERE time >= ? AND time < ? ORDER BY time",
                                 [.integer(from), .integer(until)])
                }
                for row in rows {
                    let phases = row[1...].map(\.double)
                    let total = phases.allSatisfy { $0 != nil } ? phases.reduce(0.0) { $0 + $1! } : nil
                    series.record(minute: row[0].int / 60, watts: total.flatMap { $0.isFinite ? $0 : nil })
                }
                from = until
            }
            builtin = try storedBuiltin(store, logger: logger)
        } catch {
            logger.warning("forecast: history not restored; it starts empty", metadata: ["error": "\(error)"])
        }
        return (series, builtin)
    }

    /// The built-in model in `forecast_model`, nil when none was stored (or it does not decode, logged).
    public static func storedBuiltin(_ store: any ReadingStore, logger: Logger) throws(StoreError) -> BuiltinForecaster? {
        guard let saved = try store.read("cannot read the forecast model", { db throws(StoreError) in try ForecastTables.model(name: "builtin", in: db) })
        else { return nil }
        guard let model = try? JSONDecoder().decode(BuiltinForecaster.self, from: Data(saved.state.utf8)) else {
            logger.warning("forecast: the stored built-in model does not decode; it is trained again")
            return nil
        }
        return model
    }

    /// Stores `model` as the built-in model, with a `trained` event.
    public static func saveBuiltin(_ model: BuiltinForecaster, _ store: any ReadingStore, detail: String) throws(StoreError) {
        let data = (try? JSONEncoder().encode(model)) ?? Data()
        try store.write("cannot store the built-in model") { db throws(StoreError) in
            try ForecastTables.saveModel(name: "builtin", trainedAt: (model.trainedAt + 1) * 60, state: String(decoding: data, as: UTF8.self), in: db)
            try ForecastTables.record(.init(time: (model.trainedAt + 1) * 60, kind: "trained", model: "builtin", detail: detail), in: db)
        }
    }
}

/// A fault of the forecaster's writes, logged once when it starts and once when it ends (never once a minute).
struct FaultGate {
    let logger: Logger
    private(set) var failing = false
    init(logger: Logger) { self.logger = logger }
    mutating func failed(_ why: String) {
        guard !failing else { return }
        failing = true
        logger.warning("forecast: not storing until the database takes writes again", metadata: ["reason": "\(why)"])
    }
    mutating func succeeded() {
        guard failing else { return }
        failing = false
        logger.notice("forecast: storing again")
    }
}

extension BuiltinForecaster {
    /// Per target, its validation skill against persistence, for logs and events: `value+60min: skill +18.2 %`.
    public var validationSummary: [String] {
        ForecastTarget.all.map { target in
            guard let v = validation[target] else { return "\(target): not validated (too little history)" }
            return "\(target): skill \(DecimalText.signed(v.skill * 100, 1)) %" + (v.servesPersistence ? " (serves persistence)" : "")
        }
    }
}

/// What other services read of the forecaster.
public struct ForecastState: Sendable {
    public var builtin: BuiltinForecaster?
    /// The Keras model served: its name and summary.
    public var modelFile: (name: String, summary: String)?
    public init() {}
}

/// A model loaded from a file, checked on recent history before it is served.
public protocol CheckedForecastModel: ServedForecastModel {
    var summary: String { get }
    /// Runs the model over recent history; throws when it cannot serve (non-finite outputs, no usable window).
    /// - Returns: what the check found, for the event log.
    func check(history: MinuteSeries, at minute: Int64) throws -> String
}

/// The built-in model, served.
public struct BuiltinServedModel: ServedForecastModel {
    public let model: BuiltinForecaster
    public init(model: BuiltinForecaster) { self.model = model }
    public var name: String { "builtin" }
    public func forecast(history: MinuteSeries, at minute: Int64) -> [ForecastTarget: Double] { model.forecast(history: history, at: minute) }
}

/// The drift rule on hourly score sums: the rolling skill over `window` hours, evaluated at each of the last
/// `span` hours, below `level` every time (and measured on at least half of each window's minutes).
public struct DriftRule: Sendable {
    public var window: Int, span: Int, level: Double
    public init(window: Int, span: Int, level: Double) { self.window = window; self.span = span; self.level = level }

    /// The latest rolling skill when drifted, nil when not.
    public func drifted(hourly: [(hour: Int64, sums: ForecastAccuracy)], now: Int64) -> Double? {
        var byHour: [Int64: ForecastAccuracy] = [:]
        for entry in hourly { byHour[entry.hour] = entry.sums }
        var latest: Double?
        for end in (now - Int64(span) + 1)...now {
            var sums = ForecastAccuracy()
            for hour in (end - Int64(window) + 1)...end { if let s = byHour[hour] { sums.merge(s) } }
            guard sums.count >= window * 30, sums.skill < level else { return nil }
            latest = latest ?? sums.skill
            if end == now { latest = sums.skill }
        }
        return latest
    }
}

/// A model file offered to the row loop, and the caller waiting for its verdict.
private struct ModelOffer {
    let id: UInt64
    let staged: String
    let source: String
    let reply: CheckedContinuation<ModelOfferVerdict, Never>
}

/// A file's identity for change detection: size and modification time.
struct FileStamp: Equatable {
    let size: Int64, modified: Int64, modifiedNanos: Int
    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size); modified = Int64(info.st_mtim.tv_sec); modifiedNanos = info.st_mtim.tv_nsec
    }
}

/// Runs CPU-heavy work (training) on a background dispatch thread, not on the concurrency pool the sampler shares.
enum BackgroundQueue {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .background).async { continuation.resume(returning: work()) }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
