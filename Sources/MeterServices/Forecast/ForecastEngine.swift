// SPDX-License-Identifier: Apache-2.0
public import Forecast
import MeterStore

/// A model the service serves beside the baselines: the built-in one, or a Keras file.
public protocol ServedForecastModel: Sendable {
    /// `builtin`, `keras`.
    var name: String { get }
    /// Forecasts issued at `minute` (the last minute known), only for targets whose inputs are all present.
    func forecast(history: MinuteSeries, at minute: Int64) -> [ForecastTarget: Double]
}

/// The forecaster's state machine, without I/O: each minute's power goes in, the forecasts to store, the actuals
/// and the score sums come out. ``ForecastService`` runs it on the row broadcast and writes what it returns;
/// `forecast backtest` and the tests drive it directly.
public struct ForecastEngine: Sendable {
    /// What one minute produced.
    public struct Step: Sendable {
        /// Every model's forecasts issued at this minute.
        public var forecasts: [ForecastTables.Row] = []
        /// Forecasts whose actual arrived: (issued, horizon, kind, actual).
        public var actuals: [(issued: Int64, horizonMinutes: Int, kind: String, actual: Double)] = []
        /// Score sums to add, for the hour of this minute.
        public var scores: [ForecastTables.ScoreKey: ForecastAccuracy] = [:]
    }

    public private(set) var history: MinuteSeries
    /// The models beside the baselines, in serving order (a Keras model before the built-in one).
    public var models: [any ServedForecastModel] = []
    /// Forecasts by issue minute, kept until every target of the issue is scored.
    private var pending: [Int64: [String: [ForecastTarget: Double]]] = [:]
    private static let longest = ForecastTarget.all.map(\.horizonMinutes).max() ?? 60

    public init(history: MinuteSeries) { self.history = history }

    /// The model names of the baselines, always issued and scored.
    public static let baselineNames = ["persistence", "seasonal_naive_day"]

    /// Takes the power of minute `minute` (nil when the row is missing or unusable) and returns what to store.
    /// Minutes must come in increasing order; an older or repeated minute is ignored.
    public mutating func observe(minute: Int64, watts: Double?) -> Step {
        var step = Step()
        if let last = history.lastMinute, minute <= last { return step }
        history.record(minute: minute, watts: watts)

        // Score the issues whose target ends at this minute.
        for target in ForecastTarget.all {
            let issue = minute - Int64(target.horizonMinutes)
            guard let issued = pending[issue], let actual = target.actual(in: history, issuedAt: issue),
                  let persistence = issued["persistence"]?[target] else { continue }
            step.actuals.append(((issue + 1) * 60, target.horizonMinutes, target.kind.rawValue, actual))
            for (model, forecasts) in issued {
                guard let forecast = forecasts[target] else { continue }
                step.scores[ForecastTables.ScoreKey(model: model, horizonMinutes: target.horizonMinutes, kind: target.kind.rawValue),
                            default: ForecastAccuracy()].add(forecast: forecast, actual: actual, persistence: persistence)
            }
        }
        pending = pending.filter { $0.key > minute - Int64(Self.longest) }

        // Issue from this minute: nothing without its own value (persistence needs it).
        guard watts != nil else { return step }
        let issued = issue(at: minute)
        pending[minute] = issued
        step.forecasts = Self.rows(issued, at: minute)
        return step
    }

    /// Every model's forecasts from the newest minute held, without changing any state (`forecast predict`).
    public func forecastsNow() -> [ForecastTables.Row] {
        guard let minute = history.lastMinute, history.value(at: minute) != nil else { return [] }
        return Self.rows(issue(at: minute), at: minute)
    }

    /// The baselines' and the models' forecasts issued at `minute`.
    func issue(at minute: Int64) -> [String: [ForecastTarget: Double]] {
        var issued: [String: [ForecastTarget: Double]] = [:]
        issued["persistence"] = Baselines.persistence(history: history, at: minute)
        issued["seasonal_naive_day"] = Baselines.seasonalNaiveDay(history: history, at: minute)
        for model in models { issued[model.name] = model.forecast(history: history, at: minute) }
        return issued
    }

    /// Table rows of one issue, finite values only, values before means, by horizon and model.
    static func rows(_ issued: [String: [ForecastTarget: Double]], at minute: Int64) -> [ForecastTables.Row] {
        var rows: [ForecastTables.Row] = []
        for (model, forecasts) in issued {
            for (target, value) in forecasts where value.isFinite {
                rows.append(ForecastTables.Row(
                    issued: (minute + 1) * 60, targetTime: (minute + Int64(target.horizonMinutes)) * 60,
                    horizonMinutes: target.horizonMinutes, kind: target.kind.rawValue, model: model, value: value))
            }
        }
        return rows.sorted {
            if $0.kind != $1.kind { return $0.kind > $1.kind }
            if $0.horizonMinutes != $1.horizonMinutes { return $0.horizonMinutes < $1.horizonMinutes }
            return $0.model < $1.model
        }
    }
}
