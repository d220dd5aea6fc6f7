// SPDX-License-Identifier: Apache-2.0
public import ADE9000
import FoundationEssentials
public import MeterReadings
public import PowerQuality

/// The bodies of the meter's messages, all JSON keyed by the `meter_data` vocabulary (keys sorted, so that two
/// messages diff cleanly), and the payloads of `<base>/status` and the outputs.
public enum MQTTPayloads {
    public static let online: [UInt8] = Array("online".utf8)
    public static let offline: [UInt8] = Array("offline".utf8)
    public static let on: [UInt8] = Array("ON".utf8)
    public static let off: [UInt8] = Array("OFF".utf8)

    static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// `<base>/state`: the reading exactly as `clemap-edge read --json` prints it and `GET /api/v1/live` answers
    /// (each value rounded to what the meter resolves, `null` for one without meaning, e.g. `l1_pf` without load).
    public static func state(_ reading: Reading) throws -> [UInt8] { try json(reading) }

    /// `<base>/minute`: one stored row, every column of `meter_data` at full precision (NaN as `null`).
    public static func minute(_ row: MinuteRow) throws -> [UInt8] { try json(row) }

    /// `<base>/energy`: the store's lifetime totals (`energy_totals`, committed rows only, so they never go down, across
    /// restarts and `kill -9` alike) per phase and in total, Wh, varh, VAh: `l1_wh_imp` … `l3_vah`, `total_wh_imp` …
    /// `total_vah`, as the `lifetime` object of `GET /api/v1/energy`; `time`: the newest stored row's.
    public static func energy(_ totals: [Phase: MinuteRow.PhaseEnergy], time: Int64?) throws -> [UInt8] {
        try json(EnergyTotals(totals: totals, time: time))
    }

    /// `<base>/pq_event`: one power-quality event as `GET /api/v1/pq/events` and `clemap-edge pq events --json` list
    /// it: `start_ms`, `end_ms`, `duration_ms` (Unix milliseconds UTC), `phase` (1…3, 0 for all), `kind` and `extreme`
    /// (V, A or Hz; `null` for a phase sequence).
    public static func pqEvent(_ event: PQEvent) throws -> [UInt8] { try json(event) }

    /// `ON` / `OFF`.
    public static func output(_ on: Bool) -> [UInt8] { on ? Self.on : Self.off }

    /// A command's payload: `ON` or `OFF` (any case, spaces around ignored), nil for anything else.
    public static func command(_ payload: [UInt8]) -> Bool? {
        let text = String(decoding: payload, as: UTF8.self)
        switch String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()).uppercased() {
        case "ON": return true
        case "OFF": return false
        default: return nil
        }
    }

    struct EnergyTotals: Encodable {
        var totals: [Phase: MinuteRow.PhaseEnergy]
        var time: Int64?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: ColumnKey.self)
            for quantity in MinuteRow.energyQuantities {
                var total = 0.0
                for phase in Phase.allCases {
                    let value = totals[phase]?[keyPath: quantity.keyPath] ?? 0
                    total += value
                    try container.encode(finite: value, forKey: ColumnKey("\(phase.line)_\(quantity.name)"))
                }
                try container.encode(finite: total, forKey: ColumnKey("total_\(quantity.name)"))
            }
            try container.encode(time, forKey: ColumnKey("time"))
        }
    }
}
