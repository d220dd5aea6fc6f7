// SPDX-License-Identifier: Apache-2.0

/// The calibration registers of one phase, in register codes (DS Table 6, 0x000–0x018 + phase stride).
///
/// The names follow the CLEMAP `config.ini` keys (`calib_aigain` is `PhaseCalibration.igain` of phase A).
/// All are signed 32-bit two's complement registers.
public struct PhaseCalibration: Sendable, Hashable {
    /// xIGAIN: current gain, multiplier `1 + igain / 2^27`.
    public var igain: Int32
    /// xVGAIN: voltage gain, multiplier `1 + vgain / 2^27`.
    public var vgain: Int32
    /// xPGAIN: power gain for total and fundamental W, var and VA.
    public var pgain: Int32
    /// xPHCAL0: phase compensation, see ``PhaseCompensation``.
    public var phcal0: Int32
    /// xIRMSOS: current RMS offset, added as `2^15 · irmsos` to the squared RMS.
    public var irmsos: Int32
    /// xVRMSOS: voltage RMS offset, same form as `irmsos`.
    public var vrmsos: Int32
    /// xWATTOS: active power offset, added to xWATT in codes.
    public var wattos: Int32
    /// xVAROS: reactive power offset, added to xVAR in codes.
    public var varos: Int32

    public init(igain: Int32 = 0, vgain: Int32 = 0, pgain: Int32 = 0, phcal0: Int32 = 0,
                irmsos: Int32 = 0, vrmsos: Int32 = 0, wattos: Int32 = 0, varos: Int32 = 0) {
        self.igain = igain; self.vgain = vgain; self.pgain = pgain; self.phcal0 = phcal0
        self.irmsos = irmsos; self.vrmsos = vrmsos; self.wattos = wattos; self.varos = varos
    }

    /// All registers zero: the chip's reset state, no correction at all.
    public static let zero = PhaseCalibration()
}
