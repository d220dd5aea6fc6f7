// SPDX-License-Identifier: Apache-2.0
import FoundationEssentials
public import Forecast
public import Logging
public import MeterConfig
import MeterReadings
public import MeterStore

/// What `clemap-edge forecast status` prints and the HTTP API will serve: the models, their validation, the Keras
/// model in use and the last one refused, the rolling scores per model and target, the history held, the newest
/// events and the queued exports.
/// JSON keys are snake_case; power in W; times Unix seconds UTC.
public struct ForecastReport: Sendable, Codable {
    public struct Validation: Sendable, Codable {
        public var horizon_min: Int
        public var target: String
        /// MAE skill against persistence on the validation days.
        public var skill_mae: Double
        /// `builtin`, or `persistence` where the built-in model could not beat it.
        public var serves: String
    }
    public struct Score: Sendable, Codable {
        public var horizon_min: Int
        public var target: String
        public var model: String
        public var count: Int
        public var mae: Double?
        public var rmse: Double?
        public var wape: Double?
        public var skill_mae: Double?
    }
    /// The Keras model last loaded (its `model_loaded` event).
    public struct ModelInUse: Sendable, Codable {
        public var loaded_at: Int64
        /// The file's path, or where an offered file came from (an S3 key).
        public var source: String
        /// The model, its check on recent history, and where it was installed.
        public var detail: String
    }
    /// The newest model file refused (its `model_rejected` event).
    public struct ModelRefusal: Sendable, Codable {
        public var time: Int64
        /// The file's path, or where an offered file came from (an S3 key).
        public var source: String
        /// Why, naming the file or archive entry, and the fix.
        public var reason: String
    }
    public var enabled: Bool
    public var model_file: String?
    /// Nil without `[FORECAST] model`, or before a model file passed its check.
    public var model_in_use: ModelInUse?
    /// Kept after a later model passes: the time tells which came last.
    public var last_refusal: ModelRefusal?
    public var builtin_trained_at: Int64?
    public var validation: [Validation]
    /// Over the `score_window_hours` up to `now`.
    public var score_window_hours: Int
    public var scores: [Score]
    public var history_from: Int64?
    public var history_to: Int64?
    public var history_minutes_present: Int
    public var events: [ForecastTables.Event]
    public var export_requests_pending: Int
    public var now: Int64

    /// The service writes a model event's detail as `<source>: <what>`.
    static func split(_ detail: String) -> (source: String, text: String) {
        guard let colon = detail.firstRange(of: ": ") else { return ("", detail) }
        return (String(detail[..<colon.lowerBound]), String(detail[colon.upperBound...]))
    }

    /// The model in use, from its `model_loaded` event.
    public static func modelInUse(_ event: ForecastTables.Event) -> ModelInUse {
        let (source, text) = split(event.detail)
        return ModelInUse(loaded_at: event.time, source: source, detail: text)
    }

    /// The rolling scores, by model, horizon and target; a figure that cannot be computed (no actuals) is nil.
    public static func scores(_ sums: [ForecastTables.ScoreKey: ForecastAccuracy]) -> [Score] {
        sums.keys.sorted().map { key -> Score in
            let s = sums[key]!
            func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
            return Score(horizon_min: key.horizonMinutes, target: key.kind, model: key.model, count: s.count,
                         mae: finite(s.mae), rmse: finite(s.rmse), wape: finite(s.wape), skill_mae: finite(s.skill))
        }
    }

    /// Reads the report from `store` as of `now` (the newest row's end when nil).
    public static func read(_ store: any ReadingStore, settings: ForecastSettings, now: Int64? = nil, logger: Logger) throws(StoreError) -> ForecastReport {
        let newest = try store.latest(limit: 1).first.map { $0.time + 60 }
        let now = now ?? newest ?? Int64(Date().timeIntervalSince1970)
        let restored = ForecastRestore.load(store, historyDays: settings.historyDays, upTo: now / 60, logger: logger)
        let builtin = restored.builtin
        let validation = ForecastTarget.all.compactMap { target -> Validation? in
            guard let v = builtin?.validation[target] else { return nil }
            return Validation(horizon_min: target.horizonMinutes, target: target.kind.rawValue, skill_mae: v.skill,
                              serves: v.servesPersistence ? "persistence" : "builtin")
        }
        let window = Int64(settings.scoreWindowHours) * 3600
        let (sums, events, exports, loaded, rejected) = try store.read("cannot read the forecast scores") { db throws(StoreError) in
            (try ForecastTables.scores(from: now - window, to: now, in: db), try ForecastTables.events(limit: 20, in: db),
             try ForecastTables.pendingExports(in: db).count,
             try ForecastTables.latestEvent(kind: "model_loaded", in: db), try ForecastTables.latestEvent(kind: "model_rejected", in: db))
        }
        let inUse = settings.modelPath == nil ? nil : loaded.map(modelInUse)
        let refusal = rejected.map { event in
            let (source, text) = split(event.detail)
            return ModelRefusal(time: event.time, source: source, reason: text)
        }
        let history = restored.history
        var present = 0
        if let first = history.firstMinute, let last = history.lastMinute {
            for minute in first...last where history.value(at: minute) != nil { present += 1 }
        }
        return ForecastReport(
            enabled: settings.enabled, model_file: settings.modelPath, model_in_use: inUse, last_refusal: refusal, builtin_trained_at: builtin.map { ($0.trainedAt + 1) * 60 },
            validation: validation, score_window_hours: settings.scoreWindowHours, scores: Self.scores(sums),
            history_from: history.firstMinute.map { $0 * 60 }, history_to: history.lastMinute.map { ($0 + 1) * 60 },
            history_minutes_present: present, events: events, export_requests_pending: exports, now: now)
    }
}
