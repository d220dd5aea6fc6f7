// SPDX-License-Identifier: Apache-2.0

public import ADE9000

/// The `meter_data` vocabulary of a row: its column names in table order, and its JSON form under them.
///
/// Names, encoding and decoding all walk the same two tables (``phaseQuantities``, ``energyQuantities``), so
/// they cannot disagree; the store's SQL mapping walks them too.
extension MinuteRow {
    /// Per-phase means and powers: column `lN_<name>`, grouped by quantity (`l1_v l2_v l3_v l1_i …`).
    public static var phaseQuantities: [(name: String, keyPath: WritableKeyPath<Reading.PhaseValues, Double>)] {
        [("v", \.v), ("i", \.i), ("p", \.p), ("q", \.q), ("s", \.s), ("pf", \.pf)]
    }

    /// Per-phase energy of the interval: column `lN_<name>`, grouped by quantity.
    public static var energyQuantities: [(name: String, keyPath: WritableKeyPath<MinuteRow.PhaseEnergy, Double>)] {
        [("wh_imp", \.whImport), ("wh_exp", \.whExport), ("varh", \.varh), ("vah", \.vah)]
    }

    /// Per-phase power quality of the interval: column `lN_<name>`, grouped by quantity; added by the store's
    /// migration "2 power quality" after `input_b`, then `n_i`.
    public static var qualityQuantities: [(name: String, keyPath: WritableKeyPath<MinuteRow.PhaseQuality, Double?>)] {
        [("vthd", \.vthd), ("vthd_max", \.vthdMax), ("ithd", \.ithd), ("ithd_max", \.ithdMax)]
    }

    /// `lN_<name>` for L1, L2, L3.
    static func perPhase(_ name: String) -> [String] { Phase.allCases.map { "\($0.line)_\(name)" } }

    /// The columns of `meter_data`, in table order: `time`, the phase quantities, `freq`, the energies,
    /// `duration_s`, `samples`, `flags`, `temp_c`, `input_b`, the power-quality quantities, `n_i`.
    public static let columns: [String] = {
        let phase: [String] = phaseQuantities.flatMap { perPhase($0.name) }
        let energy: [String] = energyQuantities.flatMap { perPhase($0.name) }
        let quality: [String] = qualityQuantities.flatMap { perPhase($0.name) }
        return ["time"] + phase + ["freq"] + energy + ["duration_s", "samples", "flags", "temp_c", "input_b"] + quality + ["n_i"]
    }()
}

extension MinuteRow: Codable {
    /// One JSON object keyed by ``columns`` (a JSON object has no key order), at full precision (a spilled row reads back
    /// bit for bit); NaN is `null`, and so are a missing `temp_c` and `input_b`.
    public func encode(to encoder: any Encoder) throws {
        precondition(phases.count == 3 && energy.count == 3,
                     "MinuteRow at \(time) has \(phases.count) phases and \(energy.count) energies, not 3 (a caller bug)")
        var container = encoder.container(keyedBy: ColumnKey.self)
        try container.encode(time, forKey: ColumnKey("time"))
        for quantity in Self.phaseQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                try container.encode(finite: self[phase][keyPath: quantity.keyPath], forKey: ColumnKey(name))
            }
        }
        try container.encode(finite: freq, forKey: ColumnKey("freq"))
        for quantity in Self.energyQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                try container.encode(finite: energy[phase.rawValue][keyPath: quantity.keyPath], forKey: ColumnKey(name))
            }
        }
        try container.encode(finite: durationSeconds, forKey: ColumnKey("duration_s"))
        try container.encode(samples, forKey: ColumnKey("samples"))
        try container.encode(flags.rawValue, forKey: ColumnKey("flags"))
        if let temperature { try container.encode(finite: temperature, forKey: ColumnKey("temp_c")) } else {
            try container.encodeNil(forKey: ColumnKey("temp_c"))
        }
        try container.encode(inputB, forKey: ColumnKey("input_b"))
        for quantity in Self.qualityQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                try container.encode(optional: quality[phase.rawValue][keyPath: quantity.keyPath], forKey: ColumnKey(name))
            }
        }
        try container.encode(optional: neutralCurrent, forKey: ColumnKey("n_i"))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ColumnKey.self)
        let zero = Reading.PhaseValues(v: .nan, i: .nan, p: .nan, q: .nan, s: .nan, pf: .nan)
        self.init(time: try container.decode(Int64.self, forKey: ColumnKey("time")), durationSeconds: 0,
                  phases: Array(repeating: zero, count: 3), freq: 0,
                  energy: Array(repeating: .zero, count: 3), samples: 0, flags: [])
        for quantity in Self.phaseQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                phases[phase.rawValue][keyPath: quantity.keyPath] = try container.decodeReal(name)
            }
        }
        freq = try container.decodeReal("freq")
        for quantity in Self.energyQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                energy[phase.rawValue][keyPath: quantity.keyPath] = try container.decodeReal(name)
            }
        }
        durationSeconds = try container.decodeReal("duration_s")
        samples = try container.decode(Int.self, forKey: ColumnKey("samples"))
        flags = RowFlags(rawValue: try container.decode(Int.self, forKey: ColumnKey("flags")))
        temperature = try container.decodeIfPresent(Double.self, forKey: ColumnKey("temp_c"))
        inputB = try container.decodeIfPresent(Int.self, forKey: ColumnKey("input_b"))
        // Absent from rows spilled before the power-quality columns: nil, unknown.
        for quantity in Self.qualityQuantities {
            for (phase, name) in zip(Phase.allCases, Self.perPhase(quantity.name)) {
                quality[phase.rawValue][keyPath: quantity.keyPath] = try container.decodeIfPresent(Double.self, forKey: ColumnKey(name))
            }
        }
        neutralCurrent = try container.decodeIfPresent(Double.self, forKey: ColumnKey("n_i"))
    }
}
