// SPDX-License-Identifier: Apache-2.0

/// The inputs of the linear model for one target, issued at minute `t` with level `b = level(t)`.
/// All are levels (see `LevelScale`); all but the first two are differences from `b`, so that a zero
/// coefficient vector is persistence and every coefficient says how far to move away from it.
///
/// | # | feature | window | when inputs are missing |
/// |---|---|---|---|
/// | 0 | 1 | | |
/// | 1 | b | minute t | no forecast |
/// | 2, 3 | mean of the last 5, 15 minutes − b | consecutive | no forecast (never fed with a gap) |
/// | 4, 5 | mean of the last 60, 240 minutes − b | more than half present | no forecast |
/// | 6 | mean of the last 1440 minutes − b | more than half present | the 240-minute mean |
/// | 7 | a day before the target − b | value: 31 minutes centred on t + h − 1 day; mean: the target's window ± 30 min, a day before | profile |
/// | 8 | the same a week before | | profile |
/// | 9, 10 | a day, a week before now (15 minutes centred on t − 1 day, t − 7 days) − b | | profile now |
/// | 11, 12 | max(b − level(500 W), 0), max(b − level(1500 W), 0) | | |
/// | 13 | the weekday × 15-minute profile at the target's time − b | | |
/// | 14 | the profile now − b | | |
/// | 15 | feature 12 × feature 13 | | |
///
/// The hinges (11, 12, 15) let the pull back towards the usual level be stronger when a large load is on;
/// the profile now (14) with the profile at the target (13) gives the usual change between the two times.
/// Chosen on the development data before 2008-06 (numpy, static fit); see README.md.
enum Features {
    static let count = 16
    static let profileSlots = 7 * 96
    /// Where the hinges (features 11, 12) start, watts.
    static let hingeWatts = (500.0, 1500.0)

    /// Profile bin of a local time: weekday × 15-minute slot.
    @inline(__always) static func bin(_ local: LocalTime) -> Int { local.weekday * 96 + local.minuteOfDay / 15 }

    /// The local time the target is about: the horizon minute for a value, the window's middle for a mean.
    @inline(__always) static func targetOffset(_ target: ForecastTarget) -> Int64 {
        target.kind == .value ? Int64(target.horizonMinutes) : Int64((target.horizonMinutes + 1) / 2)
    }

    /// Fills `x` (length `count`); returns the level `b`, or `nil` when a required input is missing.
    @inline(__always)
    static func fill<W: LevelWindows>(
        _ x: inout [Double], windows w: W, at t: Int64, target: ForecastTarget,
        localNow: LocalTime, localOffset: Int64, profile: [Float], scale: LevelScale, hinges: (Double, Double)
    ) -> Double? {
        guard let b = w.level(t) else { return nil }
        let w5 = w.window(t - 4, t), w15 = w.window(t - 14, t)
        guard w5.present == 5, w15.present == 15 else { return nil }
        let w60 = w.window(t - 59, t), w240 = w.window(t - 239, t)
        guard w60.present > 30, w240.present > 120 else { return nil }

        let h = Int64(target.horizonMinutes)
        let targetLocal = LocalTime(t + localOffset + targetOffset(target))
        let prof = Double(profile[bin(targetLocal)])
        let profNow = Double(profile[bin(localNow)])

        @inline(__always) func lenient(_ from: Int64, _ to: Int64, _ fallback: Double) -> Double {
            let r = w.window(from, to)
            return r.present * 2 > Int(to - from + 1) ? r.sum / Double(r.present) : fallback
        }

        x[0] = 1
        x[1] = b
        x[2] = w5.sum / 5 - b
        x[3] = w15.sum / 15 - b
        x[4] = w60.sum / Double(w60.present) - b
        x[5] = w240.sum / Double(w240.present) - b
        x[6] = lenient(t - 1439, t, w240.sum / Double(w240.present)) - b
        for (k, lag) in [(7, Int64(1440)), (8, Int64(10080))] {
            switch target.kind {
            case .value:
                let c = t + h - lag
                x[k] = lenient(c - 15, c + 15, prof) - b
            case .mean:
                x[k] = lenient(t + 1 - lag - 30, t + h - lag + 30, prof) - b
            }
        }
        x[9] = lenient(t - 1440 - 7, t - 1440 + 7, profNow) - b
        x[10] = lenient(t - 10080 - 7, t - 10080 + 7, profNow) - b
        x[11] = max(b - hinges.0, 0)
        x[12] = max(b - hinges.1, 0)
        x[13] = prof - b
        x[14] = profNow - b
        x[15] = x[12] * x[13]
        return b
    }
}
