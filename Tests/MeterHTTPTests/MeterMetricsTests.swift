// SPDX-License-Identifier: Apache-2.0
import ADE9000
@testable import MeterHTTP
import MeterReadings
import MeterServices
import Testing

/// `/metrics`: the vocabulary's names with units and a phase label, HELP on every family, counters that only go up.
@Suite struct MeterMetricsTests {
    func scrape(snapshots: Int, wh: Double) -> MeterMetrics.Scrape {
        let phase = Reading.PhaseValues(v: 230.1, i: 1.5, p: 300, q: 40, s: 345.2, pf: 0.87)
        var counters = ServiceCounters.Values()
        counters.snapshots = snapshots
        counters.rowsWritten = snapshots / 60
        let lifetime = (0..<3).map { _ in ["wh_imp": wh, "wh_exp": 0.0, "varh": 1.0, "vah": 2.0] }
        return MeterMetrics.Scrape(reading: Reading(time: 1_796_545_815, freq: 49.98, phases: [phase, phase, phase]), temperature: 41,
                                   counters: counters, lifetime: lifetime, exportBacklog: nil,
                                   skills: [("builtin", 15, "value", 0.25)], now: 1_796_545_815, uptime: 120)
    }

    func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func everyFamilyHasHelpAndType() {
        let text = String(decoding: MeterMetrics(version: "9.9.9").render(scrape(snapshots: 5, wh: 10)), as: UTF8.self)
        let families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(families == helped && families.count >= 20)
        #expect(value(text, #"clemap_voltage_volts{phase="l2"}"#) == 230.1)
        #expect(value(text, #"clemap_power_factor{phase="l3"}"#) == 0.87)
        #expect(value(text, "clemap_frequency_hertz") == 49.98)
        #expect(value(text, "clemap_temperature_celsius") == 41)
        #expect(value(text, #"clemap_build_info{version="9.9.9"}"#) == 1)
        #expect(value(text, #"clemap_forecast_skill_mae{model="builtin",horizon_min="15",target="value"}"#) == 0.25)
        #expect(text.contains("# TYPE clemap_energy_imported_watthours_total counter") && text.contains("# TYPE clemap_snapshots_total counter"))
    }

    @Test func countersFollowTheTotalsAndNeverGoDown() {
        let metrics = MeterMetrics(version: "1")
        _ = metrics.render(scrape(snapshots: 5, wh: 10))
        var text = String(decoding: metrics.render(scrape(snapshots: 65, wh: 12.5)), as: UTF8.self)
        #expect(value(text, "clemap_snapshots_total") == 65)
        #expect(value(text, "clemap_rows_written_total") == 1)
        #expect(value(text, #"clemap_energy_imported_watthours_total{phase="l1"}"#) == 12.5)
        // A smaller total (a reading of the store that lags) adds nothing; the counter stays.
        text = String(decoding: metrics.render(scrape(snapshots: 3, wh: 11)), as: UTF8.self)
        #expect(value(text, "clemap_snapshots_total") == 65)
        #expect(value(text, #"clemap_energy_imported_watthours_total{phase="l1"}"#) == 12.5)
    }
}
