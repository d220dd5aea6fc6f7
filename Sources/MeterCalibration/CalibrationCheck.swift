// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import MeterReadings
import MeterConfig
#if canImport(Glibc)
import Glibc
#endif

/// `calibrate check`: how far the meter reads from a known reference, per phase, and the wiring findings.
public struct CalibrationCheck: Sendable {
    public struct PhaseErrors: Sendable, Hashable {
        public var phase: Phase
        /// Relative errors of V and I, percent.
        public var voltagePercent: Double, currentPercent: Double
        /// Errors of P and Q in percent of the reference apparent power (Q is 0 at PF 1, so a relative
        /// Q error would be undefined).
        public var activePercent: Double, reactivePercent: Double
        /// Measured PF minus reference PF.
        public var powerFactor: Double
        /// Measured angle (from accumulated energy) minus the reference angle, degrees.
        public var angleDegrees: Double
    }

    public var phases: [PhaseErrors]
    public var findings: [WiringFinding]

    public init(calibrator: Calibrator, reference: CalibrationReference, measurement: CalibrationMeasurement) {
        let theta = reference.angleDegrees * .pi / 180
        let apparent = reference.voltage * reference.current
        phases = calibrator.phases.map { phase in
            let m = measurement[phase], k = calibrator.configuration.scales[phase]!
            let v = m.vrms * k.voltsPerLSB, i = m.irms * k.ampsPerLSB
            let p = m.watt * k.wattsPerLSB, q = m.reactive * k.varsPerLSB, s = m.apparent * k.voltAmpsPerLSB
            let angle = CalibrationMath.angleError(activeEnergy: m.activeEnergy, reactiveEnergy: m.reactiveEnergy,
                                                   referenceDegrees: reference.angleDegrees)
            return PhaseErrors(
                phase: phase,
                voltagePercent: (v / reference.voltage - 1) * 100,
                currentPercent: reference.current > 0 ? (i / reference.current - 1) * 100 : .nan,
                activePercent: apparent > 0 ? (p - apparent * cos(theta)) / apparent * 100 : .nan,
                reactivePercent: apparent > 0 ? (q - apparent * sin(theta)) / apparent * 100 : .nan,
                powerFactor: s > 0 ? p / s - cos(theta) : .nan,
                angleDegrees: angle)
        }
        let scales = calibrator.configuration.scales
        let input = WiringCheck.Input(
            voltage: Phase.allCases.map { measurement[$0].vrms * scales[$0]!.voltsPerLSB },
            current: Phase.allCases.map { measurement[$0].irms * scales[$0]!.ampsPerLSB },
            power: Phase.allCases.map { measurement[$0].watt * scales[$0]!.wattsPerLSB },
            voltageAngles: measurement.voltageAngles, frequency: measurement.frequency)
        findings = WiringCheck.findings(input, nominalFrequency: calibrator.lineFrequency,
                                        currentRating: calibrator.configuration.currentSensorRating,
                                        nominalVoltage: reference.voltage, expectCurrent: reference.current > 0)
    }
}
