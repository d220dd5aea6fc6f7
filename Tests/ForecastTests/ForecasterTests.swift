// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import Forecast
import Testing

@Suite struct ForecasterTests {
    static let value1 = ForecastTarget(horizonMinutes: 1, kind: .value)
    static let value60 = ForecastTarget(horizonMinutes: 60, kind: .value)
    static let mean60 = ForecastTarget(horizonMinutes: 60, kind: .mean)

    /// A daily sine (1000 ± 800 W) with Laplace noise: the profile knows the next hour, persistence does not.
    static func daily(days: Int = 40, seed: UInt64 = 3) -> MinuteSeries {
        var rng = SplitMix64(state: seed)
        return series(days: days) { m in
            1000 + 800 * sin(2 * .pi * Double(m % 1440) / 1440) + 30 * rng.laplace()
        }
    }

    @Test func randomWalkServesPersistence() {
        var rng = SplitMix64(state: 4)
        // A pure random walk (no bounds: a reflecting bound would make it mean-reverting, which a model can use).
        var level = 5000.0
        let history = series(days: 40) { _ in
            level += 10 * rng.normal()
            return level
        }
        let end = history.lastMinute!
        let model = BuiltinForecaster.train(history: history, endingAt: end, calendar: .utc)
        for target in ForecastTarget.all {
            let v = try! #require(model.validation[target], "\(target)")
            #expect(v.servesPersistence, "\(target): skill \(v.skill)")
        }
        let f = model.forecast(history: history, at: end)
        #expect(f.count == ForecastTarget.all.count)
        for (_, watts) in f { #expect(watts == Double(history.value(at: end)!)) }
    }

    @Test func dailyPatternBeatsPersistenceAtAnHour() {
        let history = Self.daily()
        let model = BuiltinForecaster.train(history: history, endingAt: history.lastMinute!, calendar: .utc)
        for target in [Self.value60, Self.mean60] {
            let v = try! #require(model.validation[target])
            #expect(!v.servesPersistence && v.skill > 0.3, "\(target): \(v)")
        }
    }

    @Test func windowWithAGapIsNotFed() {
        var history = Self.daily()
        let model = BuiltinForecaster.train(history: history, endingAt: history.lastMinute!, calendar: .utc)
        // One more hour, with minute end − 3 missing: the 5- and 15-minute windows have a gap.
        let start = history.lastMinute! + 1
        for m in start..<(start + 60) { history.record(minute: m, watts: m == start + 56 ? nil : 1000) }
        let end = history.lastMinute!
        let f = model.forecast(history: history, at: end)
        for target in ForecastTarget.all {
            if model.servesModel(target) {
                #expect(f[target] == nil, "\(target) was forecast from a window with a gap")
            } else {
                #expect(f[target] == 1000)
            }
        }
        #expect(model.forecast(history: history, at: end - 4)[Self.value60] != nil)  // before the gap: all there
        history.record(minute: end + 1, watts: nil)
        #expect(model.forecast(history: history, at: end + 1).isEmpty)  // no last value: nothing
    }

    @Test func serviceAndBacktestPathsAgree() throws {
        let history = Self.daily(days: 30)
        let end = history.lastMinute! - 1440
        let model = BuiltinForecaster.train(history: history, endingAt: end, calendar: .utc)
        let scale = LevelScale(watts: model.options.scaleWatts)
        let prefix = PrefixWindows(start: history.firstMinute!, raw: history.values(from: history.firstMinute!, count: 30 * 1440), scale: scale)
        for t in stride(from: end, to: end + 1440, by: 97) {
            var view = prefix
            view.last = t
            var cache = OffsetCache(.utc)
            var x = [Double](repeating: 0, count: Features.count)
            var fast: [ForecastTarget: Double] = [:]
            model.forecast(windows: view, at: t, cache: &cache, x: &x) { fast[$0] = $1 }
            let slow = model.forecast(history: history, at: t)
            #expect(Set(fast.keys) == Set(slow.keys))
            for (k, v) in slow { #expect(abs(v - fast[k]!) < 1e-6 * max(1, abs(v)), "\(k) at \(t)") }
        }
        // And a model survives JSON.
        let decoded = try JSONDecoder().decode(BuiltinForecaster.self, from: JSONEncoder().encode(model))
        #expect(decoded.forecast(history: history, at: end + 10) == model.forecast(history: history, at: end + 10))
    }

    @Test func localTimeFollowsTheZone() {
        let zurich = ForecastCalendar(zoneIdentifier: "Europe/Zurich")
        // 2024-07-01 00:30 UTC = 02:30 CEST, a Monday; 2024-01-01 00:30 UTC = 01:30 CET, a Monday.
        let july = Int64(1_719_793_800 / 60), january = Int64(1_704_069_000 / 60)
        #expect(zurich.minuteOfDay(july) == 150 && zurich.weekday(july) == 0)
        #expect(zurich.minuteOfDay(january) == 90 && zurich.weekday(january) == 0)
        #expect(ForecastCalendar.utc.minuteOfDay(july) == 30)
    }
}
