// SPDX-License-Identifier: Apache-2.0
import ADE9000
import MeterReadings

/// The `MinuteRow` ⇄ SQL value mapping, walking the vocabulary's column tables (`MinuteRow.columns`).
///
/// Names, values and decoding all walk the same two tables (``phaseQuantities``, ``energyQuantities``), so they
/// cannot disagree. A NaN (e.g. `lN_pf` of a phase without load, where s = 0) is stored as NULL and read back as NaN.
enum Columns {
    static var phaseQuantities: [(name: String, keyPath: WritableKeyPath<Reading.PhaseValues, Double>)] { MinuteRow.phaseQuantities }
    static var energyQuantities: [(name: String, keyPath: WritableKeyPath<MinuteRow.PhaseEnergy, Double>)] { MinuteRow.energyQuantities }

    /// The columns of `meter_data` (and the first ones of `meter_data_conflicts`), in table order.
    static var meterData: [String] { MinuteRow.columns }

    /// `time, l1_v, …, input_b` for SELECT and INSERT.
    static let list = meterData.joined(separator: ", ")
    /// `?, ?, …`, one per column.
    static let placeholders = Array(repeating: "?", count: meterData.count).joined(separator: ", ")

    /// The row's values in ``meterData`` order.
    static func values(of row: MinuteRow) -> [SQLiteValue] {
        precondition(row.phases.count == 3 && row.energy.count == 3,
                     "MinuteRow at \(row.time) has \(row.phases.count) phases and \(row.energy.count) energies, not 3 (a caller bug)")
        func real(_ value: Double) -> SQLiteValue { value.isNaN ? .null : .real(value) }
        var values: [SQLiteValue] = [.integer(row.time)]
        for quantity in phaseQuantities { values += Phase.allCases.map { real(row[$0][keyPath: quantity.keyPath]) } }
        values.append(real(row.freq))
        for quantity in energyQuantities {
            values += Phase.allCases.map { real(row.energy[$0.rawValue][keyPath: quantity.keyPath]) }
        }
        values += [real(row.durationSeconds), .integer(Int64(row.samples)), .integer(Int64(row.flags.rawValue)),
                   row.temperature.map(real) ?? .null, row.inputB.map { .integer(Int64($0)) } ?? .null]
        for quantity in MinuteRow.qualityQuantities {
            values += Phase.allCases.map { row.quality[$0.rawValue][keyPath: quantity.keyPath].map(real) ?? .null }
        }
        values.append(row.neutralCurrent.map(real) ?? .null)
        return values
    }

    /// Decodes a row selected as ``list``, starting at result column `first`.
    static func row(from statement: Statement, first: Int32 = 0) -> MinuteRow {
        var index = first
        func next() -> Int32 { defer { index += 1 }; return index }
        func real() -> Double { let i = next(); return statement.isNull(at: i) ? .nan : statement.double(at: i) }

        let zero = Reading.PhaseValues(v: 0, i: 0, p: 0, q: 0, s: 0, pf: 0)
        var row = MinuteRow(time: statement.int64(at: next()), durationSeconds: 0,
                            phases: Array(repeating: zero, count: 3), freq: 0,
                            energy: Array(repeating: .zero, count: 3), samples: 0, flags: [])
        for quantity in phaseQuantities {
            for phase in Phase.allCases { row.phases[phase.rawValue][keyPath: quantity.keyPath] = real() }
        }
        row.freq = real()
        for quantity in energyQuantities {
            for phase in Phase.allCases { row.energy[phase.rawValue][keyPath: quantity.keyPath] = real() }
        }
        row.durationSeconds = real()
        row.samples = Int(statement.int64(at: next()))
        row.flags = RowFlags(rawValue: Int(statement.int64(at: next())))
        let temperature = next(), inputB = next()
        row.temperature = statement.isNull(at: temperature) ? nil : statement.double(at: temperature)
        row.inputB = statement.isNull(at: inputB) ? nil : Int(statement.int64(at: inputB))
        func optional() -> Double? { let i = next(); return statement.isNull(at: i) ? nil : statement.double(at: i) }
        for quantity in MinuteRow.qualityQuantities {
            for phase in Phase.allCases { row.quality[phase.rawValue][keyPath: quantity.keyPath] = optional() }
        }
        row.neutralCurrent = optional()
        return row
    }

    /// True when two rows store the same values (NaN equals NaN here, unlike `==` on `MinuteRow`).
    static func sameStoredValues(_ a: MinuteRow, _ b: MinuteRow) -> Bool { values(of: a) == values(of: b) }
}
