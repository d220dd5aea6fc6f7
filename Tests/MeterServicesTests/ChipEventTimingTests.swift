// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterApp
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import PowerQuality
import Testing

/// The chip's half-cycle engine end to end, against the scripted disturbances of `scenarios/pq-disturbances.json`:
/// the driver configured from `[POWER_QUALITY]`, polled every 5 ms of chip time, the polls decoded into events.
/// Expectations come from the file's script (what happened on the line), not from the simulator's registers.
@Suite struct ChipEventTimingTests {
    let epoch = 1_795_000_020.0

    struct Script {
        /// Scripted start (s after the chip's first transfer), duration (ms), phase (1…3), kind, and the extreme it implies.
        var start: Double, durationMs: Double, phase: Int, kind: PQEventKind, extreme: Double
    }

    /// The disturbances the file scripts for its first minute (each repeats every 60 s).
    func script(_ scenario: Scenario) throws -> [Script] {
        let disturbances = try #require(scenario.disturbances)
        return try disturbances.map { d in
            let phase = d.phase
            let line = scenario.phases[phase - 1]
            let durationMs = try #require(d.durationMs ?? d.cycles.map { $0 * 1000 / scenario.frequencyHz })
            let kind = try #require(PQEventKind(rawValue: d.kind))
            let extreme = switch kind {
            case .dip, .swell: line.voltageV * (d.levelPct ?? 0) / 100
            case .overcurrent: d.currentA ?? 0
            default: 0.0
            }
            return Script(start: d.startS, durationMs: durationMs, phase: phase, kind: kind, extreme: extreme)
        }
    }

    @Test func eachScriptedDisturbanceIsOneEventWithItsPhaseDepthAndDurationWithinAHalfCycle() async throws {
        let scenario = try Scenario.load(path: Fixtures.scenario("pq-disturbances.json"))
        var configuration = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        configuration.powerQuality.overcurrentAmperes = 32
        let clock = VirtualClock(monotonic: 100, wall: epoch)
        let meter = try MeterSource.simulator(scenario).makeMeter(configuration: configuration, clock: clock, logger: quietLogger)
        let origin = clock.monotonic() // the chip's time starts at its first transfer
        try await meter.start()

        let settings = configuration.powerQuality
        var decoder = PQChipEventDecoder(nominalVoltage: settings.nominalVoltage, interruptionPercent: settings.interruptionThresholdPercent,
                                         dipThresholdPercent: settings.dipThresholdPercent, swellThresholdPercent: settings.swellThresholdPercent,
                                         dipHalfCycles: settings.dipHalfCycles, swellHalfCycles: settings.swellHalfCycles,
                                         overcurrentAmperes: settings.overcurrentAmperes, lineFrequency: 50)
        var events: [PQEvent] = []
        // Polls every 5 ms (event_poll_ms) through the first 15 s: every disturbance once.
        let polls = Int((15 - (clock.monotonic() - origin)) / 0.005)
        for _ in 0..<polls {
            clock.advance(seconds: Double(settings.eventPollMs) / 1000)
            events += decoder.observe(try await meter.powerQuality(watchingCurrents: decoder.watchingCurrents)).finished
        }
        events += decoder.close()

        let expected = try script(scenario)
        #expect(events.count == expected.count, "\(events)")
        let halfCycleMs = 10.0
        for s in expected {
            let matching = events.filter { $0.kind == s.kind && $0.phase == s.phase }
            #expect(matching.count == 1, "\(s.kind) on L\(s.phase): \(events)")
            guard let event = matching.first else { continue }
            let startMs = (clock.wall(atMonotonic: origin + s.start)) * 1000
            #expect(abs(Double(event.startMs) - startMs) <= halfCycleMs, "\(s.kind) L\(s.phase) starts \(Double(event.startMs) - startMs) ms off; \(event)")
            #expect(abs(Double(event.durationMs) - s.durationMs) <= halfCycleMs, "\(s.kind) L\(s.phase) lasts \(event.durationMs) ms, scripted \(s.durationMs)")
            let extreme = try #require(event.extreme)
            switch s.kind {
            case .interruption: #expect(extreme < settings.nominalVoltage * settings.interruptionThresholdPercent / 100)
            default: #expect(abs(extreme - s.extreme) <= s.extreme * 0.01, "\(s.kind) L\(s.phase) extreme \(extreme), scripted \(s.extreme)")
            }
        }
        let statistics = await meter.driver.statistics
        #expect(statistics.eventPolls == polls)
    }

    @Test func theWholeServiceStoresEachDisturbanceOnceAndTheReadingsDoNotRepeatTheInterruption() async throws {
        let scenario = try Scenario.load(path: Fixtures.scenario("pq-disturbances.json"))
        let rig = ServiceRig(scenario: scenario, clock: VirtualClock(wall: epoch + 7.3))
        try await rig.makeApp(seconds: 120, configure: { $0.powerQuality.overcurrentAmperes = 32 }).run()
        let store = try rig.store()
        defer { store.close() }
        let events = try store.read("events") { db throws(StoreError) in try PQTables.events(fromMs: 0, toMs: .max, in: db) }
        // On a VirtualClock the poll follows the sampler's one-second steps: the kinds, phases and depths hold, the timing
        // is the other test's. The chip runs from its set-up, up to a minute before the first row, plus the two minutes:
        // each disturbance (every_s 60) two or three times, and only on its phase.
        for s in try script(scenario) {
            let matching = events.filter { $0.kind == s.kind }
            #expect((2...3).contains(matching.count) && matching.allSatisfy { $0.phase == s.phase }, "\(s.kind) on L\(s.phase): \(events)")
            for event in matching {
                let extreme = try #require(event.extreme)
                if s.kind == .interruption { #expect(extreme < 11.5) } else { #expect(abs(extreme - s.extreme) <= s.extreme * 0.01, "\(event)") }
            }
        }
        #expect(events.allSatisfy { [.dip, .swell, .interruption, .overcurrent].contains($0.kind) }, "\(events)")
    }
}
