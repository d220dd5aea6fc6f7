// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterServices
import MeterStore
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
