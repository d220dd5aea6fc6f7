// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import PowerQuality

@Suite("events from one-second readings")
struct PQEventTrackerTests {
    func tracker() -> PQEventTracker {
        PQEventTracker(nominalVoltage: 230, nominalFrequency: 50, interruptionPercent: 5, frequencyTolerancePercent: 1)
    }

    func reading(_ second: Int64, _ v: [Double] = [230, 230, 230], f: Double = 50, swapped: Bool? = false) -> PQObservation {
        PQObservation(timeMs: second * 1000, voltage: v, frequency: f, sequenceSwapped: swapped)
    }

    @Test("an interruption of L3 starts at the first reading below 5 % and ends at the first above, with its lowest voltage")
    func interruption() {
        var t = tracker()
        #expect(t.observe(reading(0)) == ([], []))
        let (started, _) = t.observe(reading(1, [230, 229, 8]))
        #expect(started == [PQEvent(startMs: 1000, endMs: 1000, phase: 3, kind: .interruption, extreme: 8)])
        _ = t.observe(reading(2, [230, 229, 0.4]))
        _ = t.observe(reading(3, [230, 229, 11.4]))  // 4.96 %: still interrupted
        let (_, finished) = t.observe(reading(4, [230, 229, 11.6]))  // 5.04 %: back (a dip, for the chip's engine)
        #expect(finished == [PQEvent(startMs: 1000, endMs: 4000, phase: 3, kind: .interruption, extreme: 0.4)])
        #expect(t.ongoing.isEmpty)
    }

    @Test("a frequency deviation keeps the value furthest from nominal, on either side")
    func frequency() {
        var t = tracker()
        _ = t.observe(reading(0, f: 50.4))  // 0.8 %: inside ±1 %
        #expect(t.observe(reading(1, f: 50.6)).started.map(\.kind) == [.frequencyDeviation])
        _ = t.observe(reading(2, f: 49.2))
        _ = t.observe(reading(3, f: 50.7))
        let (_, finished) = t.observe(reading(4, f: 50.1))
        #expect(finished == [PQEvent(startMs: 1000, endMs: 4000, phase: 0, kind: .frequencyDeviation, extreme: 49.2)])
    }

    @Test("a swapped sequence is one event however long; unknown angles and a lost phase leave it as it is")
    func sequence() {
        var t = tracker()
        #expect(t.observe(reading(0, swapped: true)).started.count == 1)
        for s in 1...100 { #expect(t.observe(reading(Int64(s), swapped: true)) == ([], [])) }
        #expect(t.observe(reading(101, swapped: nil)) == ([], []))
        #expect(t.observe(reading(102, [230, 0, 230], swapped: false)).finished.isEmpty, "L2 lost: no verdict on the sequence")
        let back = t.observe(reading(103, swapped: false)).finished
        #expect(back.map(\.kind) == [.interruption, .phaseSequence], "\(back)")
        #expect(back.last == PQEvent(startMs: 0, endMs: 103_000, phase: 0, kind: .phaseSequence, extreme: nil))
        #expect(PQObservation.swapped(l2Angle: 120.2, l3Angle: 239.9) == false)
        #expect(PQObservation.swapped(l2Angle: 240, l3Angle: 120) == true)
        #expect(PQObservation.swapped(l2Angle: 0, l3Angle: 0) == nil)
    }

    @Test("a reading stamped before the event's start (the clock stepped back) ends it at its start, never before")
    func clockStepsBack() {
        var t = tracker()
        _ = t.observe(reading(100, f: 51))
        #expect(t.observe(reading(40, f: 50)).finished == [PQEvent(startMs: 100_000, endMs: 100_000, phase: 0, kind: .frequencyDeviation, extreme: 51)])
    }

    @Test("at the stop, open events end at the last reading")
    func close() {
        var t = tracker()
        _ = t.observe(reading(10, [0, 230, 230], swapped: nil))
        _ = t.observe(reading(11, [0, 230, 230], swapped: nil))
        #expect(t.close() == [PQEvent(startMs: 10_000, endMs: 11_000, phase: 1, kind: .interruption, extreme: 0)])
        #expect(t.close().isEmpty)
    }
}
