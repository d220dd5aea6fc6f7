// SPDX-License-Identifier: Apache-2.0

import Forecast
import Foundation
import MeterServices
import MeterStore
import MeterTesting
import Testing

/// The forecaster's state machine without I/O, and its tables on a real SQLite file.
@Suite struct ForecastEngineTests {
    let start: Int64 = 29_916_000  // a Unix minute (2026-11-17)

    @Test func persistenceIsIssuedEachMinuteAndScoredWhenTheActualArrives() {
        var engine = ForecastEngine(history: MinuteSeries(capacityMinutes: 10 * 1440))
        var steps: [ForecastEngine.Step] = []
        for i in 0..<120 { steps.append(engine.observe(minute: start + Int64(i), watts: Double(100 + i))) }

        // Issued at minute 0: persistence says 100 W for every target, made at the end of minute 0.
        let first = steps[0].forecasts.filter { $0.model == "persistence" }
        #expect(first.count == ForecastTarget.all.count)
        #expect(first.allSatisfy { $0.value == 100 && $0.issued == (start + 1) * 60 })
        #expect(first.first { $0.kind == "value" && $0.horizonMinutes == 60 }?.targetTime == (start + 60) * 60)
        // No day of history yet: no seasonal naive forecast.
        #expect(steps[0].forecasts.allSatisfy { $0.model != "seasonal_naive_day" })

        // At minute 60 the value+60 issued at minute 0 is scored: actual 160 W, error 60 W.
        let scored = steps[60].actuals.first { $0.issued == (start + 1) * 60 && $0.horizonMinutes == 60 && $0.kind == "value" }
        #expect(scored?.actual == 160)
        let key = ForecastTables.ScoreKey(model: "persistence", horizonMinutes: 60, kind: "value")
        #expect(steps[60].scores[key]?.count == 1)
        #expect(steps[60].scores[key]?.mae == 60)
        // The mean of minutes 1…60 issued at 0 is (101 + … + 160) / 60 = 130.5.
        #expect(steps[60].actuals.first { $0.issued == (start + 1) * 60 && $0.kind == "mean" && $0.horizonMinutes == 60 }?.actual == 130.5)
    }

    @Test func aMissingMinuteIssuesNothingAndScoresNothingThatNeedsIt() {
        var engine = ForecastEngine(history: MinuteSeries(capacityMinutes: 10 * 1440))
        for i in 0..<10 { _ = engine.observe(minute: start + Int64(i), watts: 500) }
        let gap = engine.observe(minute: start + 10, watts: nil)
        #expect(gap.forecasts.isEmpty)
        // Minute 10 is missing: the value+1 issued at 9 has no actual, and no mean over it can be scored later.
        #expect(gap.actuals.isEmpty)
        var later: [ForecastEngine.Step] = []
        for i in 11..<30 { later.append(engine.observe(minute: start + Int64(i), watts: 500)) }
        let meansOverTheGap = later.flatMap(\.actuals).filter { $0.kind == "mean" && $0.issued <= (start + 10) * 60 }
        #expect(meansOverTheGap.isEmpty)
        // A minute that comes again, or late, is ignored.
        #expect(engine.observe(minute: start + 20, watts: 9_999).forecasts.isEmpty)
    }

    @Test func theDriftRuleNeedsTheWholeSpanBelowTheLevelAndEnoughForecasts() {
        func hour(_ h: Int64, skill: Double, count: Int = 60) -> (hour: Int64, sums: ForecastAccuracy) {
            var s = ForecastAccuracy()
            // persistence error 100 W per forecast; the model's is 100·(1 − skill).
            for _ in 0..<count { s.add(forecast: 1000 + 100 * (1 - skill), actual: 1000, persistence: 1100) }
            return (h, s)
        }
        let rule = DriftRule(window: 4, span: 3, level: 0)
        let bad = (0..<10).map { hour(Int64($0), skill: -0.2) }
        #expect(rule.drifted(hourly: bad, now: 9).map { abs($0 + 0.2) < 1e-9 } == true)
        // One good hour inside the windows lifts the rolling skill above the level at some evaluation: no drift.
        var mixed = bad
        mixed[8] = hour(8, skill: 0.9)
        #expect(rule.drifted(hourly: mixed, now: 9) == nil)
        // Too few forecasts (fewer than half the window's minutes) is not evidence.
        #expect(rule.drifted(hourly: (0..<10).map { hour(Int64($0), skill: -0.5, count: 10) }, now: 9) == nil)
    }

    @Test func theTablesKeepHistoryScoresAndEventsInARealFile() throws {
        let folder = TemporaryFolder()
        let store = try SQLiteReadingStore(path: folder.file("meter.db"), logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        var day = [Float](repeating: .nan, count: 1440)
        day[0] = 812.5; day[1439] = -3.25
        var a = ForecastAccuracy(), b = ForecastAccuracy()
        a.add(forecast: 110, actual: 100, persistence: 120)
        b.add(forecast: 70, actual: 100, persistence: 100)
        let key = ForecastTables.ScoreKey(model: "builtin", horizonMinutes: 60, kind: "value")
        try store.write("fill") { db throws(StoreError) in
            try ForecastTables.saveHistoryDay(20_000, watts: day, in: db)
            try ForecastTables.addScores([key: a], hour: 480_000, in: db)
            try ForecastTables.addScores([key: b], hour: 480_000, in: db)   // the same hour adds up
            try ForecastTables.addScores([key: a], hour: 480_001, in: db)
            try ForecastTables.record(.init(time: 1_728_000_060, kind: "drift", model: "builtin", detail: "d"), in: db)
            try ForecastTables.requestExport(reason: "drift", from: 1, to: 2, at: 3, in: db)
        }
        let history = try store.read("history") { db throws(StoreError) in try ForecastTables.historyDays(from: 0, in: db) }
        #expect(history.skipped.isEmpty && history.days.count == 1)
        #expect(history.days[0].watts[0] == 812.5 && history.days[0].watts[1439] == -3.25 && history.days[0].watts[5].isNaN)
        let oneHour = try store.read("scores") { db throws(StoreError) in try ForecastTables.scores(from: 480_000 * 3600, to: 480_000 * 3600 + 1, in: db) }
        #expect(oneHour[key]?.count == 2 && oneHour[key]?.mae == 20 && oneHour[key]?.skill == 1 - 40.0 / 20.0)
        let both = try store.read("scores") { db throws(StoreError) in try ForecastTables.scores(from: 480_000 * 3600, to: 480_002 * 3600, in: db) }
        #expect(both[key]?.count == 3)
        #expect(try store.read("events") { db throws(StoreError) in try ForecastTables.events(limit: 5, in: db) }.map(\.kind) == ["drift"])
        #expect(try store.read("exports") { db throws(StoreError) in try ForecastTables.pendingExports(in: db) }.count == 1)
    }
}
