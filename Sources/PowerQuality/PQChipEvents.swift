// SPDX-License-Identifier: Apache-2.0

/// One poll of the chip's half-cycle engine in SI units: what latched since the last poll, what is going on now, and
/// the extremes the chip held (nil when they were not read: nothing was going on).
public struct PQChipObservation: Sendable, Hashable {
    /// When the poll read the chip: monotonic seconds (durations) and the same instant in Unix ms (timestamps).
    public var monotonic: Double
    public var wallMs: Int64
    /// Per phase (L1…L3): the dip or swell detector changed mode since the last poll (STATUS1.DIPx / SWELLx).
    public var dipLatched: [Bool], swellLatched: [Bool]
    /// Per phase: no voltage zero crossing for ZXTOUT (STATUS1.ZXTOVx): the phase was lost.
    public var zeroCrossingLost: [Bool]
    /// Per phase: in a dip / a swell now (EVENT_STATUS).
    public var inDip: [Bool], inSwell: [Bool]
    /// The lowest half-cycle RMS voltage of the phase's latest dip (DIPx), the highest of its latest swell (SWELLx), V.
    public var dipMinimum: [Double]?, swellMaximum: [Double]?
    /// Per phase: the current went over the overcurrent level since the last poll (STATUS1.OI with OISTATUS).
    public var overcurrentLatched: [Bool]
    /// The latest half-cycle RMS current above the level (OIx), and the half-cycle RMS current now (xIRMSONE), A.
    public var overcurrentValue: [Double]?, halfCycleCurrent: [Double]?

    public init(monotonic: Double, wallMs: Int64, dipLatched: [Bool] = [false, false, false], swellLatched: [Bool] = [false, false, false],
                zeroCrossingLost: [Bool] = [false, false, false], inDip: [Bool] = [false, false, false],
                inSwell: [Bool] = [false, false, false], dipMinimum: [Double]? = nil, swellMaximum: [Double]? = nil,
                overcurrentLatched: [Bool] = [false, false, false], overcurrentValue: [Double]? = nil, halfCycleCurrent: [Double]? = nil) {
        self.monotonic = monotonic; self.wallMs = wallMs; self.dipLatched = dipLatched; self.swellLatched = swellLatched
        self.zeroCrossingLost = zeroCrossingLost; self.inDip = inDip; self.inSwell = inSwell
        self.dipMinimum = dipMinimum; self.swellMaximum = swellMaximum; self.overcurrentLatched = overcurrentLatched
        self.overcurrentValue = overcurrentValue; self.halfCycleCurrent = halfCycleCurrent
    }
}

/// Turns polls of the chip's half-cycle engine into dips, swells, interruptions and overcurrents.
///
/// The chip decides (TRM p.30): a dip begins when the half-cycle RMS has stayed below DIP_LVL for DIP_CYC half cycles
/// and ends when it has stayed above for as many; EVENT_STATUS is the state, STATUS1 latches each change. A poll sees
/// an edge somewhere since the previous poll and takes the middle of that gap, so with polls at most a quarter of a
/// line cycle apart each edge is within an eighth of a cycle: the duration, exit − entry, is then rounded to whole half
/// cycles (the chip's own resolution), which gives the chip's count exactly: the duration as IEC 61000-4-30 counts it,
/// in half-cycle RMS values past the threshold. The start is placed on the line (``place(_:_:)``): the first window past
/// the threshold ended DIP_CYC − 1 half cycles before the entry, and how much of it the step must fill follows from the
/// depth. A latch without the state means the event began and ended between two polls (the service stalled): it is
/// stored with the gap as its bound, never dropped.
///
/// A dip whose lowest half-cycle RMS is below the interruption threshold, or during which the phase lost its zero
/// crossings, is an interruption (EN 50160 §3.22). An overcurrent begins at its latch and ends at the first poll whose
/// half-cycle RMS current is back at or below the level.
public struct PQChipEventDecoder: Sendable {
    public let nominalVoltage: Double
    public let interruptionPercent: Double
    public let dipThresholdPercent: Double
    public let swellThresholdPercent: Double
    public let dipHalfCycles: Int
    public let swellHalfCycles: Int
    public let overcurrentAmperes: Double?
    /// Seconds per half cycle of the nominal line frequency.
    public let halfCycle: Double

    struct Open: Sendable {
        var entry: Double
        /// When the first half-cycle window past the threshold ended (monotonic s), and the wall clock's offset then (ms).
        var firstWindowEnd: Double
        var wallOffsetMs: Double
        var startMs: Int64
        var extreme: Double?
        var lostZeroCrossing = false
    }

    private var dips: [Open?] = [nil, nil, nil]
    private var swells: [Open?] = [nil, nil, nil]
    private var overcurrents: [Open?] = [nil, nil, nil]
    private var last: (monotonic: Double, wallMs: Int64)?

    public init(nominalVoltage: Double, interruptionPercent: Double, dipThresholdPercent: Double = 90, swellThresholdPercent: Double = 110,
                dipHalfCycles: Int, swellHalfCycles: Int, overcurrentAmperes: Double?, lineFrequency: Double) {
        self.nominalVoltage = nominalVoltage; self.interruptionPercent = interruptionPercent
        self.dipThresholdPercent = dipThresholdPercent; self.swellThresholdPercent = swellThresholdPercent
        self.dipHalfCycles = dipHalfCycles; self.swellHalfCycles = swellHalfCycles
        self.overcurrentAmperes = overcurrentAmperes; halfCycle = 0.5 / lineFrequency
    }

    /// An overcurrent is open: the next polls must read the half-cycle currents.
    public var watchingCurrents: Bool { overcurrents.contains { $0 != nil } }

    /// The events going on now.
    public var ongoing: [PQEvent] {
        var events: [PQEvent] = []
        for p in 0..<3 {
            if let d = dips[p] { events.append(PQEvent(startMs: d.startMs, endMs: d.startMs, phase: p + 1, kind: dipKind(d), extreme: d.extreme)) }
            if let s = swells[p] { events.append(PQEvent(startMs: s.startMs, endMs: s.startMs, phase: p + 1, kind: .swell, extreme: s.extreme)) }
            if let o = overcurrents[p] { events.append(PQEvent(startMs: o.startMs, endMs: o.startMs, phase: p + 1, kind: .overcurrent, extreme: o.extreme)) }
        }
        return events
    }

    /// - Returns: the events that started in this poll (for the log) and those it ended (complete, to be stored).
    public mutating func observe(_ o: PQChipObservation) -> (started: [PQEvent], finished: [PQEvent]) {
        defer { last = (o.monotonic, o.wallMs) }
        var started: [PQEvent] = [], finished: [PQEvent] = []
        // The first poll: latches from before the service started are stale; what is going on now starts now.
        let previous = last?.monotonic
        let edge = previous.map { ($0 + o.monotonic) / 2 } ?? o.monotonic
        func wallMs(_ t: Double) -> Int64 { o.wallMs + Int64(((t - o.monotonic) * 1000).rounded()) }

        func open(at entry: Double, waited halfCycles: Int, kind: PQEventKind, extreme: Double?) -> Open {
            let firstWindowEnd = entry - Double(max(0, halfCycles - 1)) * halfCycle
            var event = Open(entry: entry, firstWindowEnd: firstWindowEnd, wallOffsetMs: Double(o.wallMs) - o.monotonic * 1000,
                             startMs: 0, extreme: extreme)
            place(&event, kind)
            return event
        }
        func close(_ event: Open, at exit: Double, phase: Int, kind: PQEventKind) -> PQEvent {
            let halfCycles = max(1, ((exit - event.entry) / halfCycle).rounded())
            let ms = Int64((halfCycles * halfCycle * 1000).rounded())
            return PQEvent(startMs: event.startMs, endMs: event.startMs + ms, phase: phase, kind: kind, extreme: event.extreme)
        }

        /// One level detector of one phase (dips or swells): its open event in `slot`, what this poll says of it.
        func follow(_ slot: inout Open?, phase p: Int, kind: PQEventKind, live: Bool, latched: Bool, value: Double?,
                    further: (Double, Double) -> Double, waited: Int, lost: Bool) {
            func kindOf(_ event: Open) -> PQEventKind { kind == .dip ? dipKind(event) : kind }
            if var event = slot {
                if let value { event.extreme = further(event.extreme ?? value, value); place(&event, kind) }
                event.lostZeroCrossing = event.lostZeroCrossing || lost
                guard !live || latched else { slot = event; return }
                // Ended; a latch with the state still on means it ended and began again between the polls.
                finished.append(close(event, at: edge, phase: p + 1, kind: kindOf(event)))
                slot = nil
                guard live else { return }
                let again = open(at: edge, waited: waited, kind: kind, extreme: value)
                slot = again
                started.append(PQEvent(startMs: again.startMs, endMs: again.startMs, phase: p + 1, kind: kind, extreme: value))
            } else if live {
                var event = open(at: edge, waited: waited, kind: kind, extreme: value)
                event.lostZeroCrossing = lost
                slot = event
                started.append(PQEvent(startMs: event.startMs, endMs: event.startMs, phase: p + 1, kind: kindOf(event), extreme: value))
            } else if latched, let previous {
                var event = open(at: previous, waited: waited, kind: kind, extreme: value)
                event.lostZeroCrossing = lost
                finished.append(close(event, at: o.monotonic, phase: p + 1, kind: kindOf(event)))
            }
        }

        for p in 0..<3 {
            // Dips and interruptions.
            var dip = dips[p]
            let wasOpen = dip != nil
            follow(&dip, phase: p, kind: .dip, live: o.inDip[p], latched: o.dipLatched[p], value: o.dipMinimum?[p], further: min,
                   waited: dipHalfCycles, lost: o.zeroCrossingLost[p])
            dips[p] = dip
            if !wasOpen, dip == nil, !o.dipLatched[p], o.zeroCrossingLost[p], previous != nil {
                // A lost phase the dip detector did not see (DIP_LVL not set): still an interruption.
                let lost = open(at: edge, waited: 1, kind: .interruption, extreme: nil)
                finished.append(close(lost, at: edge, phase: p + 1, kind: .interruption))
            }

            // Swells.
            var swell = swells[p]
            follow(&swell, phase: p, kind: .swell, live: o.inSwell[p], latched: o.swellLatched[p], value: o.swellMaximum?[p], further: max,
                   waited: swellHalfCycles, lost: false)
            swells[p] = swell

            // Overcurrent: the latch starts it, the half-cycle current back under the level ends it.
            guard let level = overcurrentAmperes else { continue }
            let now = o.halfCycleCurrent?[p], held = o.overcurrentValue?[p]
            let highestCurrent = [now.flatMap { $0 > level ? $0 : nil }, held.flatMap { $0 > level ? $0 : nil }].compactMap { $0 }.max()
            if var over = overcurrents[p] {
                if let highestCurrent { over.extreme = max(over.extreme ?? highestCurrent, highestCurrent); place(&over, .overcurrent) }
                if let now, now <= level {
                    finished.append(close(over, at: edge, phase: p + 1, kind: .overcurrent))
                    overcurrents[p] = nil
                } else {
                    overcurrents[p] = over
                }
            } else if o.overcurrentLatched[p], previous != nil {
                let over = open(at: edge, waited: 1, kind: .overcurrent, extreme: highestCurrent)
                if let now, now <= level {
                    // Over and back between two polls.
                    finished.append(close(over, at: o.monotonic, phase: p + 1, kind: .overcurrent))
                } else {
                    overcurrents[p] = over
                    started.append(PQEvent(startMs: over.startMs, endMs: over.startMs, phase: p + 1, kind: .overcurrent, extreme: highestCurrent))
                }
            }
        }
        return (started, finished)
    }

    /// Ends every open event at the last poll: the service stops.
    public mutating func close() -> [PQEvent] {
        guard let last else { return [] }
        var events: [PQEvent] = []
        for p in 0..<3 {
            for (event, kind) in [(dips[p], dips[p].map(dipKind)), (swells[p], PQEventKind.swell), (overcurrents[p], PQEventKind.overcurrent)] {
                guard let event, let kind else { continue }
                let end = max(event.startMs, last.wallMs)
                events.append(PQEvent(startMs: event.startMs, endMs: end, phase: p + 1, kind: kind, extreme: event.extreme))
            }
        }
        dips = [nil, nil, nil]; swells = [nil, nil, nil]; overcurrents = [nil, nil, nil]
        return events
    }

    /// Places the start of an event on the line: the first half-cycle RMS past the threshold is over a one-cycle window
    /// that ended at `firstWindowEnd`, and such a window crosses once the disturbed share x of it passes
    /// x* = (1 − T²)/(1 − L²) for a step from nominal to L with threshold T (dips; (T² − 1)/(L² − 1) for swells, (T/L)² for
    /// an overcurrent from a small current). Windows end every half cycle, so x lies in [x*, x* + ½): the step was
    /// (2x* + ½) half cycles before the window's end, within a quarter cycle. With no extreme known, x* = ½.
    private func place(_ event: inout Open, _ kind: PQEventKind) {
        let share: Double
        switch (kind, event.extreme) {
        case (.dip, let lowest?), (.interruption, let lowest?):
            let t = dipThresholdPercent / 100, l = min(lowest / nominalVoltage, t)
            share = (1 - t * t) / max(1e-9, 1 - l * l)
        case (.swell, let highest?):
            let t = swellThresholdPercent / 100, l = max(highest / nominalVoltage, t)
            share = (t * t - 1) / max(1e-9, l * l - 1)
        case (.overcurrent, let highest?):
            share = overcurrentAmperes.map { level in highest > 0 ? (level / max(level, highest)) * (level / max(level, highest)) : 0.5 } ?? 0.5
        default:
            share = 0.5
        }
        let lead = (2 * min(1, max(0, share)) + 0.5) * halfCycle
        event.startMs = Int64(((event.firstWindowEnd - lead) * 1000 + event.wallOffsetMs).rounded())
    }

    private func dipKind(_ dip: Open) -> PQEventKind {
        dip.lostZeroCrossing || (dip.extreme.map { $0 < nominalVoltage * interruptionPercent / 100 } ?? false) ? .interruption : .dip
    }
}
