// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import MeterReadings

/// Something about the installation a technician should look at.
public struct WiringFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Negative active power with a plausible load: a current transformer mounted backwards (or export).
        case reversedCurrentTransformer = "reversed_ct"
        /// Voltage phase angles not 0/120/240 in sequence: phases swapped.
        case phaseSequence = "phase_sequence"
        /// A phase with voltage but no current.
        case voltageWithoutCurrent = "voltage_without_current"
        /// Line frequency more than 1 Hz from nominal.
        case frequencyOutOfRange = "frequency_out_of_range"
    }

    public var kind: Kind
    /// The phase concerned, nil for the whole meter.
    public var phase: Phase?
    public var message: String

    public var description: String { (phase.map { $0.line.uppercased() + ": " } ?? "") + message }
}

/// The wiring checks of `calibrate check`, also logged by the service at start.
public enum WiringCheck {
    /// Per-phase RMS voltage, current and active power in SI (indexed by `Phase.rawValue`), the voltage
    /// angles VA→VB, VB→VC, VA→VC in degrees (ANGL_* registers), and the line frequency.
    public struct Input: Sendable {
        public var voltage: [Double], current: [Double], power: [Double]
        public var voltageAngles: [Double]
        public var frequency: Double
        public init(voltage: [Double], current: [Double], power: [Double], voltageAngles: [Double], frequency: Double) {
            self.voltage = voltage; self.current = current; self.power = power
            self.voltageAngles = voltageAngles; self.frequency = frequency
        }
    }

    /// - Parameters:
    ///   - nominalVoltage: used to decide a phase "has voltage" (half of it).
    ///   - currentRating: the sensor rating; 2 % of it is "a plausible load", 0.5 % "no current".
    ///   - expectCurrent: every phase should carry current (a reference load is connected).
    public static func findings(_ input: Input, nominalFrequency: Double, currentRating: Double,
                                nominalVoltage: Double = 230, expectCurrent: Bool) -> [WiringFinding] {
        var findings: [WiringFinding] = []
        let live = Phase.allCases.map { input.voltage[$0.rawValue] > nominalVoltage / 2 }
        for phase in Phase.allCases where live[phase.rawValue] {
            let i = phase.rawValue
            let amps = input.current[i], watts = input.power[i]
            let apparent = input.voltage[i] * amps
            if amps > currentRating * 0.02, watts < 0, apparent > 0, abs(watts) / apparent > 0.3 {
                findings.append(.init(kind: .reversedCurrentTransformer, phase: phase,
                    message: "active power is negative (\(Int(watts.rounded())) W with \(DecimalText.fixed(amps, 2)) A flowing): the current transformer is mounted backwards (arrow must point to the load), unless this phase really feeds the grid"))
            }
            if expectCurrent, amps < currentRating * 0.005 {
                findings.append(.init(kind: .voltageWithoutCurrent, phase: phase,
                    message: "voltage (\(Int(input.voltage[i].rounded())) V) but no current: the current transformer is not connected, or clamped on another conductor"))
            }
        }
        if live.allSatisfy({ $0 }) {
            let ab = input.voltageAngles[0], bc = input.voltageAngles[1]
            func near(_ value: Double, _ target: Double) -> Bool { abs(value - target) < 10 }
            if near(ab, 240) && near(bc, 240) {
                findings.append(.init(kind: .phaseSequence, phase: nil,
                    message: "phase sequence is reversed (L1→L2 \(Int(ab.rounded()))°, L2→L3 \(Int(bc.rounded()))°, expected 120° each): two phases are swapped, e.g. L2 and L3 — swap their voltage wires and current transformers together"))
            } else if !(near(ab, 120) && near(bc, 120)) {
                findings.append(.init(kind: .phaseSequence, phase: nil,
                    message: "voltage angles L1→L2 \(Int(ab.rounded()))°, L2→L3 \(Int(bc.rounded()))° are not 120° apart: a voltage input is on the wrong phase"))
            }
        }
        if abs(input.frequency - nominalFrequency) > 1 {
            findings.append(.init(kind: .frequencyOutOfRange, phase: nil,
                message: "line frequency \(DecimalText.fixed(input.frequency, 3)) Hz is more than 1 Hz from the nominal \(Int(nominalFrequency)) Hz: check line_frequency_hz in config.ini, or the supply"))
        }
        return findings
    }
}
