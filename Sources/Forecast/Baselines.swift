// SPDX-License-Identifier: Apache-2.0

/// The forecasts every model is measured against, for the same targets.
public enum Baselines {
    /// "The next value equals the last one": the power of `minute` for every target; empty when it is missing.
    /// For one household at minute resolution this is the bar (field notes §6.2).
    public static func persistence(history: MinuteSeries, at minute: Int64,
                                   targets: [ForecastTarget] = ForecastTarget.all) -> [ForecastTarget: Double] {
        guard let v = history.value(at: minute) else { return [:] }
        var out: [ForecastTarget: Double] = [:]
        for t in targets { out[t] = Double(v) }
        return out
    }

    /// "Like yesterday": the same minute (value) or window (mean) one day earlier. A mean needs more than half
    /// of its minutes; a target whose day-earlier input is missing is left out.
    public static func seasonalNaiveDay(history: MinuteSeries, at minute: Int64,
                                        targets: [ForecastTarget] = ForecastTarget.all) -> [ForecastTarget: Double] {
        var out: [ForecastTarget: Double] = [:]
        for t in targets {
            if let v = seasonalNaive(lagMinutes: 1440, target: t, at: minute, value: { history.value(at: $0).map(Double.init) }) {
                out[t] = v
            }
        }
        return out
    }

    /// The seasonal naive forecast with any lag (≥ the horizon, so only the past is read).
    @inline(__always)
    static func seasonalNaive(lagMinutes lag: Int64, target: ForecastTarget, at minute: Int64,
                              value: (Int64) -> Double?) -> Double? {
        let h = Int64(target.horizonMinutes)
        precondition(lag >= h, "a seasonal lag shorter than the horizon would read the future")
        switch target.kind {
        case .value:
            return value(minute + h - lag)
        case .mean:
            var s = 0.0, n = 0
            for m in (minute + 1 - lag)...(minute + h - lag) { if let v = value(m) { s += v; n += 1 } }
            return n * 2 > Int(h) ? s / Double(n) : nil
        }
    }
}
