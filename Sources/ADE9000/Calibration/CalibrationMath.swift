// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The calibration equations of the ADE9000 (DS eqs. 3–10, ADI's calibration procedure as in
/// ade9000.md §5.3), composed with the register already in force: a meter is recalibrated from wherever
/// it is, never assumed to start at zero.
public enum CalibrationMath {
    /// A gain register (xIGAIN, xVGAIN, xPGAIN) that makes `measured` read `expected`, given the register
    /// `current` that was in force while measuring: `((1 + current/2^27) · expected/measured − 1) · 2^27`.
    /// - Returns: nil when `measured` is not positive or the result does not fit 32 bits.
    public static func gain(current: Int32, expected: Double, measured: Double) -> Int32? {
        guard measured > 0, expected > 0, expected.isFinite, measured.isFinite else { return nil }
        return Gain.register(forMultiplier: Gain.multiplier(current) * expected / measured)
    }

    /// The angle error of a phase, degrees: measured angle (from accumulated active and reactive energy)
    /// minus the reference angle θ. Equals ADI's −atan[(E_P·sinθ − E_Q·cosθ)/(E_P·cosθ + E_Q·sinθ)].
    public static func angleError(activeEnergy: Double, reactiveEnergy: Double, referenceDegrees: Double) -> Double {
        var error = atan2(reactiveEnergy, activeEnergy) * 180 / .pi - referenceDegrees
        while error > 180 { error -= 360 }
        while error <= -180 { error += 360 }
        return error
    }

    /// The xPHCAL0 that removes `angleError` on top of the register `current` (DS eq. 4): the correction in
    /// force plus the error still seen. - Returns: nil outside the chip's −15° … +ω range.
    public static func phaseCompensation(current: Int32, angleError: Double, lineFrequency: Double) -> Int32? {
        let inForce = current == 0 ? 0 : PhaseCompensation.degrees(register: current, lineFrequency: lineFrequency)
        return PhaseCompensation.register(degrees: inForce + angleError, lineFrequency: lineFrequency)
    }

    /// xIRMSOS / xVRMSOS that make an RMS `measured` (with `current` in force) read `expected`:
    /// `current + (expected² − measured²) / 2^15` (DS eqs. 5–6).
    public static func rmsOffset(current: Int32, expected: Double, measured: Double) -> Int32? {
        let value = (Double(current) + RMSOffset.register(expected: expected, measured: measured)).rounded()
        guard value.isFinite, value >= Double(Int32.min), value <= Double(Int32.max) else { return nil }
        return Int32(value)
    }

    /// xWATTOS / xVAROS that make a power `measured` (codes, with `current` in force) read `expected`:
    /// `current + expected − measured` (DS eqs. 7, 9).
    public static func powerOffset(current: Int32, expected: Double, measured: Double) -> Int32? {
        let value = (Double(current) + expected - measured).rounded()
        guard value.isFinite, value >= Double(Int32.min), value <= Double(Int32.max) else { return nil }
        return Int32(value)
    }
}
