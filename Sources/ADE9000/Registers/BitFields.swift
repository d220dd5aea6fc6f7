// SPDX-License-Identifier: Apache-2.0

// Bit fields the driver sets, as typed values (DS Table 7). A value names what it selects, so no comment
// has to restate (and contradict) a hex constant.

/// STATUS0 bits (DS Table 7 pp. 60–61).
public struct Status0: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Energy moved into the user registers (every EGY_TIME + 1 samples, or half line cycles with EP_CFG.EGY_TMR_MODE).
    public static let EGYRDY = Status0(rawValue: 1 << 0)
    /// Power factor and THD updated (every 1.024 s).
    public static let THD_PF_RDY = Status0(rawValue: 1 << 21)
    public static let TEMP_RDY = Status0(rawValue: 1 << 25)
}

/// STATUS1 bits (DS Table 7 pp. 62–63).
public struct Status1: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The power-up or reset sequence finished. Not maskable (MASK1 bit 16 reserved).
    public static let RSTDONE = Status1(rawValue: 1 << 16)
    public static let ERROR0 = Status1(rawValue: 1 << 28)
    public static let ERROR1 = Status1(rawValue: 1 << 29)
    public static let ERROR2 = Status1(rawValue: 1 << 30)
    public static let ERROR3 = Status1(rawValue: 1 << 31)
    /// Error bits that call for a reset (ERROR0, ERROR1, ERROR3; DS p.63).
    public static let needsReset: Status1 = [.ERROR0, .ERROR1, .ERROR3]
    /// No voltage zero crossing on the phase for ZXTOUT + 1 samples (bits 6, 7, 8).
    public static func ZXTOV(_ p: Phase) -> Status1 { Status1(rawValue: 1 << (6 + UInt32(p.rawValue))) }
    /// A current enabled by CONFIG3.OC_EN entered overcurrent (xIRMSONE above OILVL); OISTATUS says which.
    public static let OI = Status1(rawValue: 1 << 17)
    /// The voltage zero crossings are not in the order A, B, C.
    public static let SEQERR = Status1(rawValue: 1 << 18)
    /// The phase's swell detector changed mode (bits 20, 21, 22): with CONFIG1.DIP_SWELL_IRQ_MODE once on entering a
    /// swell and once on leaving it, else every SWELL_CYC half cycles of a swell (TRM p.30).
    public static func SWELL(_ p: Phase) -> Status1 { Status1(rawValue: 1 << (20 + UInt32(p.rawValue))) }
    /// The same for dips (bits 23, 24, 25).
    public static func DIP(_ p: Phase) -> Status1 { Status1(rawValue: 1 << (23 + UInt32(p.rawValue))) }
    /// Every power-quality bit the event monitor reads and clears: dips, swells, overcurrent, zero-crossing timeouts.
    public static let powerQuality: Status1 = Status1(Phase.allCases.flatMap { [DIP($0), SWELL($0), ZXTOV($0)] } + [.OI])
}

/// EVENT_STATUS (0x404): the live state of the dip and swell detectors, set while a phase is in a dip or swell. The bit
/// order of STATUS1[25:20] in bits [5:0] (SWELLA 0 … DIPC 5): ADI's register header for the ADE9078 (the same chip
/// without dip and swell detection) leaves exactly these six bits free below REVPSUM1 (bit 6). To verify on hardware
/// (ade9000.md §7).
public struct EventStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func SWELL(_ p: Phase) -> EventStatus { EventStatus(rawValue: 1 << UInt32(p.rawValue)) }
    public static func DIP(_ p: Phase) -> EventStatus { EventStatus(rawValue: 1 << (3 + UInt32(p.rawValue))) }
}

/// OISTATUS (0x48F): which currents are over OILVL, bit 0 A, 1 B, 2 C, 3 N (OIPHASE[3:0]; the order of OIA…OIN).
public struct OvercurrentStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func phase(_ p: Phase) -> OvercurrentStatus { OvercurrentStatus(rawValue: 1 << UInt32(p.rawValue)) }
    public static let neutral = OvercurrentStatus(rawValue: 1 << 3)
}

/// CONFIG3 (0x493) OC_EN [15:12]: overcurrent detection per current, bit 12 A, 13 B, 14 C, 15 N (reset 0xF000, all on).
public enum OvercurrentEnable {
    public static func config3(phases: Bool, neutral: Bool) -> UInt32 { (phases ? 0x7 << 12 : 0) | (neutral ? 1 << 15 : 0) }
}

/// CONFIG0.ISUM_CFG (bits [1:0], DS Table 7 p.66): what the chip sums into ISUM, whose RMS is ISUMRMS.
public enum CurrentSum: UInt32, Sendable, Hashable, CaseIterable {
    /// 00: ISUM = AI_PCF + BI_PCF + CI_PCF, "for approximated neutral current rms calculation". (11 selects the same.)
    case phases = 0b00
    /// 01: ISUM = AI_PCF + BI_PCF + CI_PCF + NI_PCF, to find a mismatch between the neutral and phase currents.
    case phasesPlusNeutral = 0b01
    /// 10: ISUM = AI_PCF + BI_PCF + CI_PCF − NI_PCF.
    case phasesMinusNeutral = 0b10

    /// The CONFIG0 value with this selection and every other bit 0 (LPFs on, no integrator, HPF on, MTEN off).
    public var config0: UInt32 { rawValue }
}

/// CONFIG1 (0x481) bits (DS Table 7 p.70).
public struct Config1: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Software reset, self-clearing.
    public static let SWRST = Config1(rawValue: 1 << 0)
    /// Burst reads of 0x500–0x63C and 0x680–0x6BC; also stops the CRC being appended to any read.
    public static let BURST_EN = Config1(rawValue: 1 << 11)
    /// 1: STATUS1.DIPx/SWELLx set once on entering a dip or swell and once on leaving it; 0: every DIP_CYC/SWELL_CYC
    /// half cycles while in one (TRM p.30).
    public static let DIP_SWELL_IRQ_MODE = Config1(rawValue: 1 << 10)
}

/// EP_CFG (0x4B0) fields (DS Table 7 p.76).
public struct EnergyPowerConfig: Sendable, Hashable {
    /// Samples of no-load integration; `.disabled` turns no-load detection off (NOLOAD_TMR = 111).
    public enum NoLoadTimer: UInt32, Sendable { case samples64 = 0, samples128, samples256, samples512, samples1024, samples2048, samples4096, disabled }

    public var noLoadTimer: NoLoadTimer
    /// EGY_LD_ACCUM: false adds each period's energy to the user register, true overwrites (latches) it.
    public var latchEachPeriod: Bool
    /// EGY_TMR_MODE: false counts EGY_TIME in 8 kSPS samples, true in half line cycles.
    public var countHalfCycles: Bool
    /// EGY_PWR_EN: energy and power accumulation on (needs RUN = 1).
    public var accumulate: Bool

    public init(noLoadTimer: NoLoadTimer, latchEachPeriod: Bool, countHalfCycles: Bool, accumulate: Bool) {
        self.noLoadTimer = noLoadTimer; self.latchEachPeriod = latchEachPeriod
        self.countHalfCycles = countHalfCycles; self.accumulate = accumulate
    }

    public var rawValue: UInt32 {
        noLoadTimer.rawValue << 13 | (latchEachPeriod ? 1 << 4 : 0) | (countHalfCycles ? 1 << 1 : 0) | (accumulate ? 1 : 0)
    }
}

/// ACCMODE (0x492) fields (DS Table 7 p.72).
public struct AccumulationMode: Sendable, Hashable {
    /// SELFREQ: the line frequency the fundamental algorithms assume.
    public enum LineFrequency: UInt32, Sendable { case hz50 = 0, hz60 = 1 }
    public var lineFrequency: LineFrequency
    public init(lineFrequency: LineFrequency) { self.lineFrequency = lineFrequency }
    /// VCONSEL 000 (4-wire wye), WATTACC/VARACC 00 (signed accumulation).
    public var rawValue: UInt32 { lineFrequency.rawValue << 8 }
}

/// CONFIG2 (0x4AF) HPF_CRN [11:9]: the high-pass filter corner.
public enum HighPassCorner: UInt32, Sendable {
    case hz77_39 = 0, hz39_275, hz19_79, hz9_935, hz4_98, hz2_495, hz1_25, hz0_625
    public var config2: UInt32 { rawValue << 9 }
}

/// TEMP_CFG (0x4B6) bits (DS Table 7 p.77).
public enum TemperatureConfig {
    public static let TEMP_EN: UInt32 = 1 << 2
    /// Starts one conversion; self-clearing.
    public static let TEMP_START: UInt32 = 1 << 3
}

/// VLEVEL = x · 1,144,084 for full scale at x times the nominal voltage (DS p.32).
public enum VoltageLevel {
    public static func register(headroom x: Double) -> UInt32 { UInt32((x * 1_144_084).rounded()) }
}
