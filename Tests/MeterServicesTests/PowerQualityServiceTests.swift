// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterServices
import MeterStore
import MeterReadings
import MeterTesting
import PowerQuality
import Testing

/// `[POWER_QUALITY]` in the whole service: events from the live readings into `pq_event`.
@Suite struct PowerQualityServiceTests {
    let epoch = 1_795_000_020.0 // a minute boundary

    func events(_ rig: ServiceRig) throws -> [PQEvent] {
        let store = try rig.store()
        defer { store.close() }
        return try store.read("events") { db throws(StoreError) in try PQTables.events(fromMs: 0, toMs: .max, in: db) }
    }

    @Test func aSwappedPhaseSequenceIsReportedOnceAndStoredForTheWholeRun() async throws {
        // L2's voltage 240° behind L1's and L3's 120°: L2 and L3 swapped (scenarios/wiring-swapped-l2-l3.json).
        var scenario = Scenario.balanced(voltage: 230, current: 10, angle: 0)
        scenario.phases[1].voltageAngleDeg = 240
        scenario.phases[2].voltageAngleDeg = 120
        let rig = ServiceRig(scenario: scenario, clock: VirtualClock(wall: epoch + 7.3))
        let log = LogRecorder()
        try await rig.makeApp(seconds: 180, logger: log.logger).run()
        let stored = try events(rig)
        #expect(stored.count == 1 && stored.first?.kind == .phaseSequence && stored.first?.phase == 0, "\(stored)")
        if let event = stored.first {
            // From the first reading to the last: the whole run, within a reading.
            #expect(event.durationMs >= 178_000 && event.durationMs <= 180_000, "\(event)")
        }
        let started = log.entries(.warning).filter { $0.contains("phase sequence reversed") }
        #expect(started.count == 1, "\(log.entries(.warning))")
    }

    @Test func aBalancedSupplyHasNoEventsAndTheFeatureCanBeOff() async throws {
        let rig = ServiceRig(clock: VirtualClock(wall: epoch + 7.3))
        try await rig.run(seconds: 120)
        #expect(try events(rig).isEmpty)

        var scenario = Scenario.balanced(voltage: 230, current: 10, angle: 0)
        scenario.phases[1].voltageAngleDeg = 240
        scenario.phases[2].voltageAngleDeg = 120
        let off = ServiceRig(scenario: scenario, clock: VirtualClock(wall: epoch + 7.3))
        try await off.makeApp(seconds: 120, configure: { $0.powerQuality.enabled = false }).run()
        #expect(try events(off).isEmpty)
    }
}

/// Minute rows carry THD-V and THD-I (mean and max of the one-second readings) and the neutral current.
@Suite struct PowerQualityRowTests {
    let epoch = 1_795_000_020.0 // a minute boundary

    @Test func rowsStoreTHDMeanAndMaxAndTheNeutralCurrentFromTheReadings() async throws {
        let scenario = try Scenario.load(path: Fixtures.scenario("harmonics-household.json"))
        let rig = ServiceRig(scenario: scenario, clock: VirtualClock(wall: epoch + 7.3))
        try await rig.run(seconds: 185)
        let store = try rig.store()
        defer { store.close() }
        let rows = try store.rows(from: 0, to: .max).filter { $0.flags.isEmpty }
        #expect(rows.count >= 2)
        // THD from the file's amplitudes (percent of the fundamental): √(Σ pₕ²), e.g. L1 voltage √(1² + 3.5² + 2² + 1²).
        for (p, phase) in scenario.phases.enumerated() {
            let expectedV = (phase.harmonics?.voltage ?? []).map { $0.percent * $0.percent }.reduce(0, +).squareRoot()
            let expectedI = (phase.harmonics?.current ?? []).map { $0.percent * $0.percent }.reduce(0, +).squareRoot()
            for row in rows {
                let q = row.quality[p]
                #expect(abs((q.vthd ?? .nan) - expectedV) <= 0.5, "L\(p + 1) THD-V \(String(describing: q.vthd)) vs \(expectedV)")
                #expect(abs((q.ithd ?? .nan) - expectedI) <= 0.5, "L\(p + 1) THD-I \(String(describing: q.ithd)) vs \(expectedI)")
                #expect((q.vthdMax ?? -1) >= (q.vthd ?? .infinity) && (q.ithdMax ?? -1) >= (q.ithd ?? .infinity))
            }
        }
        #expect(rows.allSatisfy { ($0.neutralCurrent ?? 0) > 1 }, "the 3rd harmonics add up in the neutral")
    }
}
