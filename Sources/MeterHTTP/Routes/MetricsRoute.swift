// SPDX-License-Identifier: Apache-2.0

import ADE9000
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import PowerQuality

extension MeterAPI {
    /// What `/metrics` shows now: the hub's values, and from the store the lifetime energy, the power-quality events
    /// and the forecast skill.
    func metricsScrape() -> MeterMetrics.Scrape {
        let wall = clock.wall()
        var lifetime: [[String: Double]]?
        var skills: [(model: String, horizonMinutes: Int, target: String, skill: Double)] = []
        var pqEvents: [(kind: PQEventKind, phase: Int, count: Int)]?
        if let store = hub.store.current {
            pqEvents = try? store.read("cannot count pq_event for /metrics") { db throws(StoreError) in try PQTables.counts(in: db) }
            if let totals = try? store.totals() {
                lifetime = (0..<3).map { phase in
                    var values: [String: Double] = [:]
                    for q in MinuteRow.energyQuantities { values[q.name] = totals[Phase(rawValue: phase)!]?[keyPath: q.keyPath] ?? 0 }
                    return values
                }
            }
            if forecast.enabled {
                let now = Int64(wall), window = Int64(forecast.scoreWindowHours) * 3600
                let sums = try? store.read("cannot read the forecast scores for /metrics") { db throws(StoreError) in
                    try ForecastTables.scores(from: now - window, to: now, in: db)
                }
                skills = ForecastReport.scores(sums ?? [:]).compactMap { s in
                    s.skill_mae.map { (s.model, s.horizon_min, s.target, $0) }
                }
            }
        }
        return MeterMetrics.Scrape(reading: hub.latest, temperature: hub.latestTemperature, counters: hub.counters.current, lifetime: lifetime,
                                   exportBacklog: exporterEnabled ? hub.health.exportBacklog : nil, skills: skills,
                                   pqEvents: pqEvents, now: wall, uptime: uptime)
    }
}
