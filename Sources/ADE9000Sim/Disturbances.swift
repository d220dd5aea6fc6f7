// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A scripted power-quality disturbance on one phase: a dip, a swell, an interruption or an overcurrent, once or
/// repeated. It acts on the phase at the chip's sample level, so the half-cycle RMS, the dip, swell and overcurrent
/// detectors (TRM p.30) and the one-second registers and energy all see it.
public struct ScenarioDisturbance: Codable, Sendable, Hashable {
    /// `"dip"`, `"swell"`, `"interruption"` or `"overcurrent"` (a string, so a wrong one is named in the error).
    public var kind: String
    /// 1, 2 or 3 (L1–L3).
    public var phase: Int
    /// Simulated seconds after the simulator's first time step, the origin of `faults.wedged_after_s`.
    public var startS: Double
    /// Its length in milliseconds; exactly one of this and `cycles`.
    public var durationMs: Double?
    /// Its length in line cycles (3 = 60 ms at 50 Hz); exactly one of this and `durationMs`.
    public var cycles: Double?
    /// Dip and swell: the phase voltage during it, percent of the scenario's (dip 0 < level < 100, swell 100 < level ≤ 200).
    public var levelPct: Double?
    /// Overcurrent: the phase current during it, A.
    public var currentA: Double?
    /// Repeats with this period, s (more than its length); absent: once.
    public var everyS: Double?

    /// What a disturbance does to its phase.
    enum Effect: Equatable {
        /// The voltage times this factor (dip, swell).
        case voltage(Double)
        /// Voltage and current 0.
        case interruption
        /// The current set to this, A.
        case current(Double)
    }

    public init(kind: String, phase: Int, startS: Double, durationMs: Double? = nil, cycles: Double? = nil,
                levelPct: Double? = nil, currentA: Double? = nil, everyS: Double? = nil) {
        self.kind = kind; self.phase = phase; self.startS = startS; self.durationMs = durationMs; self.cycles = cycles
        self.levelPct = levelPct; self.currentA = currentA; self.everyS = everyS
    }

    enum CodingKeys: String, CodingKey {
        case kind, phase, startS = "start_s", durationMs = "duration_ms", cycles, levelPct = "level_pct",
             currentA = "current_a", everyS = "every_s"
    }

    static let kinds = ["dip", "swell", "interruption", "overcurrent"]

    /// Its length in seconds at the line frequency `f`.
    func durationS(frequencyHz f: Double) -> Double { durationMs.map { $0 / 1000 } ?? (cycles ?? 0) / f }

    var effect: Effect {
        switch kind {
        case "interruption": .interruption
        case "overcurrent": .current(currentA ?? 0)
        default: .voltage((levelPct ?? 100) / 100)
        }
    }

    func validate(index: Int, frequencyHz: Double, source: String) throws(ScenarioError) {
        func fail(_ detail: String) -> ScenarioError {
            ScenarioError(path: source, detail: "\"disturbances\"[\(index)]: \(detail)", remedy: "see scenarios/README.md")
        }
        guard Self.kinds.contains(kind) else {
            throw fail("kind is \"\(kind)\", allowed: \(Self.kinds.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        guard (1...3).contains(phase) else { throw fail("phase is \(phase), needs 1, 2 or 3 (L1, L2, L3)") }
        guard startS.isFinite, startS >= 0 else { throw fail("start_s is \(startS), needs seconds ≥ 0") }
        switch (durationMs, cycles) {
        case (nil, nil), (.some, .some): throw fail("needs exactly one of duration_ms and cycles")
        case (let ms?, nil) where !(ms.isFinite && ms > 0): throw fail("duration_ms is \(ms), needs milliseconds > 0")
        case (nil, let n?) where !(n.isFinite && n > 0): throw fail("cycles is \(n), needs line cycles > 0")
        default: break
        }
        // The DSP runs at 8 kSPS: a disturbance must last at least one sample.
        let duration = durationS(frequencyHz: frequencyHz)
        guard duration * ChipState.dspRate >= 1 else { throw fail("lasts \(duration * 1000) ms, needs at least one 8 kSPS sample (0.125 ms)") }
        switch kind {
        case "dip", "swell":
            guard let level = levelPct else { throw fail("a \(kind) needs level_pct") }
            if kind == "dip", !(level > 0 && level < 100) { throw fail("level_pct is \(level), a dip needs 0 < level_pct < 100") }
            if kind == "swell", !(level > 100 && level <= 200) { throw fail("level_pct is \(level), a swell needs 100 < level_pct ≤ 200") }
            if currentA != nil { throw fail("current_a belongs to an overcurrent, not a \(kind)") }
        case "overcurrent":
            guard let amps = currentA else { throw fail("an overcurrent needs current_a") }
            guard amps.isFinite, amps >= 0 else { throw fail("current_a is \(amps), needs amperes ≥ 0") }
            if levelPct != nil { throw fail("level_pct belongs to a dip or swell, not an overcurrent") }
        default:
            if levelPct != nil || currentA != nil { throw fail("an interruption takes neither level_pct nor current_a (it is 0 V, 0 A)") }
        }
        if let every = everyS, !(every.isFinite && every > duration) {
            throw fail("every_s is \(every), needs seconds more than its length (\(duration) s)")
        }
    }
}

/// The disturbances of a scenario on the chip's sample axis. Occurrence k of a disturbance starting at sample S_k
/// (start_s + k·every_s after `origin`) acts on the samples S_k < n ≤ S_k + length, so the chip's steps (a, b]
/// split at S_k and S_k + length have one state throughout.
struct DisturbanceSchedule {
    struct Entry {
        let phase: Int
        let effect: ScenarioDisturbance.Effect
        let startS: Double
        let everyS: Double?
        /// Length in samples, at least 1.
        let length: Int64
    }

    let entries: [Entry]
    /// The sample the start times count from.
    let origin: Int64

    init(_ disturbances: [ScenarioDisturbance], frequencyHz: Double, origin: Int64) {
        self.origin = origin
        entries = disturbances.map { d in
            Entry(phase: d.phase - 1, effect: d.effect, startS: d.startS, everyS: d.everyS,
                  length: max(1, Int64((d.durationS(frequencyHz: frequencyHz) * ChipState.dspRate).rounded())))
        }
    }

    var isEmpty: Bool { entries.isEmpty }
    static let none = DisturbanceSchedule([], frequencyHz: 50, origin: 0)
    private static let unaffected: [[ScenarioDisturbance.Effect]] = [[], [], []]

    /// Sample S_k of occurrence k.
    private func start(_ e: Entry, _ k: Int64) -> Int64 {
        origin + Int64(((e.startS + Double(k) * (e.everyS ?? 0)) * ChipState.dspRate).rounded())
    }

    /// The occurrences that may touch sample `n`: the one starting last at or before it, and its neighbours
    /// (rounding to whole samples moves a start by at most one).
    private func candidates(_ e: Entry, near n: Int64) -> ClosedRange<Int64> {
        guard let every = e.everyS else { return 0...0 }
        let k = Int64(((Double(n - origin) / ChipState.dspRate - e.startS) / every).rounded(.down))
        return max(0, k - 1)...max(0, k + 1)
    }

    /// The effects on each phase acting on sample `n`, in the scenario's order.
    func effects(atSample n: Int64) -> [[ScenarioDisturbance.Effect]] {
        guard !entries.isEmpty else { return Self.unaffected }
        var out: [[ScenarioDisturbance.Effect]] = [[], [], []]
        for e in entries where candidates(e, near: n).contains(where: { k in start(e, k) < n && n <= start(e, k) + e.length }) {
            out[e.phase].append(e.effect)
        }
        return out
    }

    /// The first sample after `s` at which some disturbance starts or ends (its state differs between that sample
    /// and the next), or nil when none is left.
    func nextEdge(after s: Int64) -> Int64? {
        var next: Int64?
        for e in entries {
            // One occurrence further than `candidates`: the next one may start after s.
            let near = candidates(e, near: s)
            for k in near.lowerBound...(near.upperBound + 1) where e.everyS != nil || k == 0 {
                let a = start(e, k)
                if a > s { next = min(next ?? a, a) }
                if a + e.length > s { next = min(next ?? a + e.length, a + e.length) }
            }
        }
        return next
    }
}

/// The disturbance state of the samples (from, to]: the effects acting on each phase, the same throughout (no edge
/// lies inside). Kept by ``ChipState`` so that a step looks the schedule up once, not once a model.
struct DisturbanceSpan {
    let from: Int64
    /// nil: no edge comes any more.
    let to: Int64?
    let effects: [[ScenarioDisturbance.Effect]]

    func contains(_ n: Int64) -> Bool { n > from && (to.map { n <= $0 } ?? true) }
}

extension Scenario.PhaseLoad {
    /// The load under the effects acting on it: dips and swells scale the voltage (and its harmonics, given in
    /// percent of it), an overcurrent sets the current (the last one listed wins), an interruption takes voltage
    /// and current to 0 whatever else acts.
    func disturbed(by effects: [ScenarioDisturbance.Effect]) -> Scenario.PhaseLoad {
        guard !effects.isEmpty else { return self }
        var load = self
        for effect in effects {
            switch effect {
            case .voltage(let factor): load.voltageV *= factor
            case .current(let amps): load.currentA = amps
            case .interruption: break
            }
        }
        if effects.contains(.interruption) { load.voltageV = 0; load.currentA = 0 }
        return load
    }
}
