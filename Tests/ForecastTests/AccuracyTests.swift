// SPDX-License-Identifier: Apache-2.0

import Forecast
import Testing

@Suite struct AccuracyTests {
    @Test func metricsByHand() {
        var a = ForecastAccuracy()
        // forecasts 1, 2, 3; actual 2, 2, 5; persistence 0, 2, 2 → errors 1, 0, 2; persistence errors 2, 0, 3
        a.add(forecast: 1, actual: 2, persistence: 0)
        a.add(forecast: 2, actual: 2, persistence: 2)
        a.add(forecast: 3, actual: 5, persistence: 2)
        #expect(a.count == 3)
        #expect(abs(a.mae - 1) < 1e-12)
        #expect(abs(a.rmse - (5.0 / 3).squareRoot()) < 1e-12)
        #expect(abs(a.wape - 3.0 / 9) < 1e-12)
        #expect(abs(a.maePersistence - 5.0 / 3) < 1e-12)
        #expect(abs(a.skill - 0.4) < 1e-12)
    }

    @Test func mergeEqualsOneAccumulator() {
        var all = ForecastAccuracy(), first = ForecastAccuracy(), second = ForecastAccuracy()
        for i in 0..<10 {
            let (f, y, p) = (Double(i), Double(i * i % 7), Double(i % 3))
            all.add(forecast: f, actual: y, persistence: p)
            if i < 4 { first.add(forecast: f, actual: y, persistence: p) } else { second.add(forecast: f, actual: y, persistence: p) }
        }
        first.merge(second)
        #expect(first == all)
        #expect(ForecastAccuracy().mae.isNaN && ForecastAccuracy().skill.isNaN)
    }

    @Test func rollingWindowForgetsOldDays() {
        var r = RollingForecastAccuracy(windowDays: 2)
        r.add(minute: 10, forecast: 10, actual: 0, persistence: 0)          // day 0: error 10
        r.add(minute: 1440 + 10, forecast: 1, actual: 0, persistence: 2)    // day 1: error 1
        r.add(minute: 2 * 1440 + 10, forecast: 3, actual: 0, persistence: 2) // day 2: error 3 (replaces day 0)
        let total = r.total(asOf: 2 * 1440 + 20)
        #expect(total.count == 2 && abs(total.mae - 2) < 1e-12 && abs(total.skill - 0) < 1e-12)
        #expect(r.total(asOf: 1440 + 20).count == 1)  // day 2 is not in a window ending on day 1
        #expect(r.total(asOf: 10 * 1440).count == 0)
    }
}
