// SPDX-License-Identifier: Apache-2.0

@testable import Forecast
import Testing

@Suite struct BacktestTests {
    /// 1000 W in the first half of every UTC day, 0 W in the second: a day repeats exactly.
    static let square = series(days: 10) { m in m % 1440 < 720 ? 1000 : 0 }

    func entry(_ r: Backtest.Result, _ model: String, _ target: ForecastTarget) -> ForecastAccuracy {
        r.results.first { $0.model == model && $0.target == target }!.accuracy
    }

    @Test func squareWaveAnswersAreKnown() {
        var backtest = Backtest(series: Self.square)
        backtest.scoreFrom = 2 * 1440
        let r = backtest.run()
        let value1 = ForecastTarget(horizonMinutes: 1, kind: .value)
        #expect(r.rowsScored == 8 * 1440)
        #expect(r.trainings == 10)
        // Persistence at one minute misses the two switches a day: on days 2 … 9 that is 16, minus the last
        // one (minute 14,399 has no truth), out of 8 × 1440 − 1 forecasts.
        let p = entry(r, "persistence", value1)
        #expect(p.count == 8 * 1440 - 1)
        #expect(abs(p.mae - 15_000 / Double(8 * 1440 - 1)) < 1e-9)
        #expect(abs(p.skill) < 1e-12)
        // Yesterday is exactly today.
        for target in ForecastTarget.all {
            #expect(entry(r, "seasonal_naive_day", target).mae < 1e-9, "\(target)")
            // Ten days are too few to validate (14 + 7): the built-in model serves persistence, exactly.
            #expect(entry(r, "builtin", target).mae == entry(r, "persistence", target).mae)
        }
        #expect(r.results.map(\.model).prefix(3) == ["persistence", "seasonal_naive_day", "builtin"])
        #expect(r.results.first?.target == value1 && r.results.last?.target == ForecastTarget(horizonMinutes: 60, kind: .mean))
    }

    @Test func maskedMinutesAreNeitherInputNorTruth() {
        var backtest = Backtest(series: Self.square)
        backtest.scoreFrom = 2 * 1440
        backtest.masked = [(3 * 1440)...(3 * 1440 + 99)]
        let r = backtest.run()
        #expect(r.rowsScored == 8 * 1440 - 100)
        // The day after the mask, seasonal naive has no input there.
        let value1 = ForecastTarget(horizonMinutes: 1, kind: .value)
        #expect(entry(r, "seasonal_naive_day", value1).count == entry(r, "persistence", value1).count - 100)
    }

    @Test func extraModelsSeeOnlyThePast() {
        var backtest = Backtest(series: Self.square)
        backtest.scoreFrom = 2 * 1440
        backtest.includeBuiltin = false
        var latest: Int64 = .min
        backtest.extraModels = [Backtest.Model(name: "oracle-free") { history, minute in
            latest = max(latest, history.lastMinute ?? .min)
            #expect(history.lastMinute == minute)
            return Baselines.seasonalNaiveDay(history: history, at: minute)
        }]
        let r = backtest.run()
        #expect(latest == 10 * 1440 - 1)
        #expect(Set(r.results.map(\.model)) == ["persistence", "seasonal_naive_day", "oracle-free"])
        for target in ForecastTarget.all {
            #expect(entry(r, "oracle-free", target).mae < 1e-9)
        }
    }

    @Test func persistenceBaselineIsTheLastValue() {
        let f = Baselines.persistence(history: Self.square, at: 100)
        #expect(f.count == 5 && f.values.allSatisfy { $0 == 1000 })
        #expect(Baselines.seasonalNaiveDay(history: Self.square, at: 100).isEmpty)  // no day before
        let g = Baselines.seasonalNaiveDay(history: Self.square, at: 1440 + 700)
        #expect(g[ForecastTarget(horizonMinutes: 60, kind: .mean)] == 1000.0 * 19 / 60)  // minutes 701 … 760 of day 0: 19 at 1000 W
    }
}
