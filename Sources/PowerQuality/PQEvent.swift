// SPDX-License-Identifier: Apache-2.0

/// What a power-quality event is, in the words of EN 50160 and IEC 61000-4-30.
public enum PQEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The half-cycle RMS voltage below the dip threshold (90 % of nominal by default), above 5 %.
    case dip
    /// The half-cycle RMS voltage above the swell threshold (110 % of nominal by default).
    case swell
    /// The voltage below 5 % of nominal, or no zero crossing within ZXTOUT: the phase is lost.
    case interruption
    /// The half-cycle RMS current above the overcurrent level (`[POWER_QUALITY] overcurrent_a`).
    case overcurrent
    /// The voltages' order is not L1 → L2 → L3 (STATUS1.SEQERR): two phases swapped in the wiring.
    case phaseSequence = "phase-sequence"
    /// The line frequency outside `frequency_tolerance_pct` of nominal.
    case frequencyDeviation = "frequency-deviation"
}

/// One event as stored in `pq_event`: from its start to its end (Unix milliseconds, UTC), on one phase (1…3; 0 for
/// what concerns all phases: the sequence, the frequency), with its extreme value: the lowest voltage of a dip or an
/// interruption and the highest of a swell (V), the highest current (A), the frequency furthest from nominal (Hz);
/// none for a phase sequence.
public struct PQEvent: Sendable, Hashable, Codable {
    public var startMs: Int64
    public var endMs: Int64
    public var phase: Int
    public var kind: PQEventKind
    public var extreme: Double?

    public init(startMs: Int64, endMs: Int64, phase: Int, kind: PQEventKind, extreme: Double?) {
        precondition(endMs >= startMs, "an event ends after it starts")
        precondition((0...3).contains(phase), "phase 0 (all) or 1…3")
        self.startMs = startMs; self.endMs = endMs; self.phase = phase; self.kind = kind; self.extreme = extreme
    }

    /// Milliseconds from start to end.
    public var durationMs: Int64 { endMs - startMs }

    enum CodingKeys: String, CodingKey {
        case startMs = "start_ms", endMs = "end_ms", phase, kind, extreme, durationMs = "duration_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(startMs: try c.decode(Int64.self, forKey: .startMs), endMs: try c.decode(Int64.self, forKey: .endMs),
                  phase: try c.decode(Int.self, forKey: .phase), kind: try c.decode(PQEventKind.self, forKey: .kind),
                  extreme: try c.decodeIfPresent(Double.self, forKey: .extreme))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(startMs, forKey: .startMs)
        try c.encode(endMs, forKey: .endMs)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(phase, forKey: .phase)
        try c.encode(kind, forKey: .kind)
        try c.encode(extreme, forKey: .extreme)
    }
}
