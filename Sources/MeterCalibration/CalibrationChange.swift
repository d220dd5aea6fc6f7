// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import MeterReadings

/// One register a calibration step would change, with its effect in plain words.
public struct CalibrationChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case igain, vgain, pgain, phcal0, irmsos, vrmsos, wattos, varos
    }

    public var phase: Phase
    public var kind: Kind
    public var old: Int32
    public var new: Int32

    public init(phase: Phase, kind: Kind, old: Int32, new: Int32) {
        self.phase = phase; self.kind = kind; self.old = old; self.new = new
    }

    /// The `config.ini` key: `calib_aigain`.
    public var key: String { "calib_\(phase.letter)\(kind.rawValue)" }

    /// "+1.54 % → +1.49 % current gain", "−4.03° → −4.10°", "35 → 37".
    public func effect(lineFrequency: Double) -> String {
        switch kind {
        case .igain, .vgain, .pgain:
            let what = kind == .igain ? "current gain" : kind == .vgain ? "voltage gain" : "power gain"
            let before = (Gain.multiplier(old) - 1) * 100, after = (Gain.multiplier(new) - 1) * 100
            return "\(DecimalText.signed(before, 3)) % → \(DecimalText.signed(after, 3)) % \(what) (\(DecimalText.signed(after - before, 3)) %)"
        case .phcal0:
            let before = PhaseCompensation.degrees(register: old, lineFrequency: lineFrequency)
            let after = PhaseCompensation.degrees(register: new, lineFrequency: lineFrequency)
            return "\(DecimalText.signed(before, 3))° → \(DecimalText.signed(after, 3))° phase compensation (\(DecimalText.signed(after - before, 3))°)"
        case .irmsos, .vrmsos:
            return "\(old) → \(new) (× 2^15 added to the squared RMS)"
        case .wattos, .varos:
            return "\(old) → \(new) (codes added to x\(kind == .wattos ? "WATT" : "VAR"))"
        }
    }

    /// Writes `new` into a calibration set.
    public func apply(to calibration: inout PhaseCalibration) {
        switch kind {
        case .igain: calibration.igain = new
        case .vgain: calibration.vgain = new
        case .pgain: calibration.pgain = new
        case .phcal0: calibration.phcal0 = new
        case .irmsos: calibration.irmsos = new
        case .vrmsos: calibration.vrmsos = new
        case .wattos: calibration.wattos = new
        case .varos: calibration.varos = new
        }
    }
}
