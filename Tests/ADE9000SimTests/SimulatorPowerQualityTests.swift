// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import FoundationEssentials
import MeterClock
import MeterTesting
import Testing

/// The simulator's half-cycle power-quality engine against TRM UG-1098 p.30 ("Dip/Swell Indication"), with scripted
/// disturbances. Expected values come from the rules and arithmetic written here, not from the simulator:
/// xVRMSONE at a half-cycle boundary is the RMS over the last line cycle (two half cycles of 80 samples at 50 Hz,
/// boundaries every 80 samples from the chip's sample 0); a dip starts after DIP_CYC half cycles with
/// xVRMSONE / 2^5 < DIP_LVL and ends after DIP_CYC half cycles without; the levels are the half-cycle RMS code / 2^5.
/// On the ideal board (the NIB v3 transfer functions, no errors) the RMS codes are V / (V per LSB) and A / (A per LSB).
@Suite struct SimulatorPowerQualityTests {
    static let volts = 230.0, amps = 5.0
    /// xVRMS of 230 V and xIRMS of 5 A on the ideal board.
    static let vrms = volts / voltsPerLSB, irms = amps / ampsPerLSB
    static let samplesPerHalfCycle: Int64 = 80

    let clock = VirtualClock()

    static func scenario(_ disturbances: [ScenarioDisturbance] = [], angles: [Double]? = nil) -> Scenario {
        var scenario = Scenario.balanced(voltage: volts, current: amps)
        for (i, angle) in (angles ?? []).enumerated() { scenario.phases[i].voltageAngleDeg = angle }
        scenario.frontEnd = .ideal
        scenario.disturbances = disturbances
        return scenario
    }

    /// A chip whose time starts now (the origin of the disturbances' start_s), set up as the driver would set it up:
    /// DIP_LVL at 90 % and SWELL_LVL at 110 % of the 230 V code, DIP_CYC = SWELL_CYC = `halfCycles`, OILVL at 20 A,
    /// ZXTOUT 100 ms, SEQ_CYC 1, STATUS1 cleared, RUN = 1, energy every 80 samples.
    func runningChip(_ scenario: Scenario, clock: VirtualClock? = nil, irqAtEntryAndExit: Bool = true, halfCycles: UInt16 = 2,
                     overcurrentEnabled: Bool = true) throws -> SimulatedADE9000 {
        let chip = SimulatedADE9000(scenario: scenario, clock: clock ?? self.clock)
        _ = chip.peek(.RUN)
        let levels = PowerQualityLevels(
            dipLevel: PowerQualityLevels.code(rms: 0.9 * Self.vrms), swellLevel: PowerQualityLevels.code(rms: 1.1 * Self.vrms),
            dipHalfCycles: halfCycles, swellHalfCycles: halfCycles,
            overcurrentLevel: overcurrentEnabled ? PowerQualityLevels.code(rms: 20 / ampsPerLSB) : nil,
            zeroCrossingTimeout: PowerQualityLevels.zeroCrossingTimeout(seconds: 0.1))
        let config1 = (0b11 << 8) | (irqAtEntryAndExit ? Config1.DIP_SWELL_IRQ_MODE.rawValue : 0)
        _ = try chip.transfer(levels.configurationWrites.map { Frame.write($0.0, $0.1) } + [
            Frame.write(.CONFIG1, config1), Frame.write(.SEQ_CYC, 1), Frame.write(.EGY_TIME, 79), Frame.write(.EP_CFG, 1),
            Frame.write(.STATUS1, 0xFFFF_FFFF), Frame.write(.RUN, 1),
        ])
        return chip
    }

    func read(_ chip: SimulatedADE9000, _ register: Register) throws -> UInt32 {
        Frame.value(in: try chip.transfer([Frame.read(register, withCRC: false)])[0], width: RegisterWidth(address: register.address))
    }

    func clear(_ chip: SimulatedADE9000, _ bits: Status1) throws { _ = try chip.transfer([Frame.write(.STATUS1, bits.rawValue)]) }

    func status1(_ chip: SimulatedADE9000) throws -> Status1 { Status1(rawValue: try read(chip, .STATUS1)) }
    func events(_ chip: SimulatedADE9000) throws -> EventStatus { EventStatus(rawValue: try read(chip, .EVENT_STATUS)) }

    /// Moves the clock to `seconds` after the chip's start.
    func at(_ seconds: Double, _ start: Double) { clock.advance(seconds: start + seconds - clock.monotonic()) }

    /// Steps the clock by 1 ms (8 samples) until `condition` holds; the seconds since `start`, or nil by `limit`.
    func first(after start: Double, limit: Double, _ condition: () throws -> Bool) rethrows -> Double? {
        while clock.monotonic() - start < limit {
            clock.advance(seconds: 0.001)
            if try condition() { return clock.monotonic() - start }
        }
        return nil
    }

    /// The one-cycle windows (ending on each half-cycle boundary) whose RMS is below `threshold` of the steady
    /// value, for a level `level` from sample `from` for `length` samples, boundaries every 80 samples.
    static func windowsPast(from: Int64, length: Int64, level: Double, threshold: Double, above: Bool = false) -> Int {
        let window = 2 * samplesPerHalfCycle
        var count = 0
        for end in stride(from: (from / samplesPerHalfCycle - 1) * samplesPerHalfCycle,
                          through: (from + length) / samplesPerHalfCycle * samplesPerHalfCycle + 3 * window, by: Int(samplesPerHalfCycle)) {
            let inside = max(0, min(end, from + length) - max(end - window, from))
            let meanSquare = (Double(inside) * level * level + Double(window - inside)) / Double(window)
            if above ? meanSquare > threshold * threshold : meanSquare < threshold * threshold { count += 1 }
        }
        return count
    }

    // MARK: Dips

    @Test(arguments: [3.0, 3.005])
    func aDipLatchesAtItsEntryAndExitAndLastsItsBelowWindows(startS: Double) throws {
        let dip = ScenarioDisturbance(kind: "dip", phase: 2, startS: startS, durationMs: 200, levelPct: 70)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([dip]))
        // 200 ms = 1600 samples; aligned with the 80-sample half cycles: 21 windows below 90 %, else 20.
        let dipStart = Int64((start + startS) * 8000)
        let below = Self.windowsPast(from: dipStart, length: 1600, level: 0.7, threshold: 0.9)
        #expect(below == (dipStart % 80 == 0 ? 21 : 20))

        at(startS - 0.1, start)
        #expect(try status1(chip).isDisjoint(with: .powerQuality))
        #expect(try read(chip, .DIP(.b)) == 0x7F_FFFF)

        let entry = try #require(try first(after: start, limit: startS + 0.1) { try status1(chip).contains(.DIP(.b)) })
        #expect(try events(chip) == .DIP(.b))
        // After DIP_CYC = 2 half cycles of the dip, the second of them wholly inside it.
        #expect(entry > startS && entry <= startS + 0.03 + 0.0015)
        try clear(chip, .DIP(.b))

        // During the dip the half-cycle and the one-second registers both show 70 %.
        at(startS + 0.1, start)
        #expect(abs(Double(try read(chip, .VRMSONE(.b))) - 0.7 * Self.vrms) <= 3)
        #expect(abs(Double(try read(chip, .VRMS(.b))) - 0.7 * Self.vrms) <= 3)
        #expect(abs(Double(try read(chip, .VRMSONE(.a))) - Self.vrms) <= 3)
        #expect(try status1(chip).isDisjoint(with: .powerQuality)) // mode 1: no repeat inside

        let exit = try #require(try first(after: start, limit: startS + 0.4) { try events(chip).isEmpty })
        #expect(try status1(chip).contains(.DIP(.b)), "the exit latch")
        // Entry and exit are DIP_CYC half cycles after the first and after the last window below: as many half
        // cycles apart as there are windows below, within one half cycle of 200 ms.
        #expect(abs((exit - entry) - Double(below) * 0.01) <= 0.0015, "\(exit - entry) s for \(below) half cycles")
        #expect(abs(Double(try read(chip, .DIP(.b))) - Double(PowerQualityLevels.code(rms: 0.7 * Self.vrms))) <= 1)
        #expect(try read(chip, .DIP(.a)) == 0x7F_FFFF && read(chip, .DIP(.c)) == 0x7F_FFFF)

        // Afterwards: nothing more, and DIPB keeps the dip's lowest level.
        try clear(chip, .DIP(.b))
        at(startS + 1.5, start)
        #expect(try status1(chip).isDisjoint(with: .powerQuality))
        #expect(try events(chip).isEmpty)
        #expect(abs(Double(try read(chip, .DIP(.b))) - Double(PowerQualityLevels.code(rms: 0.7 * Self.vrms))) <= 1)
        #expect(abs(Double(try read(chip, .VRMS(.b))) - Self.vrms) <= 3)
    }

    @Test func withIrqMode0ADipLatchesEveryDipCycHalfCyclesAndNotAtItsExit() throws {
        let dip = ScenarioDisturbance(kind: "dip", phase: 2, startS: 1, durationMs: 200, levelPct: 70)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([dip]), irqAtEntryAndExit: false)
        let below = Self.windowsPast(from: Int64((start + 1) * 8000), length: 1600, level: 0.7, threshold: 0.9)
        // In the dip `below` half cycles from the entry to the exit: a latch at the entry and every 2 half cycles
        // after it while still inside (the exit's half cycle is outside).
        let expected = 1 + (below - 1) / 2
        var latches = 0
        while clock.monotonic() - start < 1.5 {
            clock.advance(seconds: 0.001)
            if try status1(chip).contains(.DIP(.b)) { latches += 1; try clear(chip, .DIP(.b)) }
        }
        #expect(latches == expected, "\(latches) latches for \(below) half cycles in the dip")
        #expect(try events(chip).isEmpty)
    }

    // MARK: Swells

    @Test func aThreeCycleSwellLatchesAndRecordsItsHighestLevel() throws {
        let swell = ScenarioDisturbance(kind: "swell", phase: 1, startS: 1, cycles: 3, levelPct: 115)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([swell]))
        // 3 cycles = 480 samples; windows above 110 % need more than 65 % of their samples at 115 %.
        let above = Self.windowsPast(from: Int64((start + 1) * 8000), length: 480, level: 1.15, threshold: 1.1, above: true)
        #expect(above == 5)

        let entry = try #require(try first(after: start, limit: 1.1) { try status1(chip).contains(.SWELL(.a)) })
        #expect(try events(chip) == .SWELL(.a))
        try clear(chip, .SWELL(.a))
        let exit = try #require(try first(after: start, limit: 1.2) { try events(chip).isEmpty })
        #expect(try status1(chip).contains(.SWELL(.a)))
        #expect(abs((exit - entry) - Double(above) * 0.01) <= 0.0015)
        #expect(abs(Double(try read(chip, .SWELL(.a))) - Double(PowerQualityLevels.code(rms: 1.15 * Self.vrms))) <= 1)
        #expect(try read(chip, .SWELL(.b)) == 0 && read(chip, .DIP(.a)) == 0x7F_FFFF)
    }

    // MARK: Interruptions and zero-crossing timeouts

    @Test func anInterruptionIsADipToZeroAndTimesOutTheZeroCrossings() throws {
        let interruption = ScenarioDisturbance(kind: "interruption", phase: 3, startS: 1, durationMs: 1000)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([interruption]))
        // ZXTOUT + 1 = 800 samples after the last crossing, which came within a half cycle (80 samples) before.
        at(1 + (800.0 - 80 - 8) / 8000, start)
        #expect(!(try status1(chip).contains(.ZXTOV(.c))))
        at(1 + (800.0 + 8) / 8000, start)
        #expect(try status1(chip).contains(.ZXTOV(.c)))
        #expect(try status1(chip).contains(.DIP(.c)))
        try clear(chip, .ZXTOV(.c))

        // 0 V and 0 A in the one-second registers too (noise ±2 LSB at most), and no energy for the phase.
        at(1.2, start)
        #expect(try read(chip, .VRMS(.c)) <= 2 && read(chip, .IRMS(.c)) <= 2)
        let energyC = chip.peek(.WATTHR_HI(.c)), energyA = chip.peek(.WATTHR_HI(.a))
        at(1.8, start)
        #expect(chip.peek(.WATTHR_HI(.c)) == energyC)
        // Phase A: 230 V × 5 A for 0.6 s = 4800 samples of AWATT (DS §3.3: xIRMS·xVRMS / 2^27), in HI units of 2^13.
        let awatt = Self.irms * Self.vrms / 134_217_728
        #expect(abs(Double(chip.peek(.WATTHR_HI(.a)) - energyA) - awatt * 4800 / 8192) <= awatt * 80 / 8192 + 2)
        #expect(!(try status1(chip).contains(.ZXTOV(.c))), "set once, not again while the phase stays dead")

        at(2.5, start)
        #expect(try read(chip, .DIP(.c)) == 0)
        #expect(try events(chip).isEmpty)
        #expect(abs(Double(try read(chip, .VRMS(.c))) - Self.vrms) <= 3)
        #expect(!(try status1(chip).contains(.ZXTOV(.c))))
    }

    // MARK: Overcurrent

    @Test(arguments: [true, false])
    func anOvercurrentSetsOIAndOISTATUSOnlyWhereOCEnIsOn(enabled: Bool) throws {
        let spike = ScenarioDisturbance(kind: "overcurrent", phase: 1, startS: 1, durationMs: 100, currentA: 40)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([spike]))
        if !enabled { _ = try chip.transfer([Frame.write(.CONFIG3, 0)]) } // OILVL stays at 20 A
        at(1.06, start)
        #expect(abs(Double(try read(chip, .IRMSONE(.a))) - 40 / ampsPerLSB) <= 3)
        #expect(abs(Double(try read(chip, .IRMS(.a))) - 40 / ampsPerLSB) <= 3)
        guard enabled else {
            at(1.5, start)
            #expect(!(try status1(chip).contains(.OI)))
            #expect(try read(chip, .OISTATUS) == 0 && read(chip, .OI(.a)) == 0)
            return
        }
        #expect(try status1(chip).contains(.OI))
        #expect(try read(chip, .OISTATUS) == OvercurrentStatus.phase(.a).rawValue)
        #expect(abs(Double(try read(chip, .OI(.a))) - Double(PowerQualityLevels.code(rms: 40 / ampsPerLSB))) <= 1)

        // After it OIA keeps the last level above OILVL: the window half in the spike (the spike starts on a
        // boundary), √((40² + 5²) / 2) = 28.5 A; the next window, 5 A, is below.
        at(1.5, start)
        let oia = try read(chip, .OI(.a))
        #expect(abs(Double(oia) - Double(PowerQualityLevels.code(rms: (812.5).squareRoot() / ampsPerLSB))) <= 1, "OIA \(oia) vs \(PowerQualityLevels.code(rms: (812.5).squareRoot() / ampsPerLSB)), 40 A \(PowerQualityLevels.code(rms: 40 / ampsPerLSB))")
        #expect(try read(chip, .OI(.b)) == 0)
        // OISTATUS goes with STATUS1.OI.
        #expect(try read(chip, .OISTATUS) != 0)
        try clear(chip, .OI)
        #expect(try read(chip, .OISTATUS) == 0)
    }

    // MARK: Sequence, steady state, reset

    @Test func aSwappedPhaseSequenceSetsSEQERREverySeqCycLineCycles() throws {
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario(angles: [0, 240, 120]))
        var latches = 0
        at(0.1, start)
        try clear(chip, .SEQERR)
        while clock.monotonic() - start < 1.1 {
            clock.advance(seconds: 0.001)
            if try status1(chip).contains(.SEQERR) { latches += 1; try clear(chip, .SEQERR) }
        }
        // SEQ_CYC = 1: one a line cycle, 50 in a second.
        #expect(abs(latches - 50) <= 1, "\(latches)")
    }

    @Test func withoutDisturbancesNothingIsSetAndTheHalfCycleRMSIsTheSteadyRMS() throws {
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario())
        at(3, start)
        #expect(try status1(chip).isDisjoint(with: [.powerQuality, .SEQERR]))
        #expect(try events(chip).isEmpty && read(chip, .OISTATUS) == 0)
        for p in Phase.allCases {
            #expect(try read(chip, .DIP(p)) == 0x7F_FFFF && read(chip, .SWELL(p)) == 0 && read(chip, .OI(p)) == 0)
            #expect(abs(Double(try read(chip, .VRMSONE(p))) - Self.vrms) <= 3)
            #expect(abs(Double(try read(chip, .IRMSONE(p))) - Self.irms) <= 3)
            // The burst aliases read the same.
            #expect(abs(Double(chip.peek(Register.burstAlias("VRMSONE", p)!)) - Self.vrms) <= 3)
            #expect(abs(Double(chip.peek(Register.burstAlias("IRMSONE", p)!)) - Self.irms) <= 3)
        }
    }

    @Test func theHalfCycleRegistersReadZeroUntilRun() throws {
        let chip = SimulatedADE9000(scenario: Self.scenario(), clock: clock)
        clock.advance(seconds: 1)
        #expect(chip.peek(.VRMSONE(.a)) == 0 && chip.peek(.IRMSONE(.c)) == 0)
    }

    enum ResetKind: CaseIterable { case software, resetPin, silent }

    @Test(arguments: ResetKind.allCases)
    func aResetClearsTheEngineAndItsRegisters(kind: ResetKind) throws {
        let dip = ScenarioDisturbance(kind: "dip", phase: 2, startS: 1, durationMs: 500, levelPct: 70)
        let spike = ScenarioDisturbance(kind: "overcurrent", phase: 3, startS: 1, durationMs: 500, currentA: 40)
        let start = clock.monotonic()
        let chip = try runningChip(Self.scenario([dip, spike]))
        at(1.2, start)
        #expect(try events(chip) == .DIP(.b))
        #expect(try read(chip, .OISTATUS) != 0 && read(chip, .OI(.c)) != 0 && read(chip, .DIP(.b)) != 0x7F_FFFF)
        switch kind {
        case .software: _ = try chip.transfer([Frame.write(.CONFIG1, Config1.SWRST.rawValue)])
        case .resetPin: chip.resetPin(high: false); chip.resetPin(high: true)
        case .silent: chip.resetSilently()
        }
        #expect(try status1(chip) == .RSTDONE)
        #expect(try events(chip).isEmpty && read(chip, .OISTATUS) == 0)
        for p in Phase.allCases {
            #expect(try read(chip, .DIP(p)) == 0x7F_FFFF && read(chip, .SWELL(p)) == 0 && read(chip, .OI(p)) == 0)
            #expect(try read(chip, .VRMSONE(p)) == 0)
        }
        // Running again with the reset's levels (DIP_LVL 0, OILVL 0xFFFFFF) in the middle of the dip: nothing.
        _ = try chip.transfer([Frame.write(.STATUS1, 0xFFFF_FFFF), Frame.write(.RUN, 1)])
        at(1.4, start)
        #expect(try status1(chip).isEmpty && events(chip).isEmpty)
        #expect(abs(Double(try read(chip, .VRMSONE(.b))) - 0.7 * Self.vrms) <= 3)
    }

    // MARK: The demo file, step sizes

    @Test func theDemoFileShowsEachDisturbanceOnItsPhase() throws {
        var scenario = try Scenario.load(path: Fixtures.scenario("pq-disturbances.json"))
        #expect(scenario.disturbances?.count == 4)
        scenario.frontEnd = .ideal
        let start = clock.monotonic()
        let chip = try runningChip(scenario)
        var seen: Status1 = []
        while clock.monotonic() - start < 13 {
            clock.advance(seconds: 0.1)
            seen.formUnion(try status1(chip))
        }
        #expect(seen.isSuperset(of: [.DIP(.b), .SWELL(.a), .DIP(.c), .ZXTOV(.c), .OI]))
        #expect(seen.isDisjoint(with: [.DIP(.a), .SWELL(.b), .SWELL(.c), .ZXTOV(.a), .ZXTOV(.b), .SEQERR]))
    }

    @Test(arguments: [50.0, 60, 49.9])
    func theRegistersDoNotDependOnHowTheClockSteps(frequency: Double) throws {
        var scenario = try Scenario.load(path: Fixtures.scenario("pq-disturbances.json"))
        scenario.frequencyHz = frequency
        scenario.frontEnd = .ideal
        // Half cycles one by one near every edge (2 ms steps, shorter than a half cycle), or whole steady stretches at once.
        let registers: [Register] = [.STATUS1, .EVENT_STATUS, .OISTATUS]
            + Phase.allCases.flatMap { [Register.DIP($0), .SWELL($0), .OI($0)] }
        var results: [[UInt32]] = []
        for step in [0.002, 0.25, 13] {
            let clock = VirtualClock()
            let chip = try runningChip(scenario, clock: clock)
            // The chip moves on when it is accessed: a read after every step.
            while clock.monotonic() < 1013 - 1e-9 { clock.advance(seconds: step); _ = chip.peek(.RUN) }
            results.append(registers.map { chip.peek($0) })
        }
        #expect(results[0] == results[1] && results[1] == results[2], "\(results)")
        #expect(results[0][0] & (Status1.DIP(.b).rawValue | Status1.OI.rawValue) != 0)
    }
}
