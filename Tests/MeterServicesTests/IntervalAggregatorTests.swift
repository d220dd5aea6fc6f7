// SPDX-License-Identifier: Apache-2.0

import MeterReadings
import MeterServices
import Testing

/// The aggregator on hand-made samples: a load of known power, so every expected Wh is arithmetic.
@Suite struct IntervalAggregatorTests {
    /// A steady load: `watts` on every phase (negative exports), counters starting at `base` Wh.
    struct Load {
        var watts: [Double] = [2300, 1150, -500]
        var vars: [Double] = [0, 1991.86, 0]
        var base = 0.0

        func reading(at monotonic: Double, wall: Double, reset: Bool = false) -> MeterSample {
            let hours = monotonic / 3600
            let energy = (0..<3).map { p in
                Reading.PhaseEnergy(wh: base + watts[p] * hours, varh: vars[p] * hours,
                                    vah: (watts[p] * watts[p] + vars[p] * vars[p]).squareRoot() * hours)
            }
            let phases = (0..<3).map { _ in Reading.PhaseValues(v: 230, i: 10, p: 0, q: 0, s: 0, pf: 1) }
            return MeterSample(monotonic: monotonic, wall: wall,
                               reading: Reading(time: wall, freq: 50, phases: phases, energy: energy, afterChipReset: reset))
        }
    }

    let epoch = 1_795_000_020.0 // a minute boundary

    @Test func fullMinutesCarryExactEnergyAndPower() {
        var aggregator = IntervalAggregator(length: 60)
        let load = Load()
        var rows: [MinuteRow] = []
        for t in 0...180 { rows += aggregator.add(load.reading(at: Double(t), wall: epoch + Double(t))).map(\.row) }
        #expect(rows.count == 3)
        for (index, row) in rows.enumerated() {
            #expect(row.time == Int64(epoch) + Int64(index * 60))
            #expect(row.flags.isEmpty)
            #expect(abs(row.durationSeconds - 60) < 1e-6)
            #expect(row.samples == 60)
            #expect(abs(row.energy[0].whImport - 2300.0 / 60) < 1e-6)
            #expect(abs(row.phases[0].p - 2300) < 1e-6)
            #expect(abs(row.phases[1].q - 1991.86) < 1e-6)
            #expect(abs(row.energy[2].whExport - 500.0 / 60) < 1e-6 && row.energy[2].whImport == 0)
            #expect(abs(row.phases[2].p + 500) < 1e-6 && row.phases[2].pf < 0)
            #expect(row.phases[0].v == 230)
        }
    }

    @Test func boundariesBetweenSamplesSplitEnergyByTime() {
        var aggregator = IntervalAggregator(length: 60)
        let load = Load()
        var rows: [MinuteRow] = []
        // Samples every 0.7 s from 10.3 s past a boundary: never on a boundary.
        var t = 10.3
        while t < 200 { rows += aggregator.add(load.reading(at: t, wall: epoch + t)).map(\.row); t += 0.7 }
        if let last = aggregator.finish() { rows.append(last.row) }
        #expect(rows.first?.flags.contains(.partial) == true)
        #expect(rows.last?.flags.contains(.partial) == true)
        // Every full row holds exactly 60 s of energy; all rows together hold all of it.
        for row in rows.dropFirst().dropLast() {
            #expect(abs(row.durationSeconds - 60) < 1e-6)
            #expect(abs(row.energy[0].whImport - 2300.0 / 60) < 1e-6)
        }
        let total = rows.reduce(0) { $0 + $1.energy[0].whImport }
        let first = 10.3, last = first + 0.7 * Double(rows.reduce(0) { $0 + $1.samples } - 1)
        #expect(abs(total - 2300 * (last - first) / 3600) < 1e-6)
        #expect(abs(rows.reduce(0) { $0 + $1.durationSeconds } - (last - first)) < 1e-6)
    }

    @Test(arguments: [3600.0, -3600.0])
    func aWallClockJumpCutsTheIntervalAndNoRowLiesAboutItsDuration(jump: Double) {
        var aggregator = IntervalAggregator(length: 60)
        let load = Load()
        var rows: [MinuteRow] = []
        for t in 0...300 {
            let wall = epoch + Double(t) + (t >= 90 ? jump : 0)
            rows += aggregator.add(load.reading(at: Double(t), wall: wall)).map(\.row)
        }
        let jumped = rows.filter { $0.flags.contains(.clockJump) }
        #expect(jumped.count == 2) // the interval cut at the jump, and the partial one after it
        #expect(Set(rows.map(\.time)).count == rows.count) // no duplicate label from one run
        for row in rows {
            #expect(row.durationSeconds <= 60 + 1e-6)
            // Whatever the label, power × duration is the energy in the row.
            #expect(abs(row.phases[0].p * row.durationSeconds / 3600 - row.energy[0].whImport) < 1e-6)
        }
        // Energy is conserved across the jump.
        #expect(abs(rows.reduce(0) { $0 + $1.energy[0].whImport } - 2300 * Double(rows.reduce(0) { $0 + $1.durationSeconds }) / 3600) < 1e-6)
        #expect(rows.first(where: { $0.flags.contains(.clockJump) })!.time == Int64(epoch) + 60)
        #expect(rows.last!.time >= Int64(epoch + jump))
    }

    @Test func aChipResetLeavesTheUnknownEnergyOut() {
        var aggregator = IntervalAggregator(length: 60)
        var load = Load()
        var rows: [MinuteRow] = []
        for t in 0...59 { rows += aggregator.add(load.reading(at: Double(t), wall: epoch + Double(t))).map(\.row) }
        // Counters restart from 0 at t = 60.5 after a reset.
        load.base = -2300 * 60.5 / 3600
        rows += aggregator.add(load.reading(at: 61, wall: epoch + 61, reset: true)).map(\.row)
        for t in 62...125 { rows += aggregator.add(load.reading(at: Double(t), wall: epoch + Double(t))).map(\.row) }
        #expect(rows.count == 2)
        #expect(rows[0].flags.contains(.chipReset) || rows[1].flags.contains(.chipReset))
        // The 59 s → 61 s step is unknown: the rows hold less than 2 minutes, never more.
        let total = rows.reduce(0) { $0 + $1.energy[0].whImport }
        #expect(total <= 2300 * 120 / 3600 + 1e-9)
        #expect(abs(total - 2300 * 118 / 3600) < 1e-6)
    }

    @Test func minutesWithoutAnySampleAreFlagged() {
        var aggregator = IntervalAggregator(length: 60)
        let load = Load()
        var rows: [MinuteRow] = []
        for t in [0.0, 1, 2, 200, 201] { rows += aggregator.add(load.reading(at: t, wall: epoch + t)).map(\.row) }
        #expect(rows.count == 3)
        #expect(rows[1].samples == 0 && rows[1].flags.contains(.missedSamples))
        #expect(rows[1].phases[0].v.isNaN) // no voltage was measured: none is claimed
        #expect(abs(rows[1].energy[0].whImport - 2300.0 / 60) < 1e-6) // the chip counted it all the same
    }
}

extension IntervalAggregatorTests {
    @Test func aRowMissingSnapshotsIsFlaggedButKeepsItsEnergy() {
        var aggregator = IntervalAggregator(length: 60, samplePeriod: 1)
        let load = Load()
        var rows: [MinuteRow] = []
        // Minute 0 loses 5 ticks (a stalled sampler), minute 1 loses one (within the allowance).
        for t in (0...125).filter({ !(10...14).contains($0) && $0 != 70 }) {
            rows += aggregator.add(load.reading(at: Double(t), wall: epoch + Double(t))).map(\.row)
        }
        #expect(rows.count == 2)
        #expect(rows[0].samples == 55 && rows[0].flags == .missedSamples)
        #expect(rows[1].samples == 59 && rows[1].flags.isEmpty)
        #expect(abs(rows[0].energy[0].whImport - 2300.0 / 60) < 1e-6)
    }
}
