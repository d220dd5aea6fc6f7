// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging

import MeterClock
import MeterTesting
import Testing

/// The driver against the wire-level simulator. Expected values come from datasheet formulas in the
/// test and the board constants, never from the simulator.
@Suite struct DriverWithSimulatorTests {
    /// Records every frame on its way to the simulator.
    final class Recorder: SPITransport, @unchecked Sendable { // only used from the driver actor
        let inner: SimulatedADE9000
        var frames: [[UInt8]] = []
        init(_ inner: SimulatedADE9000) { self.inner = inner }
        var deviceName: String { inner.deviceName }
        func transfer(_ frames: [[UInt8]]) throws(SPIError) -> [[UInt8]] {
            self.frames += frames
            return try inner.transfer(frames)
        }
    }

    @Test func startUpTraceBeginsWithPartIDAndEndsRunningWithTheCalibration() async throws {
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: .balanced(), clock: clock)
        let recorder = Recorder(chip)
        let driver = ADE9000Driver(transport: recorder, setup: ADE9000Setup(calibration: nibV3Calibration),
                                   logger: .init(label: "test"), clock: clock)
        let identity = try await driver.initialize()
        #expect(identity.partID & (1 << 20) != 0)
        #expect(identity.isKnownVersion)
        #expect(Array(recorder.frames[0].prefix(2)) == [0x47, 0x28]) // golden frame: PART_ID read
        // The software reset comes before any configuration write.
        let resetIndex = try #require(recorder.frames.firstIndex { $0 == Frame.write(.CONFIG1, 1) })
        let firstCalibration = try #require(recorder.frames.firstIndex { Array($0.prefix(2)) == CommandHeader.write(.IGAIN(.a)).bytes })
        let runIndex = try #require(recorder.frames.firstIndex { $0 == Frame.write(.RUN, 1) })
        #expect(resetIndex < firstCalibration && firstCalibration < runIndex)

        for (phase, calibration) in nibV3Calibration {
            #expect(chip.peek(.IGAIN(phase)) == UInt32(bitPattern: calibration.igain))
            #expect(chip.peek(.VGAIN(phase)) == UInt32(bitPattern: calibration.vgain))
            #expect(chip.peek(.PHCAL0(phase)) == UInt32(bitPattern: calibration.phcal0))
            #expect(chip.peek(.PGAIN(phase)) == UInt32(bitPattern: calibration.pgain))
            #expect(chip.peek(.IRMSOS(phase)) == UInt32(bitPattern: calibration.irmsos))
            #expect(chip.peek(.VAROS(phase)) == UInt32(bitPattern: calibration.varos))
        }
        #expect(chip.peek(.RUN) == 1)
        #expect(chip.peek(.CONFIG1) == 0x0800) // BURST_EN
        #expect(chip.peek(.EP_CFG) == 0xE001) // no-load off, add mode, EGY_PWR_EN
        #expect(chip.peek(.EGY_TIME) == 79)
        #expect(chip.peek(.VLEVEL) == 0x0022_EA28)
    }

    @Test(arguments: [true, false])
    func snapshotCodesMatchTheDatasheetScaling(burst: Bool) async throws {
        let (_, _, driver) = makeRig(.balanced(voltage: 230, current: 10, angle: 0), burst: burst)
        try await driver.initialize()
        let snapshot = try await driver.snapshot()
        for phase in Phase.allCases {
            let codes = snapshot[phase]
            // 10 A at cha_irms A/LSB, 230 V at cha_vrms V/LSB (ade9000.md §5.4: ≈ 6,311,330 and 17,300,658).
            #expect(relativeError(Double(codes.irms), 10 / ampsPerLSB) < 1e-4)
            #expect(relativeError(Double(codes.vrms), 230 / voltsPerLSB) < 1e-4)
            // xWATT = xIRMS · xVRMS · cos θ / 2^27 (≈ 813,530 for 2300 W).
            #expect(relativeError(Double(codes.watt), 2300 / wattsPerLSB) < 1e-3)
            #expect(abs(Double(codes.reactive)) < 2300 / wattsPerLSB * 1e-3)
            #expect(abs(PowerFactorFormat.value(codes.pf) - 1) < 1e-4)
        }
        #expect(abs(LinePeriod.frequency(snapshot.comPeriod) - 50) < 0.001)
    }

    /// ISUMRMS has no burst alias: it is one more register read (2 frames: data, CRC_SPI) in the snapshot's one
    /// transfer. The codes: the phasor sum of the three currents on the xIRMS scale (DS: the RMS of AI_PCF + BI_PCF + CI_PCF).
    @Test(arguments: [true, false])
    func theNeutralCurrentIsReadInTheSameTransfer(burst: Bool) async throws {
        // 20 A on L1, 10 A on L2, none on L3, all resistive: |20∠0° + 10∠−120°| = √(20² + 10² − 20·10) = √300 A.
        let scenario = Scenario(phases: [.init(voltageV: 230, currentA: 20), .init(voltageV: 230, currentA: 10), .init(voltageV: 230, currentA: 0)])
        let (_, _, driver) = makeRig(scenario, burst: burst)
        try await driver.initialize()
        let before = await driver.statistics
        let snapshot = try await driver.snapshot(includeEnergy: true, includeTemperature: false)
        let after = await driver.statistics
        let isumrms = try #require(snapshot.isumrms)
        #expect(relativeError(Double(isumrms), 300.0.squareRoot() / ampsPerLSB) < 2e-3, "ISUMRMS \(isumrms)")
        #expect(after.transfers - before.transfers == 1)
        // STATUS1, RUN, COM_PERIOD, ISUMRMS, ANGL_VA_VB, ANGL_VA_VC, 9 energy registers: 15 single reads; plus the burst
        // (or 30 more singles: IRMS, VRMS, WATT, VAR, VA, PF, VTHD, ITHD, IFRMS, VFRMS per phase).
        #expect(after.transactions - before.transactions == (burst ? 15 * 2 + 2 : 15 + 30))
    }

    @Test func energyAccumulatesAtTheDSPRate() async throws {
        let (clock, _, driver) = makeRig(.balanced(voltage: 230, current: 10, angle: 0))
        try await driver.initialize()
        let first = try #require(try await driver.snapshot().energy)
        clock.advance(seconds: 10)
        let second = try #require(try await driver.snapshot().energy)
        let whPerLSB = Energy45.wattHoursPerHiLSB(wattsPerLSB: wattsPerLSB)
        for phase in Phase.allCases {
            let lsb = Energy45.hiDelta(from: first[phase.rawValue].watthrHi, to: second[phase.rawValue].watthrHi)
            // 2300 W for 10 s = 6.3889 Wh; the user register moves in 10 ms steps, so allow one step.
            #expect(abs(Double(lsb) * whPerLSB - 2300 * 10 / 3600) < 2300 * 0.01 / 3600 + 1e-5)
        }
    }

    @Test func noCorruptedValueReachesASnapshot() async throws {
        let (clock, chip, driver) = makeRig(.balanced(voltage: 230, current: 10, angle: 0))
        try await driver.initialize()
        chip.faults = Faults(crcCorruptionProbability: 0.01)
        let expectedWatt = 2300 / wattsPerLSB, expectedIrms = 10 / ampsPerLSB, expectedVrms = 230 / voltsPerLSB
        for _ in 0..<1000 {
            clock.advance(seconds: 1)
            let snapshot = try await driver.snapshot(includeEnergy: true, includeTemperature: true)
            for codes in snapshot.phases {
                // A single flipped bit moves a value by at least 1 LSB and up to 2^31; noise is ±2 LSB.
                #expect(abs(Double(codes.irms) - expectedIrms) < 2 * expectedIrms * 1e-4)
                #expect(abs(Double(codes.vrms) - expectedVrms) < 2 * expectedVrms * 1e-4)
                #expect(abs(Double(codes.watt) - expectedWatt) < expectedWatt * 1e-3)
            }
            #expect(abs(LinePeriod.frequency(snapshot.comPeriod) - 50) < 0.001)
            #expect(abs((snapshot.temperatureCelsius ?? 0) - 35) < 0.1)
        }
        let statistics = await driver.statistics
        #expect(statistics.crcMismatches > 50) // about 1 % of ~30,000 reads were corrupted and read again
        #expect(statistics.reinitialisations == 0)
    }

    @Test func aSilentResetIsDetectedAndTheChipSetUpAgain() async throws {
        let (clock, chip, driver) = makeRig(.balanced(voltage: 230, current: 10, angle: 0))
        try await driver.initialize()
        clock.advance(seconds: 1)
        chip.resetSilently()
        #expect(chip.peek(.IGAIN(.a)) == 0)
        let snapshot = try await driver.snapshot()
        #expect(snapshot.reinitialised)
        #expect(chip.peek(.IGAIN(.a)) == UInt32(bitPattern: nibV3Calibration[.a]!.igain))
        #expect(relativeError(Double(snapshot[.a].watt), 2300 / wattsPerLSB) < 1e-3)
        clock.advance(seconds: 1)
        let next = try await driver.snapshot()
        #expect(!next.reinitialised)
        #expect(await driver.statistics.reinitialisations == 1)
    }

    @Test(arguments: [Faults.DeadBus.allOnes, .allZeros])
    func aDeadBusIsNoChip(bus: Faults.DeadBus) async throws {
        let (_, chip, driver) = makeRig()
        chip.faults = Faults(deadBus: bus)
        let error = await #expect(throws: ADE9000Error.self) { try await driver.initialize() }
        let value = bus == .allOnes ? "0xFFFFFFFF" : "0x00000000"
        #expect(error?.code == .noChip)
        #expect(error?.description.contains("no ADE9000 answered on simulator (PART_ID read \(value)") == true)
    }

    @Test func aBusThatDiesWhileRunningThrowsInsteadOfReturningValues() async throws {
        let (_, chip, driver) = makeRig()
        try await driver.initialize()
        chip.faults = Faults(deadBus: .allOnes)
        await #expect(throws: ADE9000Error.self) { try await driver.snapshot() }
    }

    @Test func writesAreVerifiedByReadBack() async throws {
        let (_, chip, driver) = makeRig()
        try await driver.initialize()
        try await driver.write(.IGAIN(.b), 12345)
        #expect(chip.peek(.IGAIN(.b)) == 12345)
        // A write-locked chip ignores the write: the read-back catches it and names the register.
        try await driver.writeWithoutReadback(.WR_LOCK, 0x3C64)
        let error = await #expect(throws: ADE9000Error.self) { try await driver.write(.IGAIN(.b), 999) }
        #expect(error?.code == .verify)
        #expect(error?.description.contains("BIGAIN (0x020)") == true)
    }

    @Test func temperatureIsReadFromTheDie() async throws {
        let (_, _, driver) = makeRig(Scenario(phases: Scenario.balanced().phases, temperatureC: 42))
        try await driver.initialize()
        let snapshot = try await driver.snapshot(includeTemperature: true)
        #expect(abs((snapshot.temperatureCelsius ?? 0) - 42) < 0.06) // one TEMP_RSLT step is 0.05 °C
    }
}
