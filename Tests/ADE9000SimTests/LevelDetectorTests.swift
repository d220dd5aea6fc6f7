// SPDX-License-Identifier: Apache-2.0

@testable import ADE9000Sim
import Testing

/// The dip and swell detector's shortcut: `n` equal half cycles at once must leave the detector, and STATUS1, as `n`
/// single half cycles do; the simulator relies on it to run days at thousands of times real time. And the single
/// half cycle against TRM p.30 on a short trace.
@Suite struct LevelDetectorTests {
    @Test func aDipEntersAfterDipCycHalfCyclesBelowAndLeavesAfterDipCycAbove() {
        let settings = LevelDetector.Settings(threshold: 100, halfCycles: 3, latchAtEntryAndExit: true)
        var detector = LevelDetector(kind: .dip, register: 0x7F_FFFF)
        // Two below, one above: the count starts again.
        var latches = [90, 80, 120].map { detector.halfCycle(level: $0, settings) }
        #expect(latches == [false, false, false])
        #expect(!detector.isActive)
        // Three below: the third enters, DIPx = the lowest of the three.
        latches = [95, 70, 99].map { detector.halfCycle(level: $0, settings) }
        #expect(latches == [false, false, true])
        #expect(detector.isActive && detector.register == 70)
        // Inside: the lowest follows; two above and one below restart the exit count; three above leave (latch).
        latches = [60, 120, 120, 90, 110, 110].map { detector.halfCycle(level: $0, settings) }
        #expect(latches == Array(repeating: false, count: 6))
        #expect(detector.isActive && detector.register == 60)
        let exitLatch = detector.halfCycle(level: 110, settings)
        #expect(exitLatch)
        #expect(!detector.isActive && detector.register == 60, "DIPx kept after the exit")
    }

    @Test func withRepeatedInterruptsASwellLatchesEverySwellCycHalfCycles() {
        let settings = LevelDetector.Settings(threshold: 100, halfCycles: 2, latchAtEntryAndExit: false)
        var detector = LevelDetector(kind: .swell, register: 0)
        let latches = [110, 120, 110, 110, 115, 110, 90, 90, 90].map { detector.halfCycle(level: $0, settings) }
        // Entry on the 2nd, then every 2nd half cycle inside (4th, 6th), the exit on the 8th is silent.
        #expect(latches == [false, true, false, true, false, true, false, false, false])
        #expect(!detector.isActive && detector.register == 120)
    }

    @Test(arguments: 0..<40)
    func manyEqualHalfCyclesAtOnceAreThoseHalfCyclesOneByOne(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for kind in [LevelDetector.Kind.dip, .swell] {
            let settings = LevelDetector.Settings(threshold: 100, halfCycles: Int64.random(in: 1...6, using: &random),
                                                  latchAtEntryAndExit: Bool.random(using: &random))
            var bulk = LevelDetector(kind: kind, register: kind == .dip ? 0x7F_FFFF : 0), single = bulk
            for _ in 0..<30 {
                let level = UInt32.random(in: 80...120, using: &random), n = Int64.random(in: 1...20, using: &random)
                let once = bulk.halfCycles(level: level, count: n, settings)
                var any = false
                for _ in 0..<n { any = single.halfCycle(level: level, settings) || any }
                #expect(once == any && bulk == single, "\(kind) \(settings) level \(level) × \(n)")
            }
        }
    }
}
