// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Foundation
import MeterClock
import MeterTesting
import Testing

/// Scripted disturbances in scenario files (`scenarios/README.md`): where and when they act, and that the one-second
/// registers and the energy see them. Expected codes are the scenario's volts and amperes on the ideal board
/// (V / V-per-LSB, A / A-per-LSB; xWATT = xIRMS·xVRMS·cos θ / 2^27, DS §3.3), times the disturbance's level.
@Suite struct DisturbanceTests {
    let clock = VirtualClock()

    /// A chip whose time starts now (the origin of `start_s`), running, energy every 80 samples from the first one.
    func runningChip(_ scenario: Scenario) throws -> SimulatedADE9000 {
        var scenario = scenario
        scenario.frontEnd = .ideal
        let chip = SimulatedADE9000(scenario: scenario, clock: clock)
        _ = chip.peek(.RUN)
        _ = try chip.transfer([Frame.write(.CONFIG1, 0b11 << 8), Frame.write(.EGY_TIME, 79), Frame.write(.EP_CFG, 1),
                               Frame.write(.RUN, 1)])
        return chip
    }

    /// Moves the clock to `seconds` after `start`.
    func at(_ seconds: Double, _ start: Double) { clock.advance(seconds: start + seconds - clock.monotonic()) }

    /// |register − expected| within the ±2 LSB noise and rounding.
    func near(_ chip: SimulatedADE9000, _ register: Register, _ expected: Double) -> Bool {
        abs(Double(Int32(bitPattern: chip.peek(register))) - expected) <= 3
    }

    @Test func theDemoFileActsOnEachPhaseAtItsTimesEveryMinute() throws {
        let scenario = try Scenario.load(path: Fixtures.scenario("pq-disturbances.json"))
        let v = 230 / voltsPerLSB
        let i = scenario.phases.map { $0.currentA / ampsPerLSB }
        let start = clock.monotonic()
        let chip = try runningChip(scenario)
        for minute in [0.0, 60] {
            at(minute + 2.9, start)
            #expect(near(chip, .VRMS(.a), v) && near(chip, .VRMS(.b), v) && near(chip, .VRMS(.c), v))
            // The dip on L2: 70 % of the voltage, the current unchanged, so 70 % of the power.
            at(minute + 3.1, start)
            #expect(near(chip, .VRMS(.b), 0.7 * v) && near(chip, .VRMS(.a), v) && near(chip, .IRMS(.b), i[1]))
            let theta = scenario.phases[1].angleDeg * .pi / 180
            #expect(near(chip, .WATT(.b), 0.7 * v * i[1] * cos(theta) / 134_217_728))
            // The swell on L1: 3 cycles = 60 ms at 50 Hz.
            at(minute + 6.05, start)
            #expect(near(chip, .VRMS(.a), 1.15 * v))
            at(minute + 6.07, start)
            #expect(near(chip, .VRMS(.a), v))
            // The interruption of L3: 0 V and 0 A for a second.
            at(minute + 9.5, start)
            #expect(chip.peek(.VRMS(.c)) <= 2 && chip.peek(.IRMS(.c)) <= 2 && near(chip, .VRMS(.b), v))
            at(minute + 10.01, start)
            #expect(near(chip, .VRMS(.c), v))
            // The overcurrent on L1: 40 A for 100 ms, the voltage unchanged.
            at(minute + 12.05, start)
            #expect(near(chip, .IRMS(.a), 40 / ampsPerLSB) && near(chip, .VRMS(.a), v))
            at(minute + 12.11, start)
            #expect(near(chip, .IRMS(.a), i[0]))
        }
    }

    @Test func cyclesCountLineCyclesOfTheScenarioFrequency() throws {
        var scenario = Scenario.balanced(voltage: 230, current: 5, frequency: 60)
        scenario.disturbances = [ScenarioDisturbance(kind: "swell", phase: 1, startS: 1, cycles: 3, levelPct: 120)]
        let start = clock.monotonic()
        let chip = try runningChip(scenario)
        // 3 cycles at 60 Hz: 50 ms.
        at(1.045, start)
        #expect(near(chip, .VRMS(.a), 1.2 * 230 / voltsPerLSB))
        at(1.055, start)
        #expect(near(chip, .VRMS(.a), 230 / voltsPerLSB))
    }

    @Test func aDisturbanceSpanningWholeStepsShowsInTheOneSecondRegisters() throws {
        let interruption = ScenarioDisturbance(kind: "interruption", phase: 1, startS: 1, durationMs: 2000)
        let start = clock.monotonic()
        var scenario = Scenario.balanced(voltage: 230, current: 5)
        scenario.disturbances = [interruption]
        let chip = try runningChip(scenario)
        at(0.9, start)
        let before = chip.peek(.WATTHR_HI(.a)), beforeB = chip.peek(.WATTHR_HI(.b))
        clock.advance(seconds: 1.1) // one step into the middle of it: 0 V, 0 A, 0 W (noise ±2 LSB)
        #expect(chip.peek(.VRMS(.a)) <= 2 && chip.peek(.IRMS(.a)) <= 2)
        #expect(abs(Int32(bitPattern: chip.peek(.WATT(.a)))) <= 2)
        #expect(near(chip, .VRMS(.b), 230 / voltsPerLSB))
        clock.advance(seconds: 1.2) // and one past its end
        #expect(near(chip, .VRMS(.a), 230 / voltsPerLSB))
        // 2.3 s passed, 2 s of them without power on L1: 0.3 s = 2400 samples of AWATT against 18,400 of BWATT, in
        // units of 2^13, give or take the 80-sample energy period still held.
        let watt = (5 / ampsPerLSB) * (230 / voltsPerLSB) / 134_217_728, slack = watt * 80 / 8192 + 2
        #expect(abs(Double(chip.peek(.WATTHR_HI(.a)) - before) - watt * 2400 / 8192) <= slack)
        #expect(abs(Double(chip.peek(.WATTHR_HI(.b)) - beforeB) - watt * 18_400 / 8192) <= slack)
    }

    @Test(arguments: [
        (#""kind": "sag", "phase": 1, "start_s": 1, "duration_ms": 100, "level_pct": 70"#, "kind is \"sag\", allowed: \"dip\", \"swell\", \"interruption\", \"overcurrent\""),
        (#""kind": "dip", "phase": 4, "start_s": 1, "duration_ms": 100, "level_pct": 70"#, "phase is 4, needs 1, 2 or 3"),
        (#""kind": "dip", "phase": 1, "start_s": -1, "duration_ms": 100, "level_pct": 70"#, "start_s is -1.0, needs seconds ≥ 0"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "level_pct": 70"#, "needs exactly one of duration_ms and cycles"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "duration_ms": 100, "cycles": 3, "level_pct": 70"#, "needs exactly one of duration_ms and cycles"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "cycles": 0, "level_pct": 70"#, "cycles is 0.0, needs line cycles > 0"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "duration_ms": 100, "level_pct": 120"#, "a dip needs 0 < level_pct < 100"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "duration_ms": 100"#, "a dip needs level_pct"),
        (#""kind": "swell", "phase": 1, "start_s": 1, "duration_ms": 100, "level_pct": 250"#, "a swell needs 100 < level_pct ≤ 200"),
        (#""kind": "overcurrent", "phase": 1, "start_s": 1, "duration_ms": 100"#, "an overcurrent needs current_a"),
        (#""kind": "interruption", "phase": 1, "start_s": 1, "duration_ms": 100, "level_pct": 0"#, "an interruption takes neither"),
        (#""kind": "dip", "phase": 1, "start_s": 1, "cycles": 5, "level_pct": 70, "every_s": 0.1"#, "every_s is 0.1, needs seconds more than its length (0.1 s)"),
        (#""kind": "dip", "phase": 1, "duration_ms": 100, "level_pct": 70"#, "missing key \"start_s\" at .disturbances[0]"),
    ])
    func badDisturbancesAreRefusedWithTheirIndexAndKey(_ entry: String, _ message: String) throws {
        let json = """
            {"phases": [{"voltage_v": 230, "current_a": 1}, {"voltage_v": 230, "current_a": 1}, {"voltage_v": 230, "current_a": 1}],
             "disturbances": [{\(entry)}]}
            """
        let error = #expect(throws: ScenarioError.self) { try Scenario.decode(Data(json.utf8), source: "pq.json") }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.hasPrefix("pq.json: "), "\(text)")
        #expect(text.contains(message), "\(text)")
        if !message.hasPrefix("missing key") { #expect(text.contains("\"disturbances\"[0]: "), "\(text)") }
    }
}
