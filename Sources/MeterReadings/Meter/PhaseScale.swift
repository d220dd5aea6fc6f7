// SPDX-License-Identifier: Apache-2.0

public import ADE9000

/// The board scale of one phase: SI units per register LSB, as the CLEMAP `config.ini` writes them (`cha_irms` …).
///
/// The instantaneous constants convert the chip's RMS and power registers (ade9000.md §5.2):
/// `ampsPerLSB` × xIRMS = A rms, `voltsPerLSB` × xVRMS = V rms, `wattsPerLSB` × xWATT = W, and so on.
///
/// `watthr`, `varhr` and `vahr` are kept exactly as written. Their CLEMAP convention is
/// *energy per xWATTHR_HI LSB × 8000* (f_DSP): `cha_watthr = cha_watt × 8192 / 3600`, while the energy of one
/// HI LSB is `cha_watt × 8192 / (8000 × 3600)` Wh (ade9000.md §5.4). The driver therefore derives Wh per LSB
/// from ``wattsPerLSB`` itself and does not use these three; they are checked and shown only.
public struct PhaseScale: Sendable, Hashable {
    /// A rms per xIRMS LSB (`ch?_irms`).
    public var ampsPerLSB: Double
    /// V rms per xVRMS LSB (`ch?_vrms`).
    public var voltsPerLSB: Double
    /// W per xWATT LSB (`ch?_watt`).
    public var wattsPerLSB: Double
    /// var per xVAR LSB (`ch?_var`).
    public var varsPerLSB: Double
    /// VA per xVA LSB (`ch?_va`).
    public var voltAmpsPerLSB: Double
    /// `ch?_watthr` as written: Wh per xWATTHR_HI LSB × 8000 (CLEMAP convention, see the type's notes).
    public var watthr: Double
    /// `ch?_varhr` as written: varh per xVARHR_HI LSB × 8000.
    public var varhr: Double
    /// `ch?_vahr` as written: VAh per xVAHR_HI LSB × 8000.
    public var vahr: Double

    /// Creates a scale from the eight constants.
    public init(ampsPerLSB: Double, voltsPerLSB: Double, wattsPerLSB: Double, varsPerLSB: Double,
                voltAmpsPerLSB: Double, watthr: Double, varhr: Double, vahr: Double) {
        self.ampsPerLSB = ampsPerLSB; self.voltsPerLSB = voltsPerLSB; self.wattsPerLSB = wattsPerLSB
        self.varsPerLSB = varsPerLSB; self.voltAmpsPerLSB = voltAmpsPerLSB
        self.watthr = watthr; self.varhr = varhr; self.vahr = vahr
    }
}

extension PhaseScale {
    /// One factor for a register the three phases share (ISUMRMS, DIP_LVL, OILVL): the mean of `field` over L1–L3, a
    /// missing phase counting 0. Calibration equalises the phases, so the error is at most their spread.
    public static func mean(_ scales: [Phase: PhaseScale], _ field: KeyPath<PhaseScale, Double>) -> Double {
        Phase.allCases.reduce(0) { $0 + (scales[$1]?[keyPath: field] ?? 0) } / Double(Phase.allCases.count)
    }
}
