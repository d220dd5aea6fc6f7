// SPDX-License-Identifier: Apache-2.0

import ADE9000
import Hummingbird
import MeterReadings
import MeterStore
import MeterClock
import MeterServices
import Logging

/// Energy per phase and in total under the vocabulary's names: `l1_wh_imp` … `l3_vah`, `total_wh_imp` … `total_vah`.
struct EnergyTotals: Encodable, Sendable {
    /// `[phase][quantity]`, quantities as in `MinuteRow.energyQuantities` (`wh_imp`, `wh_exp`, `varh`, `vah`).
    var values: [[String: Double]]
    /// `today.from`: the local midnight the sums start at; nil for lifetime totals.
    var from: Int64?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ColumnKey.self)
        for quantity in MinuteRow.energyQuantities.map(\.name) {
            var total = 0.0
            for phase in Phase.allCases {
                let value = values[phase.rawValue][quantity] ?? 0
                total += value
                try container.encode(finite: value, forKey: ColumnKey("\(phase.line)_\(quantity)"))
            }
            try container.encode(finite: total, forKey: ColumnKey("total_\(quantity)"))
        }
        if let from { try container.encode(from, forKey: ColumnKey("from")) }
    }
}

extension MeterAPI {
    struct EnergyAnswer: Encodable, Sendable {
        var time: Int64
        var lifetime: EnergyTotals
        var today: EnergyTotals
    }

    /// `GET /api/v1/energy`: lifetime totals (the store's, which never go down) and today's sums since local midnight.
    func energy() throws -> Response {
        guard let store = hub.store.current else { throw APIError.storeClosed }
        let now = self.now, midnight = localMidnight(now)
        let quantities = MinuteRow.energyQuantities
        // Summed as the columns are laid out: l1_wh_imp, l2_wh_imp, l3_wh_imp, l1_wh_exp, …
        let sums = quantities.flatMap { q in Phase.allCases.map { "coalesce(sum(\($0.line)_\(q.name)), 0)" } }.joined(separator: ", ")
        do {
            let lifetime = try store.totals()
            let today = try store.read("cannot sum today's rows for GET /api/v1/energy") { db throws(StoreError) in
                try db.query("SELECT \(sums) FROM meter_data WHERE time >= ?", [.integer(midnight)]).first ?? []
            }
            var lifetimeValues = Array(repeating: [String: Double](), count: 3), todayValues = lifetimeValues
            for (qi, q) in quantities.enumerated() {
                for phase in Phase.allCases {
                    lifetimeValues[phase.rawValue][q.name] = lifetime[phase]?[keyPath: q.keyPath] ?? 0
                    let index = qi * 3 + phase.rawValue
                    todayValues[phase.rawValue][q.name] = index < today.count ? today[index].double ?? 0 : 0
                }
            }
            return try jsonAnswer(EnergyAnswer(time: now, lifetime: EnergyTotals(values: lifetimeValues),
                                               today: EnergyTotals(values: todayValues, from: midnight)))
        } catch let error as StoreError {
            throw APIError(.serviceUnavailable, "the database cannot be read: \(error)")
        }
    }
}
