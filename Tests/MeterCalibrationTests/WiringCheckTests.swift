// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterCalibration
import MeterReadings
import MeterConfig
import MeterTesting
import Testing

/// Wiring checks on simulated installations: they find a reversed CT and swapped phases, and say nothing
/// about a correct one.
@Suite struct WiringCheckTests {
    func check(_ adjust: (inout [Scenario.PhaseLoad]) -> Void, angle: Double = 0, voltageAngles: [Double]? = nil) async throws -> [WiringFinding] {
        let configuration = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        let reference = CalibrationReference(voltage: 230, current: 10, angleDegrees: angle)
        let measurement = try await ClosedLoopTests.measureScenario(adjust: adjust, reference: reference,
                                                                    calibration: configuration.calibration, voltageAngles: voltageAngles)
        return CalibrationCheck(calibrator: Calibrator(configuration: configuration), reference: reference, measurement: measurement).findings
    }

    @Test func aCorrectInstallationHasNoFindings() async throws {
        #expect(try await check({ _ in }).isEmpty)
        #expect(try await check({ _ in }, angle: 60).isEmpty)
    }

    @Test func aReversedCurrentTransformerIsFound() async throws {
        let findings = try await check { $0[1].angleDeg += 180 } // CT on L2 clamped the wrong way round
        #expect(findings.map(\.kind) == [.reversedCurrentTransformer])
        #expect(findings.first?.phase == .b)
        #expect(findings.first?.description.contains("L2: active power is negative") == true)
    }

    @Test func swappedPhasesAreFound() async throws {
        let findings = try await check({ _ in }, voltageAngles: [0, 240, 120]) // L2 and L3 swapped
        #expect(findings.map(\.kind) == [.phaseSequence])
        #expect(findings.first?.message.contains("reversed") == true)
    }

    @Test func aPhaseWithVoltageButNoCurrentIsFound() async throws {
        let findings = try await check { $0[2].currentA = 0 }
        #expect(findings.map(\.kind) == [.voltageWithoutCurrent])
        #expect(findings.first?.phase == .c)
    }

    @Test func frequencyFarFromNominalIsFound() {
        let input = WiringCheck.Input(voltage: [230, 230, 230], current: [10, 10, 10], power: [2300, 2300, 2300],
                                      voltageAngles: [120, 120, 240], frequency: 58.5)
        let findings = WiringCheck.findings(input, nominalFrequency: 50, currentRating: 42, expectCurrent: true)
        #expect(findings.map(\.kind) == [.frequencyOutOfRange])
    }
}

extension ClosedLoopTests {
    /// Like ``measure`` with the reference on every phase, after `adjust` changed the loads.
    static func measureScenario(adjust: (inout [Scenario.PhaseLoad]) -> Void, reference: CalibrationReference,
                                calibration: [Phase: PhaseCalibration], voltageAngles: [Double]?) async throws -> CalibrationMeasurement {
        var phases = Array(repeating: Scenario.PhaseLoad(voltageV: reference.voltage, currentA: reference.current,
                                                         angleDeg: reference.angleDegrees), count: 3)
        if let voltageAngles { for i in 0..<3 { phases[i].voltageAngleDeg = voltageAngles[i] } }
        adjust(&phases)
        return try await measure(scenario: Scenario(phases: phases), calibration: calibration)
    }
}
