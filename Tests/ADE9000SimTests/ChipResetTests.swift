// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import FoundationEssentials
import Logging
import MeterClock
import MeterTesting
import Synchronization
import Testing

/// A chip that stops answering: the driver pulses its RESET pin when it has one, and otherwise says how to fix it.
@Suite struct ChipResetTests {
    /// A RESET line wired straight to the simulated chip's pin; records each pulse (low time, width).
    final class WiredResetLine: ChipResetLine {
        let chip: SimulatedADE9000
        let clock: VirtualClock
        let pulses = Mutex<[Double]>([])
        init(chip: SimulatedADE9000, clock: VirtualClock) { self.chip = chip; self.clock = clock }
        var name: String { "GPIO 24" }
        func pulse(width: Duration) async throws -> Double {
            chip.resetPin(high: false)
            let low = clock.monotonic()
            try await clock.sleep(for: width)
            let measured = clock.monotonic() - low
            chip.resetPin(high: true)
            pulses.withLock { $0.append(measured) }
            return measured
        }
    }

    func rig(resetLine: Bool, log: LogRecorder) -> (VirtualClock, SimulatedADE9000, ADE9000Driver, WiredResetLine) {
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: clock)
        let line = WiredResetLine(chip: chip, clock: clock)
        let driver = ADE9000Driver(transport: chip, setup: ADE9000Setup(calibration: nibV3Calibration),
                                   logger: log.logger, clock: clock, resetLine: resetLine ? line : nil)
        return (clock, chip, driver, line)
    }

    @Test func aWedgedChipIgnoresSoftwareResetUntilItsResetPinIsPulsed() async throws {
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: .balanced(), clock: clock)
        chip.wedge()
        // SWRST written: still wedged, still all ones.
        _ = try chip.transfer([Frame.write(.CONFIG1, Config1.SWRST.rawValue)])
        #expect(chip.isWedged)
        let miso = try chip.transfer([Frame.read(.PART_ID, withCRC: false)])[0]
        #expect(miso.allSatisfy { $0 == 0xFF })
        chip.resetPin(high: false)
        #expect(chip.isWedged, "held in reset until RESET rises")
        chip.resetPin(high: true)
        #expect(!chip.isWedged)
        #expect(chip.peek(.STATUS1) & Status1.RSTDONE.rawValue != 0)
        #expect(chip.peek(.RUN) == 0)
    }

    @Test func theScenarioWedgesTheChipAtItsTime() throws {
        let json = #"{"phases": [{"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}], "faults": {"wedged_after_s": 4}}"#
        let scenario = try Scenario.decode(Data(json.utf8), source: "wedged.json")
        #expect(scenario.faults?.wedgedAfterS == 4)
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: scenario, clock: clock)
        _ = chip.peek(.RUN) // the chip's time starts at its first access
        clock.advance(seconds: 3.9)
        #expect(!chip.isWedged)
        clock.advance(seconds: 0.2)
        #expect(chip.isWedged)
        let bad = #"{"phases": [{"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}], "faults": {"wedged_after_s": -1}}"#
        #expect(throws: ScenarioError.self) { try Scenario.decode(Data(bad.utf8), source: "bad.json") }
    }

    @Test func withAResetLineTheDriverPulsesWaitsForRSTDONEAndVerifiesTheCalibration() async throws {
        let log = LogRecorder()
        let (clock, chip, driver, line) = rig(resetLine: true, log: log)
        try await driver.initialize()
        clock.advance(seconds: 1)
        chip.wedge()
        let snapshot = try await driver.snapshot()
        #expect(snapshot.reinitialised)
        #expect(relativeError(Double(snapshot[.a].watt), 2300 / wattsPerLSB) < 1e-3)
        let pulses = line.pulses.withLock { $0 }
        #expect(pulses.count == 1)
        #expect(pulses.allSatisfy { $0 >= 1e-6 && $0 <= 1e-3 })
        #expect(!chip.isWedged)
        for (register, value) in ADE9000Setup(calibration: nibV3Calibration).calibrationWrites {
            #expect(chip.peek(register) == value, "\(register)")
        }
        #expect(try await driver.verifyCalibration() == 24)
        let statistics = await driver.statistics
        #expect(statistics.hardwareResets == 1 && statistics.reinitialisations == 1)
        let notices = log.entries(.notice).filter { $0.contains("RESET pin") }
        #expect(notices.count == 1)
        #expect(notices.first?.contains("all ones") == true)
        #expect(notices.first?.contains("reset.pulse_us=100") == true)
        #expect(notices.first?.contains("chip.rstdone_ms=") == true)
        #expect(notices.first?.contains("calibration.verified=24 registers read back equal") == true)
        clock.advance(seconds: 1)
        let next = try await driver.snapshot()
        #expect(!next.reinitialised)
    }

    @Test func aChipWedgedBeforeTheStartIsResetAtTheStart() async throws {
        let log = LogRecorder()
        let (_, chip, driver, line) = rig(resetLine: true, log: log)
        chip.wedge()
        try await driver.initialize()
        #expect(line.pulses.withLock { $0.count } == 1)
        #expect(chip.peek(.RUN) == 1)
    }

    @Test(arguments: [Faults.DeadBus.allOnes, .allZeros])
    func withoutAResetLineTheErrorNamesTheFix(bus: Faults.DeadBus) async throws {
        let log = LogRecorder()
        let (clock, chip, driver, _) = rig(resetLine: false, log: log)
        try await driver.initialize()
        clock.advance(seconds: 1)
        // All ones: the wedge; all zeros: MISO held low from now on. Neither clears with a software reset.
        if bus == .allOnes { chip.wedge() } else { chip.faults = Faults(deadBus: .allZeros) }
        for _ in 0..<3 {
            let error = await #expect(throws: ADE9000Error.self) { try await driver.snapshot() }
            #expect(error?.code == .unresponsive)
            #expect(error?.description.contains("stopped answering") == true)
            #expect(error?.description.contains("set [GPIO_SERVICE] chip_reset_pin, or power-cycle the meter") == true)
            clock.advance(seconds: 1)
        }
        #expect(await driver.statistics.hardwareResets == 0)
    }

    @Test func aResetPulseThatDoesNotHelpIsAnErrorNamingTheLine() async throws {
        let log = LogRecorder()
        let (clock, chip, driver, line) = rig(resetLine: true, log: log)
        try await driver.initialize()
        clock.advance(seconds: 1)
        chip.faults = Faults(deadBus: .allZeros) // no reset clears a shorted MISO
        let error = await #expect(throws: ADE9000Error.self) { try await driver.snapshot() }
        #expect(error?.code == .unresponsive)
        #expect(error?.description.contains("RESET (GPIO 24)") == true)
        #expect(error?.description.contains("RSTDONE") == true)
        #expect(line.pulses.withLock { $0.count } == 1)
        #expect(log.entries(.error).contains { $0.contains("did not bring the chip back") })
    }
}

/// A chip that still answers but ignores a software reset: RSTDONE never comes.
@Suite struct IgnoredSoftwareResetTests {
    /// Passes every frame to the chip, but cuts a SWRST write to its header: a write latches only when its
    /// whole data word arrived (TRM p.35), so the chip never sees it.
    final class DropsSoftwareReset: SPITransport {
        let inner: SimulatedADE9000
        init(_ inner: SimulatedADE9000) { self.inner = inner }
        var deviceName: String { inner.deviceName }
        func transfer(_ frames: [[UInt8]]) throws(SPIError) -> [[UInt8]] {
            let swrst = Frame.write(.CONFIG1, Config1.SWRST.rawValue)
            return try inner.transfer(frames.map { $0 == swrst ? Array($0.prefix(2)) : $0 })
        }
    }

    @Test(arguments: [true, false])
    func aSoftwareResetWithoutRSTDONEIsWedged(withResetLine: Bool) async throws {
        let log = LogRecorder()
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: .balanced(), clock: clock)
        let line = ChipResetTests.WiredResetLine(chip: chip, clock: clock)
        let driver = ADE9000Driver(transport: DropsSoftwareReset(chip), setup: ADE9000Setup(calibration: nibV3Calibration),
                                   logger: log.logger, clock: clock, resetLine: withResetLine ? line : nil)
        try await driver.initialize() // RSTDONE from power-up: the first start passes
        clock.advance(seconds: 1)
        if withResetLine {
            try await driver.initialize()
            #expect(line.pulses.withLock { $0.count } == 1)
            #expect(log.entries(.notice).contains { $0.contains("RESET pin") && $0.contains("ignores a software reset") })
            #expect(chip.peek(.RUN) == 1)
        } else {
            let error = await #expect(throws: ADE9000Error.self) { try await driver.initialize() }
            #expect(error?.code == .unresponsive)
            #expect(error?.description.contains("RSTDONE") == true)
            #expect(error?.description.contains(ADE9000Driver.unresponsiveRemedy) == true)
        }
    }
}
