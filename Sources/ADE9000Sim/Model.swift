// SPDX-License-Identifier: Apache-2.0

import ADE9000
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Physical inputs → the codes the DSP would compute (ade9000.md §4.4, DS eqs. 3–10):
/// the analog front end first, then the chip's own gains, offsets and phase compensation, read from
/// the register file. A wrong register gives a wrong reading, as on silicon.
struct Model {
    struct PhaseValues {
        /// xIRMS, xVRMS after the RMS offsets.
        var irms: Double, vrms: Double
        var wattCode: Int64, varCode: Int64, vaCode: Int64
        var pfCode: UInt32
        /// ANGL_Vx_Ix count.
        var angleCount: UInt32
        var currentAngleRad: Double, voltageAngleRad: Double
    }

    let phases: [PhaseValues]
    /// ISUMRMS: the RMS of AI_PCF + BI_PCF + CI_PCF (CONFIG0.ISUM_CFG 00 or 11; the board has no neutral CT, so
    /// NI_PCF is 0 and 01/10 give the same). The samples add instantaneously, so the RMS of the sum is the magnitude
    /// of the phasor sum of the three currents, each as the channel carries it (after xIGAIN and the phase
    /// compensation, before the RMS offsets, which act on xIRMS only), then ISUMRMSOS as xIRMSOS acts on xIRMS.
    let isumrms: Double

    init(state: ChipState, phases loads: [Scenario.PhaseLoad]? = nil) {
        let scenario = state.scenario, board = state.frontEnd
        let loads = loads ?? scenario.phases(atWall: state.wallOffset.map { Double(state.sample) / ChipState.dspRate + $0 })
        let f = scenario.frequencyHz
        let ctf = board.currentVoltsPerAmp ?? FrontEnd.nibV3CurrentVoltsPerAmp
        let vtf = board.voltageVoltsPerVolt ?? FrontEnd.nibV3VoltageVoltsPerVolt
        let unity = ChipState.unity, fullScale = ChipState.rmsFullScale
        func reg(_ register: Register) -> Double { Double(Int32(bitPattern: state.value(register))) }

        var sumRe = 0.0, sumIm = 0.0
        phases = Phase.allCases.map { p in
            let i = p.rawValue, load = loads[i]
            // ADC input in rms volts; the ADC clips at ±1 V peak (0.7071 V rms).
            let adcI = min(load.currentA * ctf * board.currentGain[i], 0.5.squareRoot())
            let adcV = min(load.voltageV * vtf * board.voltageGain[i], 0.5.squareRoot())
            let gI = 1 + reg(.IGAIN(p)) / unity, gV = 1 + reg(.VGAIN(p)) / unity, gP = 1 + reg(.PGAIN(p)) / unity
            // FS 52,702,092 at 0.7071 V rms: code = V_rms · √2 · FS.
            let irms0 = adcI * 2.0.squareRoot() * fullScale * gI
            let vrms0 = adcV * 2.0.squareRoot() * fullScale * gV
            let irms = (max(0, irms0 * irms0 + (board.currentRMSOffset?[i] ?? 0) + 32_768 * reg(.IRMSOS(p)))).squareRoot()
            let vrms = (max(0, vrms0 * vrms0 + (board.voltageRMSOffset?[i] ?? 0) + 32_768 * reg(.VRMSOS(p)))).squareRoot()

            // The chip advances the current by φ (DS eq. 4); the board delays it by currentPhaseDeg.
            let phi = PhaseCompensationModel.degrees(register: reg(.PHCAL0(p)), lineFrequency: f)
            let measuredDeg = load.angleDeg + board.currentPhaseDeg[i] - phi
            let theta = measuredDeg * .pi / 180
            let powerGain = gP * (board.powerGain?[i] ?? 1)
            let watt = powerGain * irms0 * vrms0 * cos(theta) / unity + reg(.WATTOS(p)) + (board.wattOffset?[i] ?? 0)
            let reactive = powerGain * irms0 * vrms0 * sin(theta) / unity + reg(.VAROS(p)) + (board.varOffset?[i] ?? 0)
            let apparent = powerGain * irms * vrms / unity
            let pf = apparent > 0 ? max(-unity, min(unity, (unity * watt / apparent).rounded())) : 0

            var angle = measuredDeg.truncatingRemainder(dividingBy: 360)
            if angle < 0 { angle += 360 }
            let voltageLag = load.voltageAngleDeg ?? Double(i) * 120
            let currentAngle = (voltageLag + measuredDeg) * .pi / 180
            sumRe += irms0 * cos(currentAngle)
            sumIm -= irms0 * sin(currentAngle)
            return PhaseValues(
                irms: irms, vrms: vrms,
                wattCode: Int64(watt.rounded()), varCode: Int64(reactive.rounded()), vaCode: Int64(apparent.rounded()),
                pfCode: UInt32(bitPattern: Int32(pf)),
                angleCount: UInt32((angle / 360 * 1_024_000 / f).rounded()) & 0xFFFF,
                currentAngleRad: currentAngle, voltageAngleRad: voltageLag * .pi / 180)
        }
        isumrms = (max(0, sumRe * sumRe + sumIm * sumIm + 32_768 * reg(.ISUMRMSOS))).squareRoot()
    }
}
