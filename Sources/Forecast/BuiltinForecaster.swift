// SPDX-License-Identifier: Apache-2.0

internal import FoundationEssentials

/// How the built-in forecaster is trained. The defaults are the ones the backtest on the development data
/// was run with (see `Sources/Forecast/README.md`).
public struct TrainingOptions: Sendable, Codable, Equatable {
    /// The targets to fit.
    public var targets: [ForecastTarget] = ForecastTarget.all
    /// Watts at which the level `asinh(w / scale)` turns from linear to logarithmic.
    public var scaleWatts: Double = 50
    /// At most this many days of history (ending at the training minute) are used.
    public var historyDays: Int = 364
    /// One training row every this many minutes (a number prime to 1440, so that every time of day is seen).
    public var rowStride: Int = 47
    /// The newest days are held out to validate each target against persistence.
    public var validationDays: Int = 14
    /// One validation row every this many minutes.
    public var validationStride: Int = 5
    /// Training needs at least this many days before the validation days; until then persistence is served.
    public var minimumTrainingDays: Int = 7
    /// The model serves a target only when its validation skill (1 − MAE model / MAE persistence) is at least this.
    public var minimumSkill: Double = 0.02
    /// Reweighting passes of the least-absolute-deviations fit, and of the refit on all rows after validation.
    public var iterations: Int = 10
    public var refitIterations: Int = 4
    /// Smallest residual (in levels) a weight is taken from, and the ridge (relative to the mean diagonal).
    public var epsilon: Double = 1e-3
    public var ridge: Double = 1e-6

    public init() {}
}

/// How one target fared on the validation days of its training.
public struct TargetValidation: Sendable, Codable, Equatable {
    /// Mean absolute error of the model and of persistence on the validation rows, watts.
    public var maeModel: Double
    public var maePersistence: Double
    /// `1 − maeModel / maePersistence` (0 when there were no rows).
    public var skill: Double
    /// Validation rows.
    public var rows: Int
    /// The model did not beat persistence by `minimumSkill`: forecasts of this target are persistence.
    public var servesPersistence: Bool
}

/// The built-in forecaster: per target, a linear model on levels (`asinh(w / 50 W)`) of recent means,
/// seasonal windows a day and a week back and a weekday × time-of-day profile, fitted for least absolute
/// deviations on the device's own history. Each target falls back to persistence where validation shows that
/// the model does not beat it.
public struct BuiltinForecaster: Sendable, Codable {
    /// The minute the training ended at (the last minute of history it saw).
    public var trainedAt: Int64
    /// Per target: validation against persistence on the newest days.
    public var validation: [ForecastTarget: TargetValidation]
    /// The options it was trained with.
    public var options: TrainingOptions
    /// The calendar of the profile and the time features.
    public var timeZoneIdentifier: String
    /// Coefficients per target (see `Features`), for the targets the model serves.
    var coefficients: [ForecastTarget: [Double]]
    /// Mean level per weekday × 15-minute slot (672 values).
    var profile: [Float]
    /// Level range seen in training: forecasts are clamped to it.
    var levelRange: ClosedRange<Double>

    /// A forecaster that serves persistence for every target (before the first training).
    public static func persistenceOnly(calendar: ForecastCalendar = .utc, options: TrainingOptions = .init()) -> BuiltinForecaster {
        BuiltinForecaster(trainedAt: .min, validation: [:], options: options, timeZoneIdentifier: calendar.zone.identifier,
                          coefficients: [:], profile: [Float](repeating: 0, count: Features.profileSlots), levelRange: 0...0)
    }

    /// Whether `target` is forecast by the model (else by persistence, or not at all if not trained for).
    public func servesModel(_ target: ForecastTarget) -> Bool { coefficients[target] != nil }

    /// Trains on the history ending at `minute`. Takes tens of milliseconds for a year of minutes.
    ///
    /// Per target: rows every `rowStride` minutes before the newest `validationDays` are fitted; the fit is
    /// scored against persistence on those days; if it wins by `minimumSkill`, it is refitted on all rows,
    /// otherwise the target serves persistence.
    /// - Parameters:
    ///   - history: the device's minute history.
    ///   - minute: the last minute training may see (usually the current minute).
    ///   - calendar: local time of the installation.
    ///   - options: see `TrainingOptions`.
    public static func train(history: MinuteSeries, endingAt minute: Int64, calendar: ForecastCalendar,
                             options: TrainingOptions = .init()) -> BuiltinForecaster {
        let scale = LevelScale(watts: options.scaleWatts)
        var windows = PrefixWindows(history, endingAt: minute, scale: scale)
        windows.first = max(windows.first, minute - Int64(options.historyDays) * 1440 + 1)
        return train(windows: windows, endingAt: minute, calendar: calendar, options: options)
    }

    static func train<W: LevelWindows>(windows: W, endingAt minute: Int64, calendar: ForecastCalendar,
                                       options: TrainingOptions) -> BuiltinForecaster {
        let scale = LevelScale(watts: options.scaleWatts)
        var model = persistenceOnly(calendar: calendar, options: options)
        model.trainedAt = minute
        let first = windows.first
        let last = min(windows.last, minute)
        guard last > first else { return model }

        // The profile: mean level per weekday × 15-minute slot; empty slots take the overall mean.
        var cache = OffsetCache(calendar)
        var sums = [Double](repeating: 0, count: Features.profileSlots)
        var counts = [Int](repeating: 0, count: Features.profileSlots)
        var total = 0.0, n = 0
        // By 15-minute blocks of local time (prefix sums: one window per block, not one level per minute).
        var m = first
        while m <= last {
            let local = cache.local(m)
            let blockEnd = min(last, m + Int64(14 - local.minuteOfDay % 15))
            let w = windows.window(m, blockEnd)
            let k = Features.bin(local)
            sums[k] += w.sum; counts[k] += w.present; total += w.sum; n += w.present
            m = blockEnd + 1
        }
        guard n > 0 else { return model }
        let overall = total / Double(n)
        model.profile = (0..<Features.profileSlots).map { Float(counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : overall) }
        // Forecasts are clamped to the levels seen (a guard against extrapolating far out).
        var lo = Double.infinity, hi = -Double.infinity
        m = first
        while m <= last {
            if let w = windows.watts(m) { lo = min(lo, w); hi = max(hi, w) }
            m += 1
        }
        (lo, hi) = (scale.level(lo), scale.level(hi))
        model.levelRange = lo...hi

        let validationStart = last - Int64(options.validationDays) * 1440 + 1
        guard validationStart - first >= Int64(options.minimumTrainingDays) * 1440 else {
            return model  // too little history: persistence everywhere, no validation
        }
        let phase = Int64(((minute / 1440) % Int64(options.rowStride) + Int64(options.rowStride)) % Int64(options.rowStride))
        var x = [Double](repeating: 0, count: Features.count)
        let p = Features.count
        let hinges = (scale.level(Features.hingeWatts.0), scale.level(Features.hingeWatts.1))
        for target in options.targets {
            let h = Int64(target.horizonMinutes)
            var fitRows = LeastAbsoluteDeviations(p: p, reserve: Int(last - first) / options.rowStride + 1)
            var validationRows = LeastAbsoluteDeviations(p: p, reserve: Int(last - validationStart) / options.validationStride + 1)
            var validationWatts: [(actual: Double, persistence: Double)] = []
            var t = first + 240 + phase
            // Rows whose target ends before the validation days (no overlap), then validation rows.
            while t + h < validationStart {
                if let (b, y, _) = row(&x, windows, t, target, &cache, scale, model.profile, hinges) {
                    fitRows.append(x, target: scale.level(y) - b)
                }
                t += Int64(options.rowStride)
            }
            t = validationStart
            while t + h <= last {
                if let (b, y, bw) = row(&x, windows, t, target, &cache, scale, model.profile, hinges) {
                    validationRows.append(x, target: scale.level(y) - b)
                    validationWatts.append((y, bw))
                }
                t += Int64(options.validationStride)
            }
            guard fitRows.count > 20 * p, !validationWatts.isEmpty else { continue }
            let coefficients = fitRows.fit(start: nil, iterations: options.iterations, epsilon: options.epsilon, ridge: options.ridge)
            var errModel = 0.0, errPersistence = 0.0
            for i in 0..<validationWatts.count {
                let level = validationRows.predict(i, coefficients)
                let b = validationRows.feature(i, 1)
                let f = scale.watts(min(max(b + level, lo), hi))
                errModel += abs(f - validationWatts[i].actual)
                errPersistence += abs(validationWatts[i].persistence - validationWatts[i].actual)
            }
            let rows = validationWatts.count
            let skill = errPersistence > 0 ? 1 - errModel / errPersistence : 0
            let serves = skill >= options.minimumSkill
            model.validation[target] = TargetValidation(
                maeModel: errModel / Double(rows), maePersistence: errPersistence / Double(rows), skill: skill,
                rows: rows, servesPersistence: !serves)
            guard serves else { continue }
            // Refit with the validation days in, from the fitted coefficients (a few passes suffice).
            var t2 = validationStart + (phase % Int64(options.validationStride))
            while t2 + h <= last {
                if let (b, y, _) = row(&x, windows, t2, target, &cache, scale, model.profile, hinges) {
                    fitRows.append(x, target: scale.level(y) - b)
                }
                t2 += Int64(options.rowStride)
            }
            model.coefficients[target] = options.refitIterations > 0
                ? fitRows.fit(start: coefficients, iterations: options.refitIterations, epsilon: options.epsilon, ridge: options.ridge)
                : coefficients
        }
        return model
    }

    /// Features of one training row and its truth in watts; `nil` when inputs or truth are missing.
    @inline(__always)
    private static func row<W: LevelWindows>(
        _ x: inout [Double], _ windows: W, _ t: Int64, _ target: ForecastTarget, _ cache: inout OffsetCache,
        _ scale: LevelScale, _ profile: [Float], _ hinges: (Double, Double)
    ) -> (b: Double, actual: Double, persistence: Double)? {
        guard let y = actual(windows, t, target) else { return nil }
        let offset = cache.offset(t)
        guard let b = Features.fill(&x, windows: windows, at: t, target: target, localNow: LocalTime(t + offset),
                                    localOffset: offset, profile: profile, scale: scale, hinges: hinges),
              let bw = windows.watts(t) else { return nil }
        return (b, y, bw)
    }

    /// The truth of `target` issued at `t`, read from windows that extend past `t` (training only).
    static func actual<W: LevelWindows>(_ windows: W, _ t: Int64, _ target: ForecastTarget) -> Double? {
        switch target.kind {
        case .value: return windows.watts(t + Int64(target.horizonMinutes))
        case .mean:
            var s = 0.0
            for m in (t + 1)...(t + Int64(target.horizonMinutes)) {
                guard let v = windows.watts(m) else { return nil }
                s += v
            }
            return s / Double(target.horizonMinutes)
        }
    }

    /// Forecasts issued at `minute`, the last known minute of `history`.
    ///
    /// Targets whose inputs are missing are left out (a window with a gap is never fed as consecutive);
    /// targets the model does not serve get persistence (the value of `minute`).
    /// - Returns: watts per target; empty when the power of `minute` is missing.
    public func forecast(history: MinuteSeries, at minute: Int64) -> [ForecastTarget: Double] {
        let scale = LevelScale(watts: options.scaleWatts)
        guard let windows = SeriesWindows(history, endingAt: minute, scale: scale) else { return [:] }
        var cache = OffsetCache(calendar)
        var x = [Double](repeating: 0, count: Features.count)
        var out: [ForecastTarget: Double] = [:]
        forecast(windows: windows, at: minute, cache: &cache, x: &x) { out[$0] = $1 }
        return out
    }

    /// The calendar rebuilt from `timeZoneIdentifier` (UTC if the zone is unknown here).
    public var calendar: ForecastCalendar {
        ForecastCalendar(zoneIdentifier: timeZoneIdentifier)
    }

    /// The shared path of `forecast(history:at:)` and the backtest: calls `emit` per target forecast.
    @inline(__always)
    func forecast<W: LevelWindows>(windows: W, at t: Int64, cache: inout OffsetCache, x: inout [Double],
                                   emit: (ForecastTarget, Double) -> Void) {
        guard let bw = windows.watts(t) else { return }
        let scale = LevelScale(watts: options.scaleWatts)
        let offset = cache.offset(t)
        let local = LocalTime(t + offset)
        let hinges = (scale.level(Features.hingeWatts.0), scale.level(Features.hingeWatts.1))
        for target in options.targets {
            guard let c = coefficients[target] else { emit(target, bw); continue }
            guard let b = Features.fill(&x, windows: windows, at: t, target: target, localNow: local,
                                        localOffset: offset, profile: profile, scale: scale,
                                        hinges: hinges) else { continue }
            var level = b
            for j in 0..<Features.count { level += x[j] * c[j] }
            emit(target, scale.watts(min(max(level, levelRange.lowerBound), levelRange.upperBound)))
        }
    }
}
