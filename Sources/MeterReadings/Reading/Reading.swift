// SPDX-License-Identifier: Apache-2.0

public import ADE9000

/// One reading of the meter in SI units, named in the meter's single vocabulary: the `meter_data`
/// column names (`l1_v`, `l1_p`, `freq`, …) are also the JSON keys, metric labels and CLI fields.
public struct Reading: Sendable, Hashable {
    /// One phase: V, A, W, var, VA and the signed power factor.
    public struct PhaseValues: Sendable, Hashable {
        /// `lN_v`: RMS voltage, V.
        public var v: Double
        /// `lN_i`: RMS current, A.
        public var i: Double
        /// `lN_p`: active power, W; negative when the phase feeds the grid.
        public var p: Double
        /// `lN_q`: reactive power, var; positive for an inductive (lagging) load.
        public var q: Double
        /// `lN_s`: apparent power, VA.
        public var s: Double
        /// `lN_pf`: power factor, −1…1, sign of `p`.
        public var pf: Double

        public init(v: Double, i: Double, p: Double, q: Double, s: Double, pf: Double) {
            self.v = v; self.i = i; self.p = p; self.q = q; self.s = s; self.pf = pf
        }
    }

    /// Energy of one phase counted by the chip since the meter started (or last re-initialised).
    public struct PhaseEnergy: Sendable, Hashable {
        /// `lN_wh`: active energy, Wh (net: import minus export).
        public var wh: Double
        /// `lN_varh`: reactive energy, varh.
        public var varh: Double
        /// `lN_vah`: apparent energy, VAh.
        public var vah: Double

        public init(wh: Double, varh: Double, vah: Double) { self.wh = wh; self.varh = varh; self.vah = vah }
    }

    /// What the chip's fundamental filter makes of one phase (DS p.39): distortion and the fundamental alone.
    public struct PhaseHarmonics: Sendable, Hashable {
        /// `lN_vthd`: voltage THD, percent of the fundamental: √(Σ_{h≥2} Vh²) / V1 × 100.
        public var vthd: Double
        /// `lN_ithd`: current THD, percent of the fundamental.
        public var ithd: Double
        /// `lN_vfund`: RMS of the fundamental voltage, V.
        public var vfund: Double
        /// `lN_ifund`: RMS of the fundamental current, A.
        public var ifund: Double

        public init(vthd: Double, ithd: Double, vfund: Double, ifund: Double) {
            self.vthd = vthd; self.ithd = ithd; self.vfund = vfund; self.ifund = ifund
        }
    }

    /// Where L2's and L3's voltages stand against L1's, from the chip's zero-crossing timers (ANGL_VA_VB, ANGL_VA_VC).
    public struct VoltageAngles: Sendable, Hashable {
        /// `l2_vangle`: degrees by which L2's voltage lags L1's, 0 ..< 360: 120 in an L1-L2-L3 sequence, 240 when L2
        /// and L3 are swapped.
        public var l2: Double
        /// `l3_vangle`: degrees by which L3's voltage lags L1's: 240 in an L1-L2-L3 sequence, 120 when swapped.
        public var l3: Double

        public init(l2: Double, l3: Double) { self.l2 = l2; self.l3 = l3 }
    }

    /// `time`: Unix seconds, UTC.
    public var time: Double
    /// `freq`: line frequency, Hz.
    public var freq: Double
    /// Indexed by `Phase.rawValue`: L1, L2, L3.
    public var phases: [PhaseValues]
    /// `n_i`: the neutral current, A rms: the RMS of the sum of the three phase currents (their vector sum), which the
    /// chip computes itself (ISUMRMS). Nil when not read.
    public var neutralCurrent: Double?
    /// THD and fundamentals, indexed by `Phase.rawValue`; nil when not read.
    public var harmonics: [PhaseHarmonics]?
    /// Nil when not read.
    public var voltageAngles: VoltageAngles?
    /// Indexed by `Phase.rawValue`; nil when not read.
    public var energy: [PhaseEnergy]?
    /// `temp_c`: the metering chip's die temperature, °C.
    public var temperature: Double?
    /// The chip had reset and was set up again just before this reading; energy counts restarted.
    public var afterChipReset: Bool
    /// When the registers were read, on the meter clock's monotonic scale (``time`` is the same moment on
    /// the wall clock: both are stamped once, by the driver, at the bus transfer).
    public var monotonic: Double = 0

    public init(time: Double, freq: Double, phases: [PhaseValues], neutralCurrent: Double? = nil,
                harmonics: [PhaseHarmonics]? = nil, voltageAngles: VoltageAngles? = nil, energy: [PhaseEnergy]? = nil,
                temperature: Double? = nil, afterChipReset: Bool = false) {
        self.time = time; self.freq = freq; self.phases = phases; self.neutralCurrent = neutralCurrent
        self.harmonics = harmonics; self.voltageAngles = voltageAngles; self.energy = energy
        self.temperature = temperature; self.afterChipReset = afterChipReset
    }

    public subscript(phase: Phase) -> PhaseValues { phases[phase.rawValue] }

    /// `(column, value)` in vocabulary order: `time`, `freq`, `l1_v l1_i l1_p l1_q l1_s l1_pf`, `l2_…`,
    /// `l3_…`, then `n_i`, `lN_vthd lN_ithd lN_vfund lN_ifund`, `l2_vangle l3_vangle`, `lN_wh lN_varh lN_vah`
    /// and `temp_c` when present.
    public var fields: [(name: String, value: Double)] {
        var fields: [(String, Double)] = [("time", time), ("freq", freq)]
        for phase in Phase.allCases {
            let values = self[phase], line = phase.line
            fields += [("\(line)_v", values.v), ("\(line)_i", values.i), ("\(line)_p", values.p),
                       ("\(line)_q", values.q), ("\(line)_s", values.s), ("\(line)_pf", values.pf)]
        }
        if let neutralCurrent { fields.append(("n_i", neutralCurrent)) }
        if let harmonics {
            for phase in Phase.allCases {
                let h = harmonics[phase.rawValue], line = phase.line
                fields += [("\(line)_vthd", h.vthd), ("\(line)_ithd", h.ithd), ("\(line)_vfund", h.vfund), ("\(line)_ifund", h.ifund)]
            }
        }
        if let voltageAngles { fields += [("l2_vangle", voltageAngles.l2), ("l3_vangle", voltageAngles.l3)] }
        if let energy {
            for phase in Phase.allCases {
                let e = energy[phase.rawValue], line = phase.line
                fields += [("\(line)_wh", e.wh), ("\(line)_varh", e.varh), ("\(line)_vah", e.vah)]
            }
        }
        if let temperature { fields.append(("temp_c", temperature)) }
        return fields
    }

    /// Decimals that fit the quantity's resolution (the meter resolves no finer): JSON and tables round to them.
    public static func decimals(for name: String) -> Int {
        switch name {
        case "time": 3
        case "freq": 4
        case _ where name.hasSuffix("_pf"): 5
        case _ where name.hasSuffix("_i"), _ where name.hasSuffix("_ifund"): 5
        // One count of the 1,024 kHz zero-crossing timer is 0.018° at 50 Hz (DS eqs. 13–14).
        case _ where name.hasSuffix("_vangle"): 2
        case _ where name.hasSuffix("h"): 6
        default: 3
        }
    }
}

extension Reading: Encodable {
    /// One JSON object keyed by the vocabulary (``fields``), each number rounded to what the
    /// meter resolves (``decimals(for:)``); NaN and infinity, which JSON lacks, are `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ColumnKey.self)
        for field in fields {
            try container.encode(rounded: field.value, decimals: Self.decimals(for: field.name), forKey: ColumnKey(field.name))
        }
    }
}
