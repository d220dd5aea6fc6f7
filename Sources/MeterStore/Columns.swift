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
        return values
    }

    /// Decodes a row selected as ``list`` (its values in column order).
    static func row(from values: [SQLiteValue]) -> MinuteRow {
        var index = 0
        func next() -> SQLiteValue { defer { index += 1 }; return values[index] }
        func real() -> Double { next().double ?? .nan }
        func integer() -> Int64 { next().int64 ?? 0 }

        let zero = Reading.PhaseValues(v: 0, i: 0, p: 0, q: 0, s: 0, pf: 0)
        var row = MinuteRow(time: integer(), durationSeconds: 0,
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
        row.samples = Int(integer())
        row.flags = RowFlags(rawValue: Int(integer()))
        row.temperature = next().double
        row.inputB = next().int64.map { Int($0) }
        return row
    }

    /// True when two rows store the same values (NaN equals NaN here, unlike `==` on `MinuteRow`).
    static func sameStoredValues(_ a: MinuteRow, _ b: MinuteRow) -> Bool { values(of: a) == values(of: b) }
}

extension SQLiteValue {
    /// A number as `Double` (as `sqlite3_column_double` converts it), nil for NULL.
    var double: Double? {
        switch self {
        case .real(let v): v
        case .integer(let v): Double(v)
        case .null: nil
        case .text(let v): Double(v) ?? 0
        case .blob: 0
        }
    }

    /// A number as `Int64` (as `sqlite3_column_int64` converts it), nil for NULL.
    var int64: Int64? {
        switch self {
        case .integer(let v): v
        case .real(let v): Int64(exactly: v.rounded(.towardZero)) ?? 0
        case .null: nil
        case .text(let v): Int64(v) ?? 0
        case .blob: 0
        }
    }
}
