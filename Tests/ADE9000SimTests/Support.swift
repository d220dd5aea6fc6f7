// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterClock
import MeterTesting

/// The calibration of meter SE05000551 (`../shared/reference/clemap-config.ini`), written out here so
/// these tests do not depend on the config parser.
let nibV3Calibration: [Phase: PhaseCalibration] = [
    .a: PhaseCalibration(igain: 2_069_224, vgain: 260_287, pgain: -13_889, phcal0: -63_482_710, irmsos: 35, vrmsos: 14, wattos: 4, varos: 1),
    .b: PhaseCalibration(igain: 1_264_722, vgain: -259_825, pgain: -330, phcal0: -58_592_471, irmsos: 20, vrmsos: 14, wattos: 2, varos: 1),
    .c: PhaseCalibration(igain: 1_339_782, vgain: -12_329, pgain: -3_307, phcal0: -56_192_894, irmsos: 33, vrmsos: 14, wattos: 1, varos: 1),
]

/// Board constants of the same file: A, V and W per LSB.
let ampsPerLSB = 1.5844520367023384e-06
let voltsPerLSB = 1.3294291998883081e-05
let wattsPerLSB = 0.0028271847549624046

/// A simulator on a virtual clock and a driver on the same clock.
func makeRig(_ scenario: Scenario = .balanced(), calibration: [Phase: PhaseCalibration] = nibV3Calibration,
             burst: Bool = true) -> (VirtualClock, SimulatedADE9000, ADE9000Driver) {
    let clock = VirtualClock()
    let chip = SimulatedADE9000(scenario: scenario, clock: clock)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let driver = ADE9000Driver(transport: chip, setup: ADE9000Setup(calibration: calibration, burstReads: burst),
                               logger: logger, clock: clock)
    return (clock, chip, driver)
}

/// Relative difference.
func relativeError(_ measured: Double, _ expected: Double) -> Double { abs(measured - expected) / abs(expected) }
