// SPDX-License-Identifier: Apache-2.0

import ADE9000

/// The half-cycle power-quality engine (TRM UG-1098 p.30 "Dip/Swell Indication"; ade9000.md §2.4, §2.5), run over
/// each DSP step while RUN = 1:
///
/// - xVRMSONE, xIRMSONE (IEC 61000-4-30 Urms½): at every half-cycle boundary (``HalfCycleClock``) the RMS over the
///   last line cycle, √(time-weighted mean of code²) of the model's xVRMS / xIRMS codes, so the same scale.
/// - Dips and swells per phase (``LevelDetector``) on xVRMSONE / 2^5 against DIP_LVL / SWELL_LVL, DIP_CYC /
///   SWELL_CYC: STATUS1.DIPx / SWELLx, EVENT_STATUS, DIPx / SWELLx.
/// - Overcurrent on the phases CONFIG3.OC_EN enables (bits 12–14; bit 15, the neutral, has no CT on this board):
///   xIRMSONE / 2^5 above OILVL sets STATUS1.OI and its OISTATUS bit on the half cycle it goes over, and OIx follows
///   the level while over (ADI's register description: "the latest value above OILVL").
/// - Zero-crossing timeout: a phase voltage without a crossing (below ZXTHRSH by ``ZeroCrossingSignal``'s rule) for
///   ZXTOUT + 1 samples since its last one sets STATUS1.ZXTOVx, once until crossings come back.
/// - SEQERR every SEQ_CYC line cycles while all three voltages cross zero, but not in the order A, B, C.
///
/// Cost: a step whose codes have not changed for a line cycle feeds all its half cycles to the detectors at once
/// (they add up counts in O(1)); half cycles are taken one by one only within a line cycle after a change. While
/// nothing counts, nothing changed and no register was written, a step costs a comparison of the model's codes
/// (``PowerQualityEngine/continueQuietly(from:to:_:)``).
extension ChipState {
    /// RUN written to 1: the detectors start from here, DIPx, SWELLx and OIx keep their contents.
    mutating func startPowerQuality() {
        powerQuality = PowerQualityEngine(start: sample,
                                          dipRegisters: Phase.allCases.map { value(.DIP($0)) },
                                          swellRegisters: Phase.allCases.map { value(.SWELL($0)) })
        registers[Register.EVENT_STATUS.address] = 0
    }

    /// STATUS1 written (write 1 to clear): clearing OI clears OISTATUS with it.
    mutating func status1Cleared(_ bits: UInt32) {
        if bits & Status1.OI.rawValue != 0 { registers[Register.OISTATUS.address] = 0 }
    }

    /// The registers the engine reads, kept by the engine until the next register write.
    struct PowerQualitySettings: Equatable {
        var dip: LevelDetector.Settings, swell: LevelDetector.Settings
        /// OILVL, and CONFIG3.OC_EN bits A, B, C in bits 0–2.
        var overcurrentLevel: UInt32, overcurrentEnabled: UInt32
        /// ZXTOUT + 1 samples.
        var zeroCrossingTimeout: Int64
        var zeroCrossingThreshold: UInt32
        /// 2·SEQ_CYC half cycles.
        var sequenceHalfCycles: Int64
    }

    /// The settings now. (A property, not an initialiser taking the chip: passing `self` would copy the whole state.)
    var powerQualitySettings: PowerQualitySettings {
        let irqMode = value(.CONFIG1) & Config1.DIP_SWELL_IRQ_MODE.rawValue != 0
        return PowerQualitySettings(
            dip: .init(threshold: value(.DIP_LVL) & 0xFF_FFFF, halfCycles: max(1, Int64(value(.DIP_CYC) & 0xFFFF)),
                       latchAtEntryAndExit: irqMode),
            swell: .init(threshold: value(.SWELL_LVL) & 0xFF_FFFF, halfCycles: max(1, Int64(value(.SWELL_CYC) & 0xFFFF)),
                         latchAtEntryAndExit: irqMode),
            overcurrentLevel: value(.OILVL) & 0xFF_FFFF, overcurrentEnabled: value(.CONFIG3) >> 12 & 0b111,
            zeroCrossingTimeout: Int64(value(.ZXTOUT) & 0xFFFF) + 1, zeroCrossingThreshold: value(.ZXTHRSH),
            sequenceHalfCycles: 2 * max(1, Int64(value(.SEQ_CYC) & 0xFFFF)))
    }

    // The per-phase registers by phase index, built once (each `Register.DIP(p)` makes a name string).
    static let dipAddresses = Phase.allCases.map { Register.DIP($0).address }
    static let swellAddresses = Phase.allCases.map { Register.SWELL($0).address }
    static let overcurrentAddresses = Phase.allCases.map { Register.OI($0).address }

    /// Runs the engine over the samples (a, b], in which `model` holds (a step never spans a disturbance edge).
    mutating func runPowerQuality(_ model: Model, from a: Int64, to b: Int64) {
        var inputs = PowerQualityEngine.Inputs(frequencyHz: scenario.frequencyHz)
        for i in 0..<3 {
            let phase = model.phases[i]
            inputs.voltage[i] = phase.vrms
            inputs.current[i] = phase.irms
            inputs.voltageAngleRad[i] = phase.voltageAngleRad
        }
        if powerQuality.continueQuietly(from: a, to: b, inputs) { return }
        let clock = HalfCycleClock(frequencyHz: inputs.frequencyHz)
        let continued = powerQuality.record(from: a, to: b, inputs, keep: clock.lineCycleSamples + 2)
        // The quiet steps before left the crossing phases' last crossings behind.
        powerQuality.catchUp(to: a)
        let settings: PowerQualitySettings
        if let cached = powerQuality.settings, continued, powerQuality.crossings != nil {
            settings = cached
        } else {
            settings = powerQualitySettings
            powerQuality.settings = settings
            powerQuality.quiet = false
            zeroCrossings(inputs, threshold: settings.zeroCrossingThreshold)
        }
        let crossings = powerQuality.crossings ?? PerPhase(repeating: nil)
        var zeroCrossingsQuiet = true
        for p in Phase.allCases {
            let i = p.rawValue
            watchZeroCrossings(p, crossings[i], from: a, to: b, timeout: settings.zeroCrossingTimeout)
            if let signal = crossings[i] {
                zeroCrossingsQuiet = zeroCrossingsQuiet && Int64((1 / signal.halfCyclesPerSample).rounded(.up)) + 1 < settings.zeroCrossingTimeout
            } else {
                zeroCrossingsQuiet = zeroCrossingsQuiet && powerQuality.timedOut[i]
            }
        }
        powerQuality.zeroCrossingsQuiet = zeroCrossingsQuiet

        var k = clock.index(atOrBefore: a) + 1
        let last = clock.index(atOrBefore: b)
        guard k <= last else { return }
        checkSequence(halfCycles: last - k + 1, period: settings.sequenceHalfCycles)
        while k <= last {
            let start = clock.boundary(k - 2), end = clock.boundary(k)
            if start >= powerQuality.steadySince {
                // Every window from here to b lies in one stretch of constant codes.
                if powerQuality.quiet { return }
                let steady = powerQuality.steady
                halfCycles(voltage: steady.voltage, current: steady.current, count: last - k + 1, settings)
                powerQuality.quiet = powerQuality.detectorsIdle
                return
            }
            let window = powerQuality.rms(from: start, to: end)
            halfCycles(voltage: window.voltage, current: window.current, count: 1, settings)
            powerQuality.quiet = false
            k += 1
        }
    }

    /// The phases' zero-crossing signals and the sequence they make, for these inputs (kept by the engine).
    private mutating func zeroCrossings(_ inputs: PowerQualityEngine.Inputs, threshold: UInt32) {
        let signals = PerPhase(each: {
            ZeroCrossingSignal(vrms: inputs.voltage[$0], angleRad: inputs.voltageAngleRad[$0], frequencyHz: inputs.frequencyHz,
                               threshold: threshold)
        })
        // After A's rising crossing B's must come before C's (ade9000.md §2.5: SEQERR, "not in the order A, B, C").
        func lag(_ i: Int) -> Double {
            let turn = 2 * Double.pi
            let d = (inputs.voltageAngleRad[i] - inputs.voltageAngleRad[0]).truncatingRemainder(dividingBy: turn)
            return d < 0 ? d + turn : d
        }
        powerQuality.crossings = signals
        powerQuality.sequenceWrong = signals.a != nil && signals.b != nil && signals.c != nil && !(lag(1) > 0 && lag(1) < lag(2))
    }

    /// The 24-bit level of a half-cycle RMS code: the register's integer code / 2^5 (TRM p.30).
    static func level(_ code: Double) -> UInt32 {
        let integer = max(0, min(Double(UInt32.max), code.rounded()))
        return UInt32(integer) >> 5 & 0xFF_FFFF
    }

    /// `n` half cycles with the same xVRMSONE and xIRMSONE.
    private mutating func halfCycles(voltage: PhaseValues, current: PhaseValues, count n: Int64, _ s: PowerQualitySettings) {
        powerQuality.vrmsOne = voltage
        powerQuality.irmsOne = current
        var events: UInt32 = 0
        for p in Phase.allCases {
            let i = p.rawValue, level = Self.level(voltage[i])
            if powerQuality.dips[i].halfCycles(level: level, count: n, s.dip) { raise(.DIP(p)) }
            if powerQuality.swells[i].halfCycles(level: level, count: n, s.swell) { raise(.SWELL(p)) }
            store(powerQuality.dips[i].register, at: Self.dipAddresses[i])
            store(powerQuality.swells[i].register, at: Self.swellAddresses[i])
            if powerQuality.dips[i].isActive { events |= EventStatus.DIP(p).rawValue }
            if powerQuality.swells[i].isActive { events |= EventStatus.SWELL(p).rawValue }

            // The same level n times: the first half cycle decides, the rest repeat it.
            let currentLevel = Self.level(current[i])
            let over = s.overcurrentEnabled >> UInt32(i) & 1 == 1 && currentLevel > s.overcurrentLevel
            if over {
                if !powerQuality.overcurrent[i] {
                    raise(.OI)
                    registers[Register.OISTATUS.address, default: 0] |= OvercurrentStatus.phase(p).rawValue
                }
                store(currentLevel, at: Self.overcurrentAddresses[i])
            }
            powerQuality.overcurrent[i] = over
        }
        store(events, at: Register.EVENT_STATUS.address)
    }

    /// Writes a register the engine computes, only when it changes (most half cycles change nothing).
    private mutating func store(_ value: UInt32, at address: UInt16) {
        if registers[address] != value { registers[address] = value }
    }

    private mutating func raise(_ bits: Status1) { registers[Register.STATUS1.address, default: 0] |= bits.rawValue }

    /// STATUS1.ZXTOVx: set when ZXTOUT + 1 samples pass after the phase's last crossing without another one.
    private mutating func watchZeroCrossings(_ p: Phase, _ signal: ZeroCrossingSignal?, from a: Int64, to b: Int64, timeout: Int64) {
        let i = p.rawValue
        if let signal {
            let before = signal.crossings(through: a), through = signal.crossings(through: b)
            if through > before {
                // A gap longer than the timeout before the first crossing here (it comes within a half cycle after
                // a, so only a long wait needs it found), or between two crossings (a timeout shorter than a half
                // cycle fires every half cycle).
                let halfCycle = Int64((1 / signal.halfCyclesPerSample).rounded(.up))
                if !powerQuality.timedOut[i], a + halfCycle - powerQuality.lastCrossing[i] > timeout,
                   signal.sample(reaching: before + 1, after: a) - powerQuality.lastCrossing[i] > timeout {
                    raise(.ZXTOV(p))
                }
                if through - before >= 2, halfCycle > timeout { raise(.ZXTOV(p)) }
                powerQuality.lastCrossing[i] = signal.sample(reaching: through, after: a)
                powerQuality.timedOut[i] = false
            }
        }
        if !powerQuality.timedOut[i], b - powerQuality.lastCrossing[i] >= timeout {
            raise(.ZXTOV(p))
            powerQuality.timedOut[i] = true
        }
    }

    /// SEQERR: every SEQ_CYC line cycles (2·SEQ_CYC half cycles) in which all three voltages cross zero, but the
    /// crossings do not come in the order A, B, C.
    private mutating func checkSequence(halfCycles n: Int64, period: Int64) {
        guard powerQuality.sequenceWrong else { powerQuality.sequenceHalfCycles = 0; return }
        powerQuality.sequenceHalfCycles += n
        if powerQuality.sequenceHalfCycles >= period {
            raise(.SEQERR)
            powerQuality.sequenceHalfCycles %= period
        }
    }
}
