// SPDX-License-Identifier: Apache-2.0

/// The state of the chip's half-cycle power-quality engine (TRM UG-1098 p.30; ade9000.md §2.4): the half-cycle RMS
/// xVRMSONE / xIRMSONE, the dip, swell and overcurrent detectors that compare it, the zero-crossing timeouts and the
/// phase sequence check. ``ChipState`` runs it while RUN = 1 (`ChipState+powerQuality.swift`); RUN starts it afresh.
struct PowerQualityEngine {
    /// What the DSP model gives a step, per phase: xVRMS, xIRMS codes (the disturbance included) and the voltage's lag.
    struct Inputs: Equatable {
        var voltage = PhaseValues(), current = PhaseValues(), voltageAngleRad = PhaseValues()
        var frequencyHz = 0.0
    }

    /// A stretch of samples (start, end] with the same inputs.
    struct Segment {
        var start: Int64, end: Int64
        var inputs: Inputs
    }

    /// The recent past, oldest first, contiguous, long enough for every one-cycle window still to come.
    private(set) var history: [Segment] = []
    /// xVRMSONE, xIRMSONE codes of the last half-cycle boundary; 0 before the first.
    var vrmsOne = PhaseValues(), irmsOne = PhaseValues()
    var dips: PerPhase<LevelDetector>
    var swells: PerPhase<LevelDetector>
    /// Per phase: over OILVL at the last boundary (OI is set on the half cycle a phase goes over).
    var overcurrent = PerPhase(repeating: false)
    /// Per phase: the sample of the last voltage zero crossing (RUN's sample before the first) and whether
    /// ZXTOVx was set since, so it is set once a timeout.
    var lastCrossing: PerPhase<Int64>
    var timedOut = PerPhase(repeating: false)
    /// Half cycles counted toward the next SEQERR.
    var sequenceHalfCycles: Int64 = 0

    // Caches: what the last segment's inputs and the registers give, kept while neither changes.
    /// The registers read; nil after any register write.
    var settings: ChipState.PowerQualitySettings?
    /// The phases' zero-crossing signals for the last segment's inputs and ZXTHRSH.
    var crossings: PerPhase<ZeroCrossingSignal?>?
    /// All three cross zero, but not in the order A, B, C.
    var sequenceWrong = false
    /// The last half cycles fed were the last segment's steady values, and left every dip and swell detector idle
    /// with its level not past: more of them change nothing (overcurrent repeats itself, see `halfCycles`).
    var quiet = false
    /// Every phase either crosses zero more often than ZXTOUT, or has timed out already: more of the same segment
    /// sets nothing. (While it holds, `lastCrossing` of a crossing phase is brought up to date only when the
    /// signals change: see `catchUp`.)
    var zeroCrossingsQuiet = false

    /// A fresh engine from sample `start`; DIPx and SWELLx keep the values given (the registers' contents).
    init(start: Int64 = 0, dipRegisters: [UInt32] = [0x7F_FFFF, 0x7F_FFFF, 0x7F_FFFF], swellRegisters: [UInt32] = [0, 0, 0]) {
        dips = PerPhase(each: { LevelDetector(kind: .dip, register: dipRegisters[$0]) })
        swells = PerPhase(each: { LevelDetector(kind: .swell, register: swellRegisters[$0]) })
        lastCrossing = PerPhase(repeating: start)
    }

    /// When nothing of the samples (a, b] with these inputs can change a register (the last segment goes on
    /// unchanged, the registers were not written, the detectors are idle, the zero crossings quiet and in order),
    /// extends the last segment to b and returns true.
    mutating func continueQuietly(from a: Int64, to b: Int64, _ inputs: Inputs) -> Bool {
        guard quiet, zeroCrossingsQuiet, !sequenceWrong, settings != nil, let last = history.last,
              last.end == a, last.inputs == inputs else { return false }
        history[history.count - 1].end = b
        return true
    }

    /// Appends the samples (a, b] with these inputs, merged into the last segment when nothing changed (then
    /// true), and forgets what lies more than `keep` samples before a: the windows of the boundaries in (a, b]
    /// reach back one line cycle before a at most.
    mutating func record(from a: Int64, to b: Int64, _ inputs: Inputs, keep: Int64) -> Bool {
        if let last = history.last, last.end == a, last.inputs == inputs {
            history[history.count - 1].end = b
            return true
        }
        history.append(Segment(start: a, end: b, inputs: inputs))
        while history.count > 1, history[0].end <= a - keep { history.removeFirst() }
        return false
    }

    /// Brings each crossing phase's `lastCrossing` up to sample `s` under the signals in force until then.
    mutating func catchUp(to s: Int64) {
        guard let crossings else { return }
        for i in 0..<3 {
            guard let signal = crossings[i], lastCrossing[i] < s else { continue }
            let n = signal.crossings(through: s)
            if n > signal.crossings(through: lastCrossing[i]) {
                lastCrossing[i] = signal.sample(reaching: n, after: lastCrossing[i])
            }
        }
    }

    /// No dip or swell detector is in an event or counting toward one.
    var detectorsIdle: Bool {
        dips.a.isIdle && dips.b.isIdle && dips.c.isIdle && swells.a.isIdle && swells.b.isIdle && swells.c.isIdle
    }

    /// Where the last segment starts: a window (w0, w1] with w0 at or after it holds its codes alone.
    var steadySince: Int64 { history.last?.start ?? .max }
    var steady: Inputs { history.last!.inputs }

    /// The RMS over the samples (w0, w1]: √(time-weighted mean of code²). Samples before the first segment (the
    /// window reaching back before RUN) take its codes: the ADCs ran, the DSP just did not report.
    func rms(from w0: Int64, to w1: Int64) -> (voltage: PhaseValues, current: PhaseValues) {
        var v = PhaseValues(), i = PhaseValues()
        func add(_ s: Segment, samples: Int64) {
            let n = Double(samples)
            for p in 0..<3 {
                v[p] += s.inputs.voltage[p] * s.inputs.voltage[p] * n
                i[p] += s.inputs.current[p] * s.inputs.current[p] * n
            }
        }
        if let first = history.first, w0 < first.start { add(first, samples: min(first.start, w1) - w0) }
        for s in history where s.end > w0 && s.start < w1 { add(s, samples: min(s.end, w1) - max(s.start, w0)) }
        let total = Double(w1 - w0)
        for p in 0..<3 {
            v[p] = (v[p] / total).squareRoot()
            i[p] = (i[p] / total).squareRoot()
        }
        return (v, i)
    }
}
