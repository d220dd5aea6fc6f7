// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import MeterReadings

/// Checks the CLEMAP `chX_watthr` constants against energy per LSB derived from first principles.
///
/// The DSP adds one xWATT code per 1/8000 s to a 45-bit register whose HI word drops 13 bits, so one
/// xWATTHR_HI LSB is `W_LSB · 2^13 / (8000 · 3600)` Wh (ade9000.md §3.4, §5.2). CLEMAP's files hold
/// `cha_watt · 8192 / 3600`, 8000 times that: the energy per HI LSB per DSP sample. clemap-edge always
/// derives Wh per LSB from `chX_watt` and uses `chX_watthr` only for this check.
public enum EnergyConvention {
    public enum Verdict: Sendable, Hashable {
        /// `watthr == W_LSB · 8192 / 3600`: the CLEMAP convention.
        case clemap
        /// `watthr == W_LSB · 8192 / (8000 · 3600)`: true Wh per HI LSB.
        case whPerLSB
        /// Neither.
        case inconsistent
    }

    public static func verdict(wattsPerLSB: Double, watthr: Double) -> Verdict {
        let derived = Energy45.wattHoursPerHiLSB(wattsPerLSB: wattsPerLSB)
        if abs(watthr / (derived * Energy45.clemapWatthrConvention) - 1) < 1e-9 { return .clemap }
        if abs(watthr / derived - 1) < 1e-9 { return .whPerLSB }
        return .inconsistent
    }

    /// One line for `config check`.
    public static func describe(phase: Phase, scale: PhaseScale) -> String {
        let derived = Energy45.wattHoursPerHiLSB(wattsPerLSB: scale.wattsPerLSB)
        let head = "ch\(phase.letter)_watthr = \(scale.watthr): "
        switch verdict(wattsPerLSB: scale.wattsPerLSB, watthr: scale.watthr) {
        case .clemap:
            return head + "matches the CLEMAP convention (Wh per WATTHR_HI LSB × 8000); derived from ch\(phase.letter)_watt: \(derived) Wh per LSB, used"
        case .whPerLSB:
            return head + "is Wh per WATTHR_HI LSB (not the CLEMAP ×8000 convention); derived \(derived) Wh per LSB, used"
        case .inconsistent:
            return head + "WARNING: matches neither cha_watt·8192/3600 (CLEMAP) nor Wh per LSB; derived \(derived) Wh per LSB from ch\(phase.letter)_watt is used"
        }
    }
}
