// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterGPIO
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import Testing

/// The whole service with a chip that wedges at 150 s (`faults.wedged_after_s`): with `chip_reset_pin` it
/// comes back through the RESET pin; without, the LED and the log say what is wrong and how to fix it.
@Suite struct ChipResetServiceTests {
    let epoch = 1_795_000_020.0 // a minute boundary
    let pin = 24

    func wedgedRig() -> ServiceRig {
        var scenario = Scenario.balanced(voltage: 230, current: 10, angle: 0)
        scenario.faults = ScenarioFaults(wedgedAfterS: 150)
        return ServiceRig(scenario: scenario, clock: VirtualClock(wall: epoch + 7.3))
    }

    @Test func aWedgedChipRecoversThroughItsResetPinWithTheCalibrationVerified() async throws {
        let rig = wedgedRig()
        let gpio = SimulatedGPIO(clock: rig.clock)
        let log = LogRecorder()
        let pin = self.pin
        let app = try rig.makeApp(seconds: 300, logger: log.logger, configure: { $0.gpio.chipResetPin = pin }, gpioBackend: gpio)
        try await app.run()

        // The pulse on the simulated line: high from the request, then low ≥ 1 µs, then high again.
        let transitions = gpio.transitions(offset: pin)
        #expect(transitions.map(\.level) == [true, false, true], "\(transitions)")
        if transitions.count == 3 {
            let width = transitions[2].time - transitions[1].time
            #expect(width >= 1e-6 && width <= 1e-3, "pulse \(width) s")
            #expect(transitions[1].time - 100 > 150, "pulsed after the wedge, not at start")
        }
        #expect(gpio.requests[pin]?.isOutput == true)
        #expect(gpio.requests[pin]?.consumer == "clemap-edge:chip-reset")

        // Recovered, set up again with the configuration's calibration, read back equal.
        let chip = try #require(app.meter.driver.transport as? SimulatedADE9000)
        #expect(!chip.isWedged)
        let configuration = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        for (register, value) in ADE9000Setup(calibration: configuration.calibration).calibrationWrites {
            #expect(chip.peek(register) == value, "\(register)")
        }
        let statistics = await app.meter.driver.statistics
        #expect(statistics.hardwareResets == 1)

        // One notice: what was seen, the pulse, RSTDONE, the calibration verified.
        let notices = log.entries(.notice).filter { $0.contains("RESET pin") }
        #expect(notices.count == 1)
        let notice = notices.first ?? ""
        for part in ["chip.seen=", "all ones", "reset.line=GPIO 24", "reset.pulse_us=100", "chip.rstdone_ms=",
                     "calibration.verified=24 registers read back equal"] {
            #expect(notice.contains(part), "\(part) in \(notice)")
        }
        #expect(!app.hub.health.current.contains(.chipUnresponsive))
        #expect(!app.hub.health.current.contains(.meterFault))

        // Readings resume; the row around the reset says so and invents no energy.
        let rows = try rig.store().rows(from: 0, to: .max)
        let flagged = rows.filter { $0.flags.contains(.chipReset) }
        #expect(flagged.count == 1, "\(rows.map { ($0.time, $0.flags) })")
        let after = rows.filter { $0.time > (flagged.first?.time ?? .max) }
        #expect(!after.isEmpty)
        for row in after where !row.flags.contains(.partial) {
            #expect(row.samples >= 59)
            #expect(abs(row[.a].v - 230) < 0.1 && abs(row[.a].i - 10) < 0.01)
            #expect(abs(row.energy[0].whImport - 2300.0 / 60) < 2300.0 / 60 * 0.005)
        }
    }

    @Test func withoutTheResetPinTheLEDAndTheLogSayHowToFixIt() async throws {
        let rig = wedgedRig()
        let log = LogRecorder()
        let app = try rig.makeApp(seconds: 300, logger: log.logger)
        try await app.run() // no crash: the sampler keeps trying until the run ends

        let health = app.hub.health.current
        #expect(health.contains(.chipUnresponsive) && health.contains(.meterFault))
        #expect(app.hub.health.summary.contains("chip-unresponsive"))
        let led = BoardService.ledState(for: health)
        #expect(led == .chipUnresponsive)
        #expect(led.pattern != StatusLEDState.meterFault.pattern)
        #expect(Set(StatusLEDState.allCases.map(\.pattern)).count == StatusLEDState.allCases.count)

        let errors = log.entries(.error).filter { $0.contains("stopped answering and the firmware cannot reset it") }
        #expect(errors.count == 1, "said once, not every second")
        #expect(errors.first?.contains("wire the ADE9000 RESET pin to a GPIO and set [GPIO_SERVICE] chip_reset_pin, or power-cycle the meter") == true)

        // Kept retrying every sample for the 150 s the chip was wedged; no RESET pin was touched.
        #expect(app.hub.counters.current.snapshotFailures >= 100)
        #expect(await app.meter.driver.statistics.hardwareResets == 0)
        let chip = try #require(app.meter.driver.transport as? SimulatedADE9000)
        #expect(chip.isWedged)
        // The rows before the wedge are stored; the one it interrupted is flagged.
        let rows = try rig.store().rows(from: 0, to: .max)
        #expect(rows.contains { $0.flags.contains(.missedSamples) })
        #expect(rows.filter { $0.flags.isEmpty }.count >= 1)
    }
}
