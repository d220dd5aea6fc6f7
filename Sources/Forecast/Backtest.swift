// SPDX-License-Identifier: Apache-2.0

/// Replays a history minute by minute as the device would live it: at each minute every model forecasts from
/// the past only; the built-in model is retrained on the service's schedule from the history the service
/// would hold (`capacityMinutes`); forecasts are scored once their truth is known, from `scoreFrom` on.
///
/// Each model's accuracy is summed on the minutes where it, persistence and the truth exist, so its skill is
/// always against persistence on the same forecasts.
public struct Backtest {
    /// An extra model (the CLI adds a Keras model): forecasts issued at the minute, from the history held so far.
    public struct Model {
        public var name: String
        public var forecast: (MinuteSeries, Int64) -> [ForecastTarget: Double]
        /// - Parameters:
        ///   - name: the name in the results.
        ///   - forecast: called with the device's history (capacity-limited, ending at the minute) and the minute.
        public init(name: String, forecast: @escaping (MinuteSeries, Int64) -> [ForecastTarget: Double]) {
            self.name = name
            self.forecast = forecast
        }
    }

    /// One model × target.
    public struct Entry: Sendable {
        public var target: ForecastTarget
        public var model: String
        public var accuracy: ForecastAccuracy
    }

    /// What a replay measured.
    public struct Result: Sendable {
        /// Minutes scored (the last value known and not masked, at or after `scoreFrom`).
        public var rowsScored: Int
        /// Per target (horizon, then value before mean) and model (persistence, seasonal_naive_day, builtin, extras).
        public var results: [Entry]
        /// Trainings of the built-in model, and per target how many of them served persistence.
        public var trainings: Int
        public var trainingsServingPersistence: [ForecastTarget: Int]
    }

    /// The whole series to replay.
    public var series: MinuteSeries
    /// Minutes treated as missing everywhere: in the models' inputs and in scoring (fills).
    public var masked: [ClosedRange<Int64>] = []
    public var calendar: ForecastCalendar = .utc
    public var trainingOptions = TrainingOptions()
    /// The history the service holds (`MinuteSeries` capacity): 400 days.
    public var capacityMinutes = 400 * 1440
    /// The built-in model is retrained when the minute is a multiple of this (1440: daily at 00:00 UTC).
    public var trainEveryMinutes = 1440
    /// Score forecasts issued from this minute on (`nil`: from the first minute).
    public var scoreFrom: Int64?
    public var includeBuiltin = true
    public var extraModels: [Model] = []

    /// - Parameter series: the history to replay (its whole capacity is read).
    public init(series: MinuteSeries) { self.series = series }

    /// Names of the built-in models, in result order.
    public static let baseModelNames = ["persistence", "seasonal_naive_day", "builtin"]

    /// Runs the replay.
    /// - Parameter progress: called with the fraction done (0 … 1), about every 1 %.
    public func run(progress: ((Double) -> Void)? = nil) -> Result {
        let targets = trainingOptions.targets
        guard let start = series.firstMinute, let end = series.lastMinute else {
            return Result(rowsScored: 0, results: [], trainings: 0, trainingsServingPersistence: [:])
        }
        var raw = series.values(from: start, count: Int(end - start + 1))
        for range in masked {
            var m = max(range.lowerBound, start)
            while m <= min(range.upperBound, end) { raw[Int(m - start)] = .nan; m += 1 }
        }
        let scale = LevelScale(watts: trainingOptions.scaleWatts)
        var view = PrefixWindows(start: start, raw: raw, scale: scale)
        var device = MinuteSeries(capacityMinutes: capacityMinutes)

        let modelNames = Self.baseModelNames.filter { includeBuiltin || $0 != "builtin" } + extraModels.map(\.name)
        let builtinIndex = includeBuiltin ? 2 : -1
        var accuracy = [[ForecastAccuracy]](repeating: [ForecastAccuracy](repeating: .init(), count: targets.count),
                                            count: modelNames.count)
        var model = BuiltinForecaster.persistenceOnly(calendar: calendar, options: trainingOptions)
        var trainings = 0
        var servedPersistence: [ForecastTarget: Int] = [:]
        var cache = OffsetCache(calendar)
        var x = [Double](repeating: 0, count: Features.count)
        var truths = [Double?](repeating: nil, count: targets.count)
        var forecasts = [Double?](repeating: nil, count: targets.count)
        let targetIndex = Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1, $0) })
        let scoreStart = scoreFrom ?? start
        let total = Double(end - start + 1)
        var nextProgress = start
        let progressStep = max(1, (end - start + 1) / 100)
        var rowsScored = 0

        @inline(__always) func rawValue(_ m: Int64) -> Double? {
            guard m >= start, m <= end else { return nil }
            let v = raw[Int(m - start)]
            return v.isNaN ? nil : Double(v)
        }

        var t = start
        while t <= end {
            if t >= nextProgress { progress?(Double(t - start) / total); nextProgress += progressStep }
            view.first = max(start, t - Int64(capacityMinutes) + 1)
            view.last = t
            if !extraModels.isEmpty { device.record(minute: t, watts: rawValue(t)) }
            if includeBuiltin, t % Int64(trainEveryMinutes) == 0 {
                var trainView = view
                trainView.first = max(view.first, t - Int64(trainingOptions.historyDays) * 1440 + 1)
                model = BuiltinForecaster.train(windows: trainView, endingAt: t, calendar: calendar, options: trainingOptions)
                trainings += 1
                for target in targets where !model.servesModel(target) { servedPersistence[target, default: 0] += 1 }
            }
            defer { t += 1 }
            guard t >= scoreStart, let persistence = rawValue(t) else { continue }
            rowsScored += 1
            for (i, target) in targets.enumerated() {
                let h = Int64(target.horizonMinutes)
                switch target.kind {
                case .value: truths[i] = rawValue(t + h)
                case .mean:
                    var s = 0.0
                    var complete = true
                    for m in (t + 1)...(t + h) { guard let v = rawValue(m) else { complete = false; break }; s += v }
                    truths[i] = complete ? s / Double(h) : nil
                }
                if let y = truths[i] {
                    accuracy[0][i].add(forecast: persistence, actual: y, persistence: persistence)
                    if let f = Baselines.seasonalNaive(lagMinutes: 1440, target: target, at: t, value: { view.watts($0) }) {
                        accuracy[1][i].add(forecast: f, actual: y, persistence: persistence)
                    }
                }
            }
            if builtinIndex >= 0 {
                for i in forecasts.indices { forecasts[i] = nil }
                model.forecast(windows: view, at: t, cache: &cache, x: &x) { target, f in
                    if let i = targetIndex[target] { forecasts[i] = f }
                }
                for i in targets.indices {
                    if let y = truths[i], let f = forecasts[i] {
                        accuracy[builtinIndex][i].add(forecast: f, actual: y, persistence: persistence)
                    }
                }
            }
            for (k, extra) in extraModels.enumerated() {
                let out = extra.forecast(device, t)
                for (i, target) in targets.enumerated() {
                    if let y = truths[i], let f = out[target] {
                        accuracy[modelNames.count - extraModels.count + k][i].add(forecast: f, actual: y, persistence: persistence)
                    }
                }
            }
        }
        progress?(1)
        var entries: [Entry] = []
        for (i, target) in targets.enumerated().sorted(by: { $0.element < $1.element }) {
            for (k, name) in modelNames.enumerated() {
                entries.append(Entry(target: target, model: name, accuracy: accuracy[k][i]))
            }
        }
        return Result(rowsScored: rowsScored, results: entries, trainings: trainings,
                      trainingsServingPersistence: servedPersistence)
    }
}
