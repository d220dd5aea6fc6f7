// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterClock
import MeterTesting
import Testing

/// The simulator's energy accumulation against the datasheet: EP_CFG.EGY_TMR_MODE, EGY_LD_ACCUM and
/// RD_RST_EN, and EGY_TIME changed in the middle of a period (DS p.34, Table 7 p.76; TRM pp. 20–21, p.25).
/// Expected values come from the TRM's formulas: user energy = AWATT × samples in the period,
/// AWATTHR_HI = ⌊user energy · 2^−13⌋, LO = its 13 low bits; a period of EGY_TIME + 1 half line cycles is
/// (EGY_TIME + 1)·8000/(2f) samples.
@Suite struct SimulatorEnergyTests {
    // EP_CFG bits (DS Table 7 p.76).
    static let EGY_PWR_EN: UInt32 = 1 << 0, EGY_TMR_MODE: UInt32 = 1 << 1, EGY_LD_ACCUM: UInt32 = 1 << 4, RD_RST_EN: UInt32 = 1 << 5
    /// ZX_LP_SEL with LP_SEL = 11 and ZX_SEL = `zx` (00 VA, 01 VB, 10 VC, 11 combined; TRM p.26).
    static func zxLpSel(_ zx: UInt32) -> UInt32 { 0b11 << 3 | zx << 1 }

    let clock = VirtualClock()

    /// A noiseless chip on an error-free board, running, with energy on from the first sample (PWR_SETTLE = 11, 0 ms).
    func runningChip(_ scenario: Scenario = .balanced(), epCfg: UInt32, egyTime: UInt32, zxSel: UInt32 = 0b11) throws -> SimulatedADE9000 {
        var scenario = scenario
        scenario.frontEnd = .ideal
        scenario.noiseLSB = 0
        let chip = SimulatedADE9000(scenario: scenario, clock: clock)
        _ = try chip.transfer([Frame.write(.CONFIG1, 0b11 << 8), Frame.write(.ZX_LP_SEL, Self.zxLpSel(zxSel)),
                               Frame.write(.EGY_TIME, egyTime), Frame.write(.EP_CFG, epCfg), Frame.write(.RUN, 1)])
        return chip
    }

    /// The 45-bit user register from HI (bits 44..13, signed) and LO[12:0] (DS Fig. 65), read by back door.
    func userEnergy(_ chip: SimulatedADE9000, _ phase: Phase = .a) -> Int64 {
        Int64(Int32(bitPattern: chip.peek(.WATTHR_HI(phase)))) << 13 | Int64(chip.peek(.WATTHR_LO(phase)) & 0x1FFF)
    }

    /// AWATT over the bus; checked against DS §3.3 (xWATT = xIRMS·xVRMS·cos θ / 2^27) for 230 V, 10 A, PF 1.
    func awatt(_ chip: SimulatedADE9000, _ phase: Phase = .a) throws -> Int64 {
        let code = Int64(Int32(bitPattern: Frame.value(in: try chip.transfer([Frame.read(.WATT(phase), withCRC: false)])[0], width: .bits32)))
        #expect(abs(Double(code) - (10 / ampsPerLSB) * (230 / voltsPerLSB) / 134_217_728) < 2)
        return code
    }

    /// Clears EGYRDY, then advances in 1 ms steps until it is set again: the seconds that took, or nil by `limit`.
    func secondsToEGYRDY(_ chip: SimulatedADE9000, limit: Double) throws -> Double? {
        _ = try chip.transfer([Frame.write(.STATUS0, 1)])
        var waited = 0.0
        while waited < limit {
            clock.advance(seconds: 0.001)
            waited += 0.001
            if chip.peek(.STATUS0) & 1 != 0 { return waited }
        }
        return nil
    }

    @Test(arguments: [(50.0, UInt32(99)), (60, 59), (55, 4)])
    func lineCycleModeEndsAPeriodAfterEgyTimePlusOneHalfCycles(frequency: Double, egyTime: UInt32) throws {
        let chip = try runningChip(.balanced(frequency: frequency), epCfg: Self.EGY_PWR_EN | Self.EGY_TMR_MODE | Self.EGY_LD_ACCUM, egyTime: egyTime)
        let halfCycles = Double(egyTime + 1), seconds = halfCycles / (2 * frequency)
        clock.advance(seconds: 0.5)
        _ = try #require(try secondsToEGYRDY(chip, limit: 2 * seconds + 0.01)) // onto a period boundary
        let period = try #require(try secondsToEGYRDY(chip, limit: 2 * seconds + 0.01))
        #expect(abs(period - seconds) <= 0.0011, "EGYRDY every \(period) s, expected \(seconds) s")

        // Latch mode: the user register holds one period, AWATT × (EGY_TIME + 1)·8000/(2f) samples (rounded
        // to a whole sample either way when a half cycle is not a whole number of samples).
        let samples = halfCycles * 8000 / (2 * frequency)
        let allowed = Set([Int64(samples.rounded(.down)), Int64(samples.rounded(.up))])
        for phase in Phase.allCases {
            let watt = try awatt(chip, phase), energy = userEnergy(chip, phase)
            #expect(energy % watt == 0 && allowed.contains(energy / watt), "\(phase): \(Double(energy) / Double(watt)) samples, expected \(samples)")
        }
    }

    @Test func lineCycleModeCountsTheZeroCrossingsThatZXSelSelects() throws {
        // L3 is dead: its voltage stays below ZXTHRSH, so it has no zero crossings (TRM p.25).
        var scenario = Scenario.balanced()
        scenario.phases[2] = .init(voltageV: 0, currentA: 0)
        let runAt = clock.monotonic()
        let chip = try runningChip(scenario, epCfg: Self.EGY_PWR_EN | Self.EGY_TMR_MODE, egyTime: 9, zxSel: 0b10) // ZXVC
        let watt = try awatt(chip)
        #expect(try secondsToEGYRDY(chip, limit: 1.5) == nil)
        #expect(userEnergy(chip) == 0) // held in the internal accumulator, nothing moved

        // ZXVA: 10 half cycles at 50 Hz = 100 ms; all the energy held since RUN goes out with the first EGYRDY
        // (add mode), the samples after it stay in the internal accumulator.
        _ = try chip.transfer([Frame.write(.ZX_LP_SEL, Self.zxLpSel(0b00))])
        let wait = try #require(try secondsToEGYRDY(chip, limit: 0.2))
        #expect(wait <= 0.101)
        let elapsed = Int64(((clock.monotonic() - runAt) * 8000).rounded())
        #expect(userEnergy(chip) <= watt * elapsed && userEnergy(chip) >= watt * (elapsed - 16))

        // ZXCOMB, (VA + VB − VC)/2, is "stable even if one or more phases drops out" (TRM p.25).
        _ = try chip.transfer([Frame.write(.ZX_LP_SEL, Self.zxLpSel(0b11))])
        _ = try #require(try secondsToEGYRDY(chip, limit: 0.2))
        let period = try #require(try secondsToEGYRDY(chip, limit: 0.2))
        #expect(abs(period - 0.1) <= 0.0011)
    }

    @Test func sampleModeIsTheDefaultAndCountsSamples() throws {
        let chip = try runningChip(epCfg: Self.EGY_PWR_EN | Self.EGY_LD_ACCUM, egyTime: 799) // 800 samples = 100 ms
        clock.advance(seconds: 0.25)
        _ = try #require(try secondsToEGYRDY(chip, limit: 0.2))
        let period = try #require(try secondsToEGYRDY(chip, limit: 0.2))
        #expect(abs(period - 0.1) <= 0.0011)
        let watt = try awatt(chip)
        #expect(userEnergy(chip) == 800 * watt)
    }

    @Test(arguments: [false, true])
    func shrinkingEgyTimeEndsTheRunningPeriodWithoutLosingEnergy(latch: Bool) throws {
        let chip = try runningChip(epCfg: Self.EGY_PWR_EN | (latch ? Self.EGY_LD_ACCUM : 0), egyTime: 7999)
        let watt = try awatt(chip)
        clock.advance(seconds: 0.5) // 4000 of 8000 samples held in the internal accumulator
        #expect(userEnergy(chip) == 0)

        // The count already passed the new EGY_TIME + 1 = 80: the period ends with the next sample and carries
        // everything since RUN, neither less (energy lost) nor a negative part of it.
        _ = try chip.transfer([Frame.write(.STATUS0, 1), Frame.write(.EGY_TIME, 79)])
        clock.advance(seconds: 0.001)
        #expect(chip.peek(.STATUS0) & 1 != 0)
        #expect(abs(userEnergy(chip) - watt * 4001) <= watt * 8)

        // From then on 80-sample periods: add mode has all of 1.5 s less at most one period still held;
        // latch mode holds exactly one period.
        clock.advance(seconds: 0.999)
        if latch {
            #expect(userEnergy(chip) == watt * 80)
        } else {
            #expect(userEnergy(chip) <= watt * 12_000 && userEnergy(chip) >= watt * (12_000 - 80 - 8))
        }
    }

    @Test func readWithResetClearsTheRegisterThatWasRead() throws {
        let chip = try runningChip(epCfg: Self.EGY_PWR_EN | Self.RD_RST_EN, egyTime: 79) // add mode, 10 ms periods
        let watt = try awatt(chip)
        func busRead(_ register: Register) throws -> UInt32 {
            Frame.value(in: try chip.transfer([Frame.read(register, withCRC: false)])[0], width: .bits32)
        }
        clock.advance(seconds: 1) // 100 whole periods
        let energy = watt * 8000
        // TRM p.21: AWATTHR_HI = ⌊energy·2^−13⌋; reading it resets it, and AWATTHR_LO is not modified.
        #expect(Int64(Int32(bitPattern: try busRead(.WATTHR_HI(.a)))) == energy >> 13)
        #expect(chip.peek(.WATTHR_HI(.a)) == 0)
        #expect(Int64(chip.peek(.WATTHR_LO(.a))) == energy & 0x1FFF)
        #expect(try busRead(.WATTHR_HI(.a)) == 0)
        #expect(chip.peek(.WATTHR_HI(.b)) != 0) // only the register read

        // Reading LO resets LO and leaves HI (the back door resets nothing).
        clock.advance(seconds: 0.5)
        let since = (energy & 0x1FFF) + watt * 4000
        #expect(Int64(try busRead(.WATTHR_LO(.a))) == since & 0x1FFF)
        #expect(chip.peek(.WATTHR_LO(.a)) == 0)
        // HI accumulated from zero: it holds the old LO plus the 4000 samples since.
        #expect(Int64(Int32(bitPattern: chip.peek(.WATTHR_HI(.a)))) == since >> 13)

        // Without RD_RST_EN a read changes nothing.
        _ = try chip.transfer([Frame.write(.EP_CFG, Self.EGY_PWR_EN)])
        let hi = try busRead(.WATTHR_HI(.b))
        #expect(hi != 0 && chip.peek(.WATTHR_HI(.b)) == hi)
    }

    @Test func theDriverLeavesReadWithResetOffAndCountsSamples() async throws {
        // Errata (DS p.43, ade9000.md §3.4): RD_RST_EN does not work on silicon; the driver must keep it 0.
        let (_, chip, driver) = makeRig()
        try await driver.initialize()
        let epCfg = chip.peek(.EP_CFG)
        #expect(epCfg & Self.RD_RST_EN == 0)
        #expect(epCfg & Self.EGY_TMR_MODE == 0)
        #expect(epCfg & Self.EGY_PWR_EN != 0)
    }
}
