// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import PowerQuality

/// The chip's detectors as a poll sees them, built from when the chip changed mode (TRM p.30), not from the decoder.
@Suite("events from the chip's half-cycle engine")
struct PQChipEventDecoderTests {
    /// Wall ms = monotonic s × 1000 + this.
    let wallOffsetMs: Int64 = 1_795_000_000_000

    func decoder(overcurrent: Double? = nil) -> PQChipEventDecoder {
        PQChipEventDecoder(nominalVoltage: 230, interruptionPercent: 5, dipHalfCycles: 2, swellHalfCycles: 2,
                           overcurrentAmperes: overcurrent, lineFrequency: 50)
    }

    /// A chip whose phase-2 dip detector entered at `entry` and left at `exit` (monotonic s), lowest `minimum` V.
    struct DipChip {
        var entry: Double, exit: Double, minimum: Double, phase = 1
        var latchedSince: Double = -1

        /// What a poll at `t` reads, the previous poll having been at `previous` (its latches were cleared then).
        func observe(at t: Double, previous: Double, wallOffsetMs: Int64, swell: Bool = false) -> PQChipObservation {
            let live = t >= entry && t < exit
            let latched = (entry > previous && entry <= t) || (exit > previous && exit <= t)
            var o = PQChipObservation(monotonic: t, wallMs: Int64((t * 1000).rounded()) + wallOffsetMs)
            if swell { o.inSwell[phase] = live; o.swellLatched[phase] = latched } else { o.inDip[phase] = live; o.dipLatched[phase] = latched }
            if live || latched {
                var values: [Double] = [230, 230, 230]
                values[phase] = minimum
                if swell { o.swellMaximum = values } else { o.dipMinimum = values }
            }
            return o
        }
    }

    func run(_ chip: DipChip, polls: [Double], swell: Bool = false, decoder d: PQChipEventDecoder? = nil) -> (started: [PQEvent], finished: [PQEvent]) {
        var d = d ?? decoder()
        var started: [PQEvent] = [], finished: [PQEvent] = []
        var previous = polls[0]
        for t in polls {
            let result = d.observe(chip.observe(at: t, previous: previous, wallOffsetMs: wallOffsetMs, swell: swell))
            started += result.started; finished += result.finished
            previous = t
        }
        return (started, finished)
    }

    @Test("a dip the chip held for 21 half cycles is one event of 210 ms on L2, its start placed on the line from its depth")
    func dipTimedToTheHalfCycle() {
        // The chip enters after the 2nd half cycle below (DIP_CYC 2) at 10.0125 s and leaves 21 half cycles later.
        let chip = DipChip(entry: 10.0125, exit: 10.0125 + 0.210, minimum: 161.0)
        let polls = stride(from: 9.9, through: 10.5, by: 0.005).map { $0 }
        let (started, finished) = run(chip, polls: polls)
        #expect(started.count == 1 && started.first?.phase == 2 && started.first?.kind == .dip)
        #expect(finished.count == 1, "\(finished)")
        let event = finished[0]
        #expect(event.kind == .dip && event.phase == 2 && event.extreme == 161.0)
        #expect(event.durationMs == 210)
        // The first window below 90 % ended one half cycle before the entry (DIP_CYC 2), at 10.0025 s; a step to 70 % fills
        // x* = (1 − 0.9²)/(1 − 0.7²) = 0.3725 of a window before it counts, so the step was (2x* + ½) half cycles earlier:
        // 10.0025 − 0.01245 = 9.99005 s, ± the 2.5 ms of the poll grid.
        #expect(abs(event.startMs - (wallOffsetMs + 9_990)) <= 3, "\(event.startMs - wallOffsetMs)")
    }

    @Test("polls at irregular gaps of up to a quarter cycle still give the chip's count of half cycles exactly")
    func jitteredPollsRecoverTheHalfCycleCount() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let halfCycles = Int.random(in: 2...400, using: &random)
            let entry = 20 + Double(Int.random(in: 0...1000, using: &random)) * 0.01 + Double.random(in: 0..<0.01, using: &random)
            let chip = DipChip(entry: entry, exit: entry + Double(halfCycles) * 0.01, minimum: 100)
            var polls: [Double] = [19.9]
            while polls.last! < chip.exit + 0.1 { polls.append(polls.last! + Double.random(in: 0.0005...0.005, using: &random)) }
            let (_, finished) = run(chip, polls: polls)
            #expect(finished.count == 1)
            #expect(finished.first?.durationMs == Int64(halfCycles) * 10, "\(halfCycles) half cycles, got \(finished)")
        }
    }

    @Test("a dip to below 5 % of nominal, or one with a zero-crossing timeout, is an interruption, not a dip")
    func interruption() {
        let (_, finished) = run(DipChip(entry: 5.0012, exit: 6.0012, minimum: 0.4, phase: 2), polls: stride(from: 4.9, through: 6.2, by: 0.005).map { $0 })
        #expect(finished.map(\.kind) == [.interruption] && finished.first?.phase == 3 && finished.first?.durationMs == 1000)

        // 60 V (26 %) is a dip, unless the phase lost its zero crossings meanwhile.
        var d = decoder()
        let chip = DipChip(entry: 5.0012, exit: 5.5012, minimum: 60, phase: 2)
        var kinds: [PQEventKind] = []
        var previous = 4.9
        for t in stride(from: 4.9, through: 5.7, by: 0.005) {
            var o = chip.observe(at: t, previous: previous, wallOffsetMs: wallOffsetMs)
            if abs(t - 5.2) < 0.001 { o.zeroCrossingLost[2] = true }
            kinds += d.observe(o).finished.map(\.kind)
            previous = t
        }
        #expect(kinds == [.interruption])
    }

    @Test("a swell is timed and its highest half-cycle RMS kept")
    func swell() {
        let (_, finished) = run(DipChip(entry: 3.0031, exit: 3.0631, minimum: 264.5, phase: 0), polls: stride(from: 2.9, through: 3.2, by: 0.005).map { $0 }, swell: true)
        #expect(finished == [PQEvent(startMs: finished.first?.startMs ?? 0, endMs: (finished.first?.startMs ?? 0) + 60, phase: 1, kind: .swell, extreme: 264.5)])
    }

    @Test("a dip that began and ended between two polls is stored, bounded by the gap, never dropped")
    func betweenTwoPolls() {
        let (started, finished) = run(DipChip(entry: 7.31, exit: 7.35, minimum: 150), polls: [7.0, 7.2, 7.4, 7.6])
        #expect(started.isEmpty)
        #expect(finished.count == 1 && finished.first?.kind == .dip && finished.first?.extreme == 150)
        if let event = finished.first {
            // From the poll before (7.2 s, less the half cycles the chip waits and a window's lead) to the poll that saw it.
            #expect(event.startMs >= wallOffsetMs + 7_165 && event.endMs <= wallOffsetMs + 7_400, "\(event)")
        }
    }

    @Test("latches from before the first poll are stale; a dip going on at the first poll starts there")
    func firstPoll() {
        var d = decoder()
        var o = PQChipObservation(monotonic: 1, wallMs: wallOffsetMs + 1000)
        o.dipLatched = [true, true, true]
        o.zeroCrossingLost = [true, false, false]
        #expect(d.observe(o) == ([], []))
        var live = PQChipObservation(monotonic: 1.005, wallMs: wallOffsetMs + 1005)
        live.inDip[0] = true
        live.dipMinimum = [180, 230, 230]
        var later = PQChipObservation(monotonic: 1.010, wallMs: wallOffsetMs + 1010)
        later.inDip[0] = true
        var d2 = decoder()
        // At the first poll, less the half cycle the chip waited (DIP_CYC 2) and the lead of a window to 180 V
        // (x* = 0.19 / (1 − (180/230)²) = 0.491: 1.48 half cycles): 1.005 − 0.010 − 0.0148 = 0.9802 s.
        #expect(d2.observe(live).started.first?.startMs == wallOffsetMs + 980)
        _ = d2.observe(later)
        #expect(d2.close().map(\.kind) == [.dip])
    }

    @Test("an overcurrent starts at its latch, keeps the highest current and ends when the half-cycle RMS is back under the level")
    func overcurrent() {
        var d = decoder(overcurrent: 32)
        var events: [PQEvent] = []
        func poll(_ t: Double, latched: Bool = false, now: Double, held: Double) {
            var o = PQChipObservation(monotonic: t, wallMs: Int64((t * 1000).rounded()) + wallOffsetMs)
            o.overcurrentLatched[0] = latched
            o.halfCycleCurrent = [now, 5, 5]
            o.overcurrentValue = [held, 0, 0]
            events += d.observe(o).finished
        }
        poll(1.000, now: 5, held: 0)
        poll(1.005, latched: true, now: 38, held: 38)
        #expect(d.watchingCurrents)
        poll(1.010, now: 40.2, held: 40.2)
        poll(1.100, now: 39, held: 39)
        poll(1.105, now: 6, held: 39)
        #expect(!d.watchingCurrents)
        #expect(events.count == 1 && events.first?.kind == .overcurrent && events.first?.phase == 1 && events.first?.extreme == 40.2)
        #expect(events.first?.durationMs == 100)
        // Off (no overcurrent_a): a latch means nothing.
        var off = decoder()
        var o = PQChipObservation(monotonic: 2, wallMs: 2000)
        o.overcurrentLatched = [true, true, true]
        _ = off.observe(PQChipObservation(monotonic: 1.995, wallMs: 1995))
        #expect(off.observe(o) == ([], []))
    }
}
