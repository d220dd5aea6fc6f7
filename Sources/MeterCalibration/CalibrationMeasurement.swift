// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import Logging
public import MeterClock

/// What the chip measured over a calibration window, per phase, in chip codes.
public struct CalibrationMeasurement: Sendable {
    public struct PhaseAverage: Sendable {
        /// Means of xIRMS, xVRMS, xWATT, xVAR, xVA over the window.
        public var irms: Double, vrms: Double, watt: Double, reactive: Double, apparent: Double
        /// Relative spread (max − min) / mean of xIRMS, xVRMS and xWATT: how steady the reference was.
        public var irmsSpread: Double, vrmsSpread: Double, wattSpread: Double
        /// Accumulated active and reactive energy over the window, in xWATTHR_HI / xVARHR_HI LSB.
        public var activeEnergy: Double, reactiveEnergy: Double
    }

    /// Indexed by `Phase.rawValue`.
    public var phases: [PhaseAverage]
    /// Mean line frequency, Hz.
    public var frequency: Double
    /// Snapshots averaged.
    public var snapshots: Int
    /// Voltage angles between phases, degrees: VA→VB, VB→VC, VA→VC (ANGL_VA_VB …, DS eqs. 13–14).
    public var voltageAngles: [Double]

    public subscript(phase: Phase) -> PhaseAverage { phases[phase.rawValue] }

    /// Reads snapshots every `period` for `seconds` and averages them.
    /// - Parameters:
    ///   - driver: an initialised driver.
    ///   - clock: waits between snapshots on it (a virtual clock in tests).
    ///   - progress: called with 0…1 after each snapshot.
    public static func take(driver: ADE9000Driver, seconds: Double, period: Double = 0.1,
                            clock: any MeterClock,
                            progress: (Double) -> Void = { _ in }) async throws -> CalibrationMeasurement {
        let count = max(2, Int((seconds / period).rounded()))
        var first: RawSnapshot?, last: RawSnapshot?
        var sums = [[Double]](repeating: [0, 0, 0, 0, 0], count: 3)
        var minima = [[Double]](repeating: [.infinity, .infinity, .infinity], count: 3)
        var maxima = [[Double]](repeating: [-.infinity, -.infinity, -.infinity], count: 3)
        var energy = [[Double]](repeating: [0, 0], count: 3)
        var frequencySum = 0.0
        for index in 0..<count {
            if index > 0 { try await clock.sleep(for: .milliseconds(Int64(period * 1000))) }
            let snapshot = try await driver.snapshot(includeEnergy: true)
            if snapshot.reinitialised { first = nil; energy = [[Double]](repeating: [0, 0], count: 3) }
            for p in Phase.allCases {
                let c = snapshot[p], i = p.rawValue
                let values = [Double(c.irms), Double(c.vrms), Double(c.watt), Double(c.reactive), Double(c.apparent)]
                for k in 0..<5 { sums[i][k] += values[k] }
                for k in 0..<3 { minima[i][k] = min(minima[i][k], values[k]); maxima[i][k] = max(maxima[i][k], values[k]) }
                if let previous = last?.energy, let now = snapshot.energy, first != nil {
                    energy[i][0] += Double(Energy45.hiDelta(from: previous[i].watthrHi, to: now[i].watthrHi))
                    energy[i][1] += Double(Energy45.hiDelta(from: previous[i].varhrHi, to: now[i].varhrHi))
                }
            }
            frequencySum += LinePeriod.frequency(snapshot.comPeriod)
            if first == nil { first = snapshot }
            last = snapshot
            progress(Double(index + 1) / Double(count))
        }
        let n = Double(count)
        let phases = (0..<3).map { i -> PhaseAverage in
            func spread(_ k: Int) -> Double {
                let mean = sums[i][k] / n
                return mean != 0 ? abs(maxima[i][k] - minima[i][k]) / abs(mean) : (maxima[i][k] - minima[i][k] == 0 ? 0 : .infinity)
            }
            return PhaseAverage(irms: sums[i][0] / n, vrms: sums[i][1] / n, watt: sums[i][2] / n, reactive: sums[i][3] / n,
                                apparent: sums[i][4] / n, irmsSpread: spread(0), vrmsSpread: spread(1), wattSpread: spread(2),
                                activeEnergy: energy[i][0], reactiveEnergy: energy[i][1])
        }
        let frequency = frequencySum / n
        var angles: [Double] = []
        for register in [Register.ANGL_VA_VB, .ANGL_VB_VC, .ANGL_VA_VC] {
            angles.append(ZeroCrossingAngle.degrees(UInt16(truncatingIfNeeded: try await driver.read(register)), lineFrequency: frequency))
        }
        return CalibrationMeasurement(phases: phases, frequency: frequency, snapshots: count, voltageAngles: angles)
    }
}
