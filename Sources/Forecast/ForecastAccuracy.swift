// SPDX-License-Identifier: Apache-2.0

/// Accuracy of one model on one target: sums that give MAE, RMSE, WAPE and the MAE skill against persistence
/// issued at the same minutes. Mergeable, so per-day sums add up to any period.
public struct ForecastAccuracy: Sendable, Codable, Equatable {
    /// Forecasts scored.
    public private(set) var count = 0
    /// The sums, as the forecaster stores them (hourly, in `forecast_score`).
    public private(set) var sumAbsoluteError = 0.0
    public private(set) var sumSquaredError = 0.0
    public private(set) var sumAbsoluteActual = 0.0
    public private(set) var sumAbsolutePersistenceError = 0.0

    public init() {}

    /// Sums read back from storage.
    public init(count: Int, sumAbsoluteError: Double, sumSquaredError: Double, sumAbsoluteActual: Double,
                sumAbsolutePersistenceError: Double) {
        self.count = count; self.sumAbsoluteError = sumAbsoluteError; self.sumSquaredError = sumSquaredError
        self.sumAbsoluteActual = sumAbsoluteActual; self.sumAbsolutePersistenceError = sumAbsolutePersistenceError
    }

    /// Adds one forecast.
    /// - Parameters:
    ///   - forecast: the model's forecast.
    ///   - actual: what happened.
    ///   - persistence: the persistence forecast issued at the same minute (for the skill).
    public mutating func add(forecast: Double, actual: Double, persistence: Double) {
        let e = forecast - actual
        count += 1
        sumAbsoluteError += abs(e)
        sumSquaredError += e * e
        sumAbsoluteActual += abs(actual)
        sumAbsolutePersistenceError += abs(persistence - actual)
    }

    /// Adds the sums of `other` (another period or another worker's share).
    public mutating func merge(_ other: ForecastAccuracy) {
        count += other.count
        sumAbsoluteError += other.sumAbsoluteError
        sumSquaredError += other.sumSquaredError
        sumAbsoluteActual += other.sumAbsoluteActual
        sumAbsolutePersistenceError += other.sumAbsolutePersistenceError
    }

    /// Mean absolute error (units of the series); NaN when empty.
    public var mae: Double { count > 0 ? sumAbsoluteError / Double(count) : .nan }
    /// Root mean squared error; NaN when empty.
    public var rmse: Double { count > 0 ? (sumSquaredError / Double(count)).squareRoot() : .nan }
    /// Weighted absolute percentage error: Σ|error| / Σ|actual| (a fraction; not MAPE, which zero load blows up).
    public var wape: Double { sumAbsoluteActual > 0 ? sumAbsoluteError / sumAbsoluteActual : .nan }
    /// Mean absolute error of persistence on the same forecasts.
    public var maePersistence: Double { count > 0 ? sumAbsolutePersistenceError / Double(count) : .nan }
    /// `1 − MAE / MAE of persistence` on the same forecasts: > 0 beats persistence.
    public var skill: Double { sumAbsolutePersistenceError > 0 ? 1 - sumAbsoluteError / sumAbsolutePersistenceError : .nan }
}

/// A `ForecastAccuracy` over the last `windowDays` days: a ring of per-day sums, for the service's rolling scores.
public struct RollingForecastAccuracy: Sendable, Codable, Equatable {
    /// Days in the window.
    public let windowDays: Int
    private var days: [ForecastAccuracy]
    private var dayNumbers: [Int64]

    /// - Parameter windowDays: how many days (≥ 1) the rolling scores cover.
    public init(windowDays: Int) {
        precondition(windowDays >= 1, "a rolling window covers at least one day")
        self.windowDays = windowDays
        days = Array(repeating: ForecastAccuracy(), count: windowDays)
        dayNumbers = Array(repeating: .min, count: windowDays)
    }

    /// Adds a forecast scored at Unix `minute` (days are UTC days of the minute the truth became known).
    public mutating func add(minute: Int64, forecast: Double, actual: Double, persistence: Double) {
        let day = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440
        let i = Int(((day % Int64(windowDays)) + Int64(windowDays)) % Int64(windowDays))
        if dayNumbers[i] != day { days[i] = ForecastAccuracy(); dayNumbers[i] = day }
        days[i].add(forecast: forecast, actual: actual, persistence: persistence)
    }

    /// The sums of the days in the window ending on the day of `minute`.
    public func total(asOf minute: Int64) -> ForecastAccuracy {
        let today = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440
        var out = ForecastAccuracy()
        for i in 0..<windowDays where dayNumbers[i] <= today && dayNumbers[i] > today - Int64(windowDays) {
            out.merge(days[i])
        }
        return out
    }
}
