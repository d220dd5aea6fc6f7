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
        /// xIRMS, xVRMS after the RMS offsets: every harmonic included.
        var irms: Double, vrms: Double
        /// Total powers: xWATT and xVAR sum the products of same-order harmonics.
        var wattCode: Int64, varCode: Int64, vaCode: Int64
        var pfCode: UInt32
        /// xIFRMS, xVFRMS: the fundamental alone, after xIFRMSOS/xVFRMSOS.
        var ifrms: Double, vfrms: Double
        /// xFWATT, xFVAR, xFVA: fundamental V × fundamental I.
        var fwattCode: Int64, fvarCode: Int64, fvaCode: Int64
        /// xVTHD, xITHD in 5.27 (latched every 1.024 s by the DSP, like xPF).
        var vthdCode: UInt32, ithdCode: UInt32
        /// ANGL_Vx_Ix count.
        var angleCount: UInt32
        var currentAngleRad: Double, voltageAngleRad: Double
        /// RMS codes the waveform registers draw the fundamental with (the total RMS without harmonics, as before).
        var waveformIrms: Double, waveformVrms: Double
        /// Harmonic components of the waveforms: order, RMS code, phase (radians of their own period).
        var currentHarmonics: [(order: Int, rms: Double, angleRad: Double)], voltageHarmonics: [(order: Int, rms: Double, angleRad: Double)]
    }

    let phases: [PhaseValues]
    /// ISUMRMS: the RMS of AI_PCF + BI_PCF + CI_PCF (CONFIG0.ISUM_CFG 00 or 11; the board has no neutral CT, so
    /// NI_PCF is 0 and 01/10 give the same). The samples add instantaneously, so the RMS of the sum is the magnitude
    /// of the phasor sum of the three currents, each as the channel carries it (after xIGAIN and the phase
    /// compensation, before the RMS offsets, which act on xIRMS only), then ISUMRMSOS as xIRMSOS acts on xIRMS.
    let isumrms: Double

    /// The model for sample `n` (default: the chip's current sample): the scenario's phases with the disturbances
    /// acting on that sample.
    init(state: ChipState, atSample n: Int64? = nil) {
        let scenario = state.scenario, board = state.frontEnd
        let loads = state.loads(atSample: n ?? state.sample)
        let f = scenario.frequencyHz
        let ctf = board.currentVoltsPerAmp ?? FrontEnd.nibV3CurrentVoltsPerAmp
        let vtf = board.voltageVoltsPerVolt ?? FrontEnd.nibV3VoltageVoltsPerVolt
        let unity = ChipState.unity, fullScale = ChipState.rmsFullScale
        func reg(_ register: Register) -> Double { Double(Int32(bitPattern: state.value(register))) }

        var sumRe = 0.0, sumIm = 0.0
        /// Per order, the phasor sum of the three phases' current harmonics (the neutral's share at that order:
        /// triplen harmonics of a balanced load add up instead of cancelling).
        var harmonicSums: [Int: (re: Double, im: Double)] = [:]
        phases = Phase.allCases.map { p in
            let i = p.rawValue, load = loads[i]
            let harmonics = load.harmonics ?? HarmonicContent()
            // Total RMS over fundamental RMS: 1 exactly without harmonics, so today's codes stay bit for bit.
            let iRatio = harmonics.totalOverFundamental(current: true), vRatio = harmonics.totalOverFundamental(current: false)
            // ADC input in rms volts; the ADC clips at ±1 V peak (0.7071 V rms), modelled on the total RMS: a clipped
            // channel scales every component alike. adcI, adcV are the fundamental's share.
            let adcI = min(load.currentA * ctf * board.currentGain[i] * iRatio, 0.5.squareRoot()) / iRatio
            let adcV = min(load.voltageV * vtf * board.voltageGain[i] * vRatio, 0.5.squareRoot()) / vRatio
            let gI = 1 + reg(.IGAIN(p)) / unity, gV = 1 + reg(.VGAIN(p)) / unity, gP = 1 + reg(.PGAIN(p)) / unity
            // FS 52,702,092 at 0.7071 V rms: code = V_rms · √2 · FS. The fundamental's codes first.
            let irms0 = adcI * 2.0.squareRoot() * fullScale * gI
            let vrms0 = adcV * 2.0.squareRoot() * fullScale * gV
            // Total RMS = √(fundamental² + Σ harmonics²) (DS p.33: the filter-based RMS of the whole waveform).
            let irmsTotal0 = irms0 * iRatio, vrmsTotal0 = vrms0 * vRatio
            let irms = (max(0, irmsTotal0 * irmsTotal0 + (board.currentRMSOffset?[i] ?? 0) + 32_768 * reg(.IRMSOS(p)))).squareRoot()
            let vrms = (max(0, vrmsTotal0 * vrmsTotal0 + (board.voltageRMSOffset?[i] ?? 0) + 32_768 * reg(.VRMSOS(p)))).squareRoot()
            // The fundamental filter rejects the broadband floor the board's RMS offsets stand for; only the chip's
            // own xIFRMSOS/xVFRMSOS act on it (DS eq. 6 p.33).
            let ifrms = (max(0, irms0 * irms0 + 32_768 * reg(.IFRMSOS(p)))).squareRoot()
            let vfrms = (max(0, vrms0 * vrms0 + 32_768 * reg(.VFRMSOS(p)))).squareRoot()

            // The chip advances the current by φ (DS eq. 4); the board delays it by currentPhaseDeg.
            let phi = PhaseCompensationModel.degrees(register: reg(.PHCAL0(p)), lineFrequency: f)
            let measuredDeg = load.angleDeg + board.currentPhaseDeg[i] - phi
            let theta = measuredDeg * .pi / 180
            let powerGain = gP * (board.powerGain?[i] ?? 1)

            // Harmonics of the same order make active and reactive power together; a current harmonic with no voltage
            // partner (or the reverse) adds to the RMS only. The residual phase error of the current channel is taken
            // as a time delay: h times the fundamental's at order h.
            let residualDeg = board.currentPhaseDeg[i] - phi
            let voltageLag = load.voltageAngleDeg ?? Double(i) * 120
            var voltageHarmonics: [(order: Int, rms: Double, angleRad: Double)] = []
            var currentHarmonics: [(order: Int, rms: Double, angleRad: Double)] = []
            var vByOrder: [Int: (rms: Double, deg: Double)] = [:]
            for h in harmonics.voltage ?? [] {
                let deg = h.angleDeg ?? 0
                vByOrder[h.order] = (vrms0 * h.percent / 100, deg)
                voltageHarmonics.append((h.order, vrms0 * h.percent / 100, (Double(h.order) * voltageLag + deg) * .pi / 180))
            }
            var harmonicWatt = 0.0, harmonicVar = 0.0
            for h in harmonics.current ?? [] {
                let rms = irms0 * h.percent / 100
                let deg = (h.angleDeg ?? 0) + Double(h.order) * residualDeg
                let absolute = (Double(h.order) * voltageLag + deg) * .pi / 180
                currentHarmonics.append((h.order, rms, absolute))
                harmonicSums[h.order, default: (0, 0)].re += rms * cos(absolute)
                harmonicSums[h.order, default: (0, 0)].im -= rms * sin(absolute)
                if let v = vByOrder[h.order] {
                    let lag = (deg - v.deg) * .pi / 180
                    harmonicWatt += v.rms * rms * cos(lag)
                    harmonicVar += v.rms * rms * sin(lag)
                }
            }
            // xWATT and xVAR are total powers (ade9000.md §2.1, §2.3: "total active/reactive"), Σ_h Vh·Ih·cos/sin φh;
            // xFWATT, xFVAR the fundamental's alone. The fundamental term is written as before, so a scenario without
            // harmonics gives today's codes exactly.
            let watt = powerGain * irms0 * vrms0 * cos(theta) / unity + powerGain * harmonicWatt / unity
                + reg(.WATTOS(p)) + (board.wattOffset?[i] ?? 0)
            let reactive = powerGain * irms0 * vrms0 * sin(theta) / unity + powerGain * harmonicVar / unity
                + reg(.VAROS(p)) + (board.varOffset?[i] ?? 0)
            let apparent = powerGain * irms * vrms / unity
            let pf = apparent > 0 ? max(-unity, min(unity, (unity * watt / apparent).rounded())) : 0
            let fwatt = powerGain * irms0 * vrms0 * cos(theta) / unity + reg(.FWATTOS(p))
            let fvar = powerGain * irms0 * vrms0 * sin(theta) / unity + reg(.FVAROS(p))
            let fva = powerGain * ifrms * vfrms / unity
            // THD = √(Σ_{h≥2} Xh²) / X1 (DS p.39), as 5.27; no fundamental, nothing to relate to: 0.
            func thd(_ list: [(order: Int, rms: Double, angleRad: Double)], fundamental: Double) -> UInt32 {
                guard fundamental > 0 else { return 0 }
                let ratio = list.reduce(0) { $0 + $1.rms * $1.rms }.squareRoot() / fundamental
                return UInt32(bitPattern: Int32(clamping: Int64((ratio * unity).rounded())))
            }

            var angle = measuredDeg.truncatingRemainder(dividingBy: 360)
            if angle < 0 { angle += 360 }
            let currentAngle = (voltageLag + measuredDeg) * .pi / 180
            sumRe += irms0 * cos(currentAngle)
            sumIm -= irms0 * sin(currentAngle)
            return PhaseValues(
                irms: irms, vrms: vrms,
                wattCode: Int64(watt.rounded()), varCode: Int64(reactive.rounded()), vaCode: Int64(apparent.rounded()),
                pfCode: UInt32(bitPattern: Int32(pf)),
                ifrms: ifrms, vfrms: vfrms,
                fwattCode: Int64(fwatt.rounded()), fvarCode: Int64(fvar.rounded()), fvaCode: Int64(fva.rounded()),
                vthdCode: thd(voltageHarmonics, fundamental: vrms0), ithdCode: thd(currentHarmonics, fundamental: irms0),
                angleCount: UInt32((angle / 360 * 1_024_000 / f).rounded()) & 0xFFFF,
                currentAngleRad: currentAngle, voltageAngleRad: voltageLag * .pi / 180,
                waveformIrms: currentHarmonics.isEmpty ? irms : irms0, waveformVrms: voltageHarmonics.isEmpty ? vrms : vrms0,
                currentHarmonics: currentHarmonics, voltageHarmonics: voltageHarmonics)
        }
        let harmonicSquares = harmonicSums.values.reduce(0) { $0 + $1.re * $1.re + $1.im * $1.im }
        isumrms = (max(0, sumRe * sumRe + sumIm * sumIm + harmonicSquares + 32_768 * reg(.ISUMRMSOS))).squareRoot()
    }
}
