// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterServices
import MeterStore
import MeterConfig
import Logging

extension MeterAPI {
    struct ForecastPoint: Encodable, Sendable {
        var issued: Int64, target_time: Int64, horizon_min: Int, kind: String, model: String
        var value: Nullable<Double>, actual: Nullable<Double>
        init(_ row: ForecastTables.Row) {
            issued = row.issued; target_time = row.targetTime; horizon_min = row.horizonMinutes; kind = row.kind; model = row.model
            value = Nullable(finite: row.value); actual = Nullable(finite: row.actual)
        }
    }
    struct ForecastScore: Encodable, Sendable {
        var horizon_min: Int, target: String, model: String, count: Int
        var mae: Nullable<Double>, rmse: Nullable<Double>, wape: Nullable<Double>, skill_mae: Nullable<Double>
    }
    typealias ModelInUse = ForecastReport.ModelInUse
    struct ForecastAnswer: Encodable, Sendable {
        var enabled: Bool
        var issued: Nullable<Int64>
        var model_in_use: Nullable<ModelInUse>
        var forecasts: [ForecastPoint], recent: [ForecastPoint], scores: [ForecastScore]
        var score_window_hours: Int
    }

    /// The horizon the chart overlays: what was forecast 15 minutes ahead for each of the last 24 hours' minutes.
    static let recentHorizonMinutes = 15
    /// Models in the order the forecaster prefers them: a loaded Keras model, else the built-in one, else persistence.
    static let modelPreference = ["keras", "builtin", "persistence"]

    /// `GET /api/v1/forecast`: the newest forecasts, the last day's 15-minute forecasts of the preferred model, and
    /// the rolling scores per model, horizon and target.
    func forecastAnswer() throws -> Response {
        let empty = ForecastAnswer(enabled: false, issued: Nullable(nil), model_in_use: Nullable(nil), forecasts: [], recent: [],
                                   scores: [], score_window_hours: forecast.scoreWindowHours)
        guard forecast.enabled else { return try jsonAnswer(empty) }
        guard let store = hub.store.current else { throw APIError.storeClosed }
        let now = self.now, window = Int64(forecast.scoreWindowHours) * 3600
        let modelFile = forecast.modelPath
        do {
            let (latest, recentRows, sums, loaded) = try store.read("cannot read the forecasts for GET /api/v1/forecast") { db throws(StoreError) in
                (try ForecastTables.latest(in: db),
                 try db.query("""
                    SELECT issued, target_time, horizon_min, kind, model, value, actual FROM forecast
                    WHERE target_time >= ? AND target_time <= ? AND horizon_min = ? AND kind = 'value' ORDER BY target_time
                    """, [.integer(now - 86_400), .integer(now), .integer(Int64(Self.recentHorizonMinutes))]),
                 try ForecastTables.scores(from: now - window, to: now, in: db),
                 modelFile == nil ? nil : try ForecastTables.latestEvent(kind: "model_loaded", in: db))
            }
            // One point per target minute: the most preferred model that forecast it.
            var recent: [ForecastTables.Row] = []
            for values in recentRows {
                let row = ForecastTables.Row(issued: values[0].int, targetTime: values[1].int, horizonMinutes: Int(values[2].int),
                                             kind: values[3].string, model: values[4].string, value: values[5].double ?? .nan,
                                             actual: values[6].double)
                if let last = recent.last, last.targetTime == row.targetTime {
                    if Self.rank(row.model) < Self.rank(last.model) { recent[recent.count - 1] = row }
                } else {
                    recent.append(row)
                }
            }
            let scores = ForecastReport.scores(sums).map { s in
                ForecastScore(horizon_min: s.horizon_min, target: s.target, model: s.model, count: s.count, mae: Nullable(finite: s.mae),
                              rmse: Nullable(finite: s.rmse), wape: Nullable(finite: s.wape), skill_mae: Nullable(finite: s.skill_mae))
            }
            return try jsonAnswer(ForecastAnswer(
                enabled: true, issued: Nullable(latest.first?.issued), model_in_use: Nullable(loaded.map(ForecastReport.modelInUse)),
                forecasts: latest.map(ForecastPoint.init), recent: recent.map(ForecastPoint.init), scores: scores,
                score_window_hours: forecast.scoreWindowHours))
        } catch let error as StoreError {
            throw APIError(.serviceUnavailable, "the database cannot be read: \(error)")
        }
    }

    static func rank(_ model: String) -> Int { modelPreference.firstIndex(of: model) ?? modelPreference.count }

    /// The model in use for `/api/v1/status`, nil without a model file or store.
    func modelInUse() -> ModelInUse? {
        guard forecast.enabled, forecast.modelPath != nil, let store = hub.store.current else { return nil }
        let event = try? store.read("cannot read the forecaster's events") { db throws(StoreError) in
            try ForecastTables.latestEvent(kind: "model_loaded", in: db)
        }
        return event.flatMap { $0 }.map(ForecastReport.modelInUse)
    }
}
