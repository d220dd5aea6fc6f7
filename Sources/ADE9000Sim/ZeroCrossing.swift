// SPDX-License-Identifier: Apache-2.0

import ADE9000
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The zero-crossing signal that ZX_LP_SEL.ZX_SEL (bits [2:1]) routes to line-cycle energy accumulation
/// (TRM p.26): 00 VA, 01 VB, 10 VC, 11 the combined signal (VA + VB − VC)/2, whose VB term is 0 when
/// ACCMODE.VCONSEL ≠ 000 (TRM p.25). Both edges count, so one crossing is one half line cycle.
///
/// The simulated V_PCF of a phase is P·sin(ωt − θ) with t = sample/8000 (``ChipState`` `measurement`), so the
/// signal has crossed zero ⌊h(s)⌋ times by sample s, h(s) = 2f·s/8000 − θ/π, counted from one fixed origin.
/// Crossings in the samples (a, b] are ⌊h(b)⌋ − ⌊h(a)⌋: no state to carry, and a sample is never counted twice.
struct ZeroCrossingSignal {
    /// Half line cycles per DSP sample, 2f/8000.
    let halfCyclesPerSample: Double
    /// θ/π of the selected signal.
    let offset: Double

    /// The selected signal, or nil when it has no zero crossings: a signal whose peak after LPF1 stays below
    /// ZXTHRSH·2^8·32 is blocked (TRM p.25: ZXTHRSH = V_PCF_FS·LPF1_ATTENUATION / (X·32·2^8), LPF1_ATTENUATION
    /// 0.86 at 50 Hz, 0.81 at 60 Hz).
    init?(state: ChipState, model: Model) {
        let weights: [Double]
        switch state.value(.ZX_LP_SEL) >> 1 & 3 {
        case 0: weights = [1, 0, 0]
        case 1: weights = [0, 1, 0]
        case 2: weights = [0, 0, 1]
        default: weights = [0.5, state.value(.ACCMODE) >> 4 & 7 == 0 ? 0.5 : 0, -0.5]
        }
        self.init(model: model, weights: weights, frequencyHz: state.scenario.frequencyHz, threshold: state.value(.ZXTHRSH))
    }

    /// One phase's voltage alone, as its zero-crossing timeout (ZXTOUT, STATUS1.ZXTOVx) and the phase sequence
    /// check (SEQERR) watch it, from its xVRMS code and lag; nil below ZXTHRSH (`threshold`), by the same rule.
    init?(vrms: Double, angleRad: Double, frequencyHz: Double, threshold: UInt32) {
        let amplitude = vrms * Self.peakPerRMS
        self.init(re: amplitude * cos(angleRad), im: -amplitude * sin(angleRad), frequencyHz: frequencyHz, threshold: threshold)
    }

    /// V_PCF peak per VRMS code: full scales ±74,532,013 and 52,702,092 (DS pp. 33, 37).
    static let peakPerRMS = 74_532_013 / ChipState.rmsFullScale

    private init?(model: Model, weights: [Double], frequencyHz f: Double, threshold: UInt32) {
        func phasor(_ i: Int) -> (re: Double, im: Double) {
            let amplitude = model.phases[i].vrms * Self.peakPerRMS, angle = model.phases[i].voltageAngleRad
            return (amplitude * cos(angle), -amplitude * sin(angle))
        }
        var re = 0.0, im = 0.0
        for i in 0..<3 where weights[i] != 0 {
            let p = phasor(i)
            re += weights[i] * p.re; im += weights[i] * p.im
        }
        self.init(re: re, im: im, frequencyHz: f, threshold: threshold)
    }

    /// The signal of phasor (re, im) on the V_PCF scale.
    private init?(re: Double, im: Double, frequencyHz f: Double, threshold: UInt32) {
        let attenuation = f < 55 ? 0.86 : 0.81
        let peak = (re * re + im * im).squareRoot()
        guard f > 0, peak * attenuation >= Double(threshold & 0xFFFF) * 8192 else { return nil }
        halfCyclesPerSample = 2 * f / ChipState.dspRate
        offset = -atan2(im, re) / .pi
    }

    /// Zero crossings from the fixed origin up to and including sample `s`.
    func crossings(through s: Int64) -> Int64 {
        Int64((halfCyclesPerSample * Double(s) - offset).rounded(.down))
    }

    /// The first sample after `s` by which `n` crossings have happened (n > crossings(through: s)).
    func sample(reaching n: Int64, after s: Int64) -> Int64 {
        var at = max(s + 1, Int64(((Double(n) + offset) / halfCyclesPerSample).rounded(.up)))
        // Agree with crossings(through:) whatever the rounding of the division above.
        while crossings(through: at) < n { at += 1 }
        while at - 1 > s, crossings(through: at - 1) >= n { at -= 1 }
        return at
    }
}
