// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterReadings
import MeterConfig
import MeterClock
import MeterTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The whole read path with the shipped `calibration/config.ini`: config → driver → simulated chip on the
/// wire → codes → SI. Expected values come from the physics of the scenario and datasheet formulas.
@Suite struct MeterEndToEndTests {
    static func makeMeter(_ scenario: Scenario, configuration: MeterConfiguration? = nil) async throws -> (VirtualClock, SimulatedADE9000, Meter) {
        let configuration = try configuration ?? MeterConfiguration.load(path: Fixtures.shippedConfig)
        let clock = VirtualClock(wall: 1_795_000_000)
        let chip = SimulatedADE9000(scenario: scenario, clock: clock)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let driver = ADE9000Driver(transport: chip, setup: ADE9000Setup(calibration: configuration.calibration),
                                   logger: logger, clock: clock)
        let meter = Meter(driver: driver, scales: configuration.scales, logger: logger)
        try await meter.start()
        return (clock, chip, meter)
    }

    func close(_ measured: Double, _ expected: Double, within fraction: Double) -> Bool {
        abs(measured - expected) <= abs(expected) * fraction
    }

    @Test func resistiveLoadReads2300WattsPerPhase() async throws {
        let (_, _, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: 0))
        let reading = try await meter.reading()
        for phase in Phase.allCases {
            let values = reading[phase]
            #expect(close(values.p, 2300, within: 0.002), "\(phase) P = \(values.p)")
            #expect(close(values.v, 230, within: 0.001), "\(phase) V = \(values.v)")
            #expect(close(values.i, 10, within: 0.001), "\(phase) I = \(values.i)")
            #expect(close(values.s, 2300, within: 0.002), "\(phase) S = \(values.s)")
            #expect(abs(values.q) < 2300 * 0.002, "\(phase) Q = \(values.q)")
            #expect(close(values.pf, 1, within: 0.001), "\(phase) PF = \(values.pf)")
        }
        #expect(abs(reading.freq - 50) < 0.001)
    }

    @Test func inductiveLoadAt60Degrees() async throws {
        let (_, _, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: 60))
        let reading = try await meter.reading()
        for phase in Phase.allCases {
            // P = 2300 cos 60° = 1150 W; Q = 2300 sin 60° = +1991.9 var; PF 0.5.
            #expect(close(reading[phase].p, 1150, within: 0.005), "\(phase) P = \(reading[phase].p)")
            #expect(close(reading[phase].q, 2300 * (3.0).squareRoot() / 2, within: 0.005), "\(phase) Q = \(reading[phase].q)")
            #expect(close(reading[phase].pf, 0.5, within: 0.005))
        }
    }

    @Test func leadingCurrentGivesNegativeReactivePower() async throws {
        let (_, _, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: -30))
        let reading = try await meter.reading()
        for phase in Phase.allCases {
            #expect(close(reading[phase].q, -1150, within: 0.005), "\(phase) Q = \(reading[phase].q)")
            #expect(close(reading[phase].p, 2300 * (3.0).squareRoot() / 2, within: 0.005))
        }
    }

    @Test func exportingPhaseReadsNegativePower() async throws {
        var scenario = Scenario.balanced(voltage: 230, current: 10, angle: 0)
        scenario.phases[1].angleDeg = 180 // a PV inverter feeding the grid on L2
        let (_, _, meter) = try await Self.makeMeter(scenario)
        let reading = try await meter.reading()
        #expect(close(reading[.b].p, -2300, within: 0.002))
        #expect(close(reading[.b].pf, -1, within: 0.002))
        #expect(close(reading[.a].p, 2300, within: 0.002))
    }

    /// With every calib_ key set to 0 the default board's errors show: each reading is off by exactly what
    /// the registers of the shipped file would have corrected (DS eqs. 3, 4, 7).
    @Test(arguments: [0.0, 60.0])
    func zeroedCalibrationIsWrongByWhatTheRegistersPredict(angle: Double) async throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        var document = shipped.document
        for phase in Phase.allCases {
            for name in ["igain", "vgain", "pgain", "phcal0", "irmsos", "vrmsos", "wattos", "varos"] {
                document = document.settingValue("0", forKey: "calib_\(phase.letter)\(name)", inSection: "METER_SERVICE")
            }
        }
        let zeroed = try MeterConfiguration(document: document)
        #expect(zeroed.calibration.values.allSatisfy { $0 == .zero })

        let (_, _, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: angle), configuration: zeroed)
        let reading = try await meter.reading()
        for phase in Phase.allCases {
            let c = shipped.calibration[phase]!
            let gI = Gain.multiplier(c.igain), gV = Gain.multiplier(c.vgain), gP = Gain.multiplier(c.pgain)
            // Without the correction the current keeps the phase error xPHCAL0 would have removed.
            let phi = PhaseCompensation.degrees(register: c.phcal0, lineFrequency: 50) * .pi / 180
            let theta = angle * .pi / 180 + phi
            let expectedI = 10 / gI, expectedV = 230 / gV
            let expectedP = expectedV * expectedI / gP * cos(theta), expectedQ = expectedV * expectedI / gP * sin(theta)
            #expect(close(reading[phase].i, expectedI, within: 1e-4), "\(phase) I = \(reading[phase].i), predicted \(expectedI)")
            #expect(close(reading[phase].v, expectedV, within: 1e-4), "\(phase) V = \(reading[phase].v), predicted \(expectedV)")
            #expect(close(reading[phase].p, expectedP, within: 2e-4), "\(phase) P = \(reading[phase].p), predicted \(expectedP)")
            #expect(abs(reading[phase].q - expectedQ) < 0.5, "\(phase) Q = \(reading[phase].q), predicted \(expectedQ)")
            // And those errors are real: phase A's current reads 1.5 % low.
            if phase == .a { #expect(reading[phase].i < 9.86) }
        }
    }

    @Test func energyOverAMinuteEqualsPowerTimesTime() async throws {
        let (clock, _, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: 60))
        _ = try await meter.reading()
        for _ in 0..<60 {
            clock.advance(seconds: 1)
            _ = try await meter.reading()
        }
        let energy = try #require(try await meter.reading().energy)
        for phase in Phase.allCases {
            // 1150 W and +1991.9 var for 60 s; registers move in 10 ms steps.
            #expect(close(energy[phase.rawValue].wh, 1150.0 / 60, within: 0.005))
            #expect(close(energy[phase.rawValue].varh, 2300 * (3.0).squareRoot() / 2 / 60, within: 0.005))
            #expect(close(energy[phase.rawValue].vah, 2300.0 / 60, within: 0.005))
        }
    }

    @Test func aChipResetIsReportedAndReadingsStayRight() async throws {
        let (clock, chip, meter) = try await Self.makeMeter(.balanced(voltage: 230, current: 10, angle: 0))
        _ = try await meter.reading()
        clock.advance(seconds: 1)
        chip.resetSilently()
        let reading = try await meter.reading()
        #expect(reading.afterChipReset)
        #expect(close(reading[.a].p, 2300, within: 0.002))
    }

    /// The neutral current of a four-wire wye load is the phasor sum of the phase currents (Kirchhoff at the star
    /// point). Expected from the scenario's currents and angles, never from the simulator.
    @Test(arguments: [
        // (L1, L2, L3) as (A rms, degrees the current lags its own voltage); voltages at 0°, 120°, 240°.
        [(10.0, 0.0), (10.0, 0.0), (10.0, 0.0)],      // balanced: ~0 A
        [(10.0, 0.0), (0.0, 0.0), (0.0, 0.0)],        // one phase only: the neutral carries it all
        [(16.0, 0.0), (8.0, 30.0), (2.0, -20.0)],     // unbalanced magnitudes and angles
        [(12.0, 0.0), (12.0, 60.0), (12.0, 0.0)],     // equal magnitudes, one angle differs: not 0
        [(5.0, 180.0), (9.0, 10.0), (20.0, 35.0)],    // L1 feeding the grid (PV)
    ])
    func neutralCurrentIsTheVectorSumOfThePhaseCurrents(_ loads: [(Double, Double)]) async throws {
        let scenario = Scenario(phases: loads.map { Scenario.PhaseLoad(voltageV: 230, currentA: $0.0, angleDeg: $0.1) })
        let (_, _, meter) = try await Self.makeMeter(scenario)
        let reading = try await meter.reading()
        var re = 0.0, im = 0.0
        for (index, load) in loads.enumerated() {
            // Phase N's voltage lags L1's by 120°·N; its current lags its voltage by the load's angle.
            let angle = (Double(index) * 120 + load.1) * .pi / 180
            re += load.0 * cos(angle)
            im -= load.0 * sin(angle)
        }
        let expected = (re * re + im * im).squareRoot()
        let neutral = try #require(reading.neutralCurrent)
        // 0.2 % of the largest phase current: the calibration residuals of three channels plus RMS noise.
        let largest = loads.map(\.0).max() ?? 0
        #expect(abs(neutral - expected) <= 0.002 * largest + 0.001, "n_i \(neutral) A, vector sum \(expected) A")
        // Not the arithmetic sum, except when only one phase carries current.
        if loads.filter({ $0.0 > 0 }).count > 1 {
            #expect(abs(neutral - loads.map(\.0).reduce(0, +)) > 1)
        }
    }

    @Test func jsonUsesTheMeterDataVocabulary() async throws {
        let (_, _, meter) = try await Self.makeMeter(.balanced())
        let reading = try await meter.reading(includeEnergy: false, includeTemperature: false)
        let names = reading.fields.map(\.name)
        let perPhase: [String] = ["l1", "l2", "l3"].flatMap { l in ["v", "i", "p", "q", "s", "pf"].map { "\(l)_\($0)" } }
        let quality: [String] = ["l1", "l2", "l3"].flatMap { l in ["vthd", "ithd", "vfund", "ifund"].map { "\(l)_\($0)" } }
        let expected: [String] = ["time", "freq"] + perPhase + ["n_i"] + quality + ["l2_vangle", "l3_vangle"]
        #expect(names == expected)
        // Encodable under the same names, rounded to the meter's resolution, NaN as null.
        let json = String(decoding: try JSONEncoder().encode(reading), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(names))
        // Stamped once, by the driver, at the bus transfer: the wall clock then, not a second reading of it.
        #expect(abs((object["time"] as? Double ?? 0) - reading.time) < 0.0005)
        #expect(reading.time >= 1_795_000_000 && reading.time < 1_795_000_010)
        #expect(abs((object["freq"] as? Double ?? 0) - 50) < 1e-4)
        #expect(!json.contains("nan") && !json.contains("inf"))
        var noLoad = reading
        noLoad.phases[0].pf = .nan
        let nulls = String(decoding: try JSONEncoder().encode(noLoad), as: UTF8.self)
        #expect(nulls.contains("\"l1_pf\":null"))
    }

    @Test func fixedPointFormatting() {
        #expect(DecimalText.fixed(2300.0049, 3) == "2300.005")
        #expect(DecimalText.fixed(-0.0004, 3) == "0.000")
        #expect(DecimalText.fixed(-1991.86, 1) == "-1991.9")
        #expect(DecimalText.fixed(0.5, 0) == "1")
    }
}
