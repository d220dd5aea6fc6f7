// SPDX-License-Identifier: Apache-2.0

// The metering subset of DS Table 6. Per-phase registers are built by functions of `Phase`, each using
// the stride the datasheet gives its block: 0x20 for calibration and measurements, 0x3C for energy.

extension Register {
    // MARK: Calibration (DSP RAM, 32-bit, R/W, reset 0; DS Table 6 pp. 44–45)

    public static func IGAIN(_ p: Phase) -> Register { .init("\(P(p))IGAIN", 0x000 + p.blockStride, format: .s32) }
    public static func PHCAL0(_ p: Phase) -> Register { .init("\(P(p))PHCAL0", 0x006 + p.blockStride, format: .s32) }
    public static func VGAIN(_ p: Phase) -> Register { .init("\(P(p))VGAIN", 0x00B + p.blockStride, format: .s32) }
    public static func IRMSOS(_ p: Phase) -> Register { .init("\(P(p))IRMSOS", 0x00C + p.blockStride, format: .s32) }
    public static func VRMSOS(_ p: Phase) -> Register { .init("\(P(p))VRMSOS", 0x00D + p.blockStride, format: .s32) }
    public static func PGAIN(_ p: Phase) -> Register { .init("\(P(p))PGAIN", 0x00E + p.blockStride, format: .s32) }
    public static func WATTOS(_ p: Phase) -> Register { .init("\(P(p))WATTOS", 0x00F + p.blockStride, format: .s32) }
    public static func VAROS(_ p: Phase) -> Register { .init("\(P(p))VAROS", 0x010 + p.blockStride, format: .s32) }
    public static func FWATTOS(_ p: Phase) -> Register { .init("\(P(p))FWATTOS", 0x011 + p.blockStride, format: .s32) }
    public static func FVAROS(_ p: Phase) -> Register { .init("\(P(p))FVAROS", 0x012 + p.blockStride, format: .s32) }
    /// Fundamental RMS offsets, the same squared-domain form as xIRMSOS (DS eq. 6 p.33). The driver leaves them at 0.
    public static func IFRMSOS(_ p: Phase) -> Register { .init("\(P(p))IFRMSOS", 0x013 + p.blockStride, format: .s32) }
    public static func VFRMSOS(_ p: Phase) -> Register { .init("\(P(p))VFRMSOS", 0x014 + p.blockStride, format: .s32) }

    /// ISUM_CFG in bits [1:0] selects what ISUMRMS sums (``CurrentSum``); the other bits stay 0 (DS Table 7, CONFIG0).
    public static let CONFIG0 = Register("CONFIG0", 0x060)
    /// ISUMRMS offset (DS Table 6). The DS gives no equation; taken to act as xIRMSOS does on xIRMS:
    /// ISUMRMS = √(ISUMRMS0² + 2^15 · ISUMRMSOS). The driver leaves it at its reset value 0.
    public static let ISUMRMSOS = Register("ISUMRMSOS", 0x06C, format: .s32)
    public static let VNOM = Register("VNOM", 0x071)
    /// Integrator coefficient: 0xFFFFE000 with a Rogowski coil (INTEN), else 0 (DS p.31).
    public static let DICOEFF = Register("DICOEFF", 0x072)

    // MARK: Measurements (32-bit, read-only; DS Table 6 pp. 45–49)

    public static func I_PCF(_ p: Phase) -> Register { .init("\(P(p))I_PCF", 0x20A + p.blockStride, access: .readOnly, format: .s32) }
    public static func V_PCF(_ p: Phase) -> Register { .init("\(P(p))V_PCF", 0x20B + p.blockStride, access: .readOnly, format: .s32) }
    public static func IRMS(_ p: Phase) -> Register { .init("\(P(p))IRMS", 0x20C + p.blockStride, access: .readOnly) }
    public static func VRMS(_ p: Phase) -> Register { .init("\(P(p))VRMS", 0x20D + p.blockStride, access: .readOnly) }
    public static func WATT(_ p: Phase) -> Register { .init("\(P(p))WATT", 0x210 + p.blockStride, access: .readOnly, format: .s32) }
    public static func VAR(_ p: Phase) -> Register { .init("\(P(p))VAR", 0x211 + p.blockStride, access: .readOnly, format: .s32) }
    public static func VA(_ p: Phase) -> Register { .init("\(P(p))VA", 0x212 + p.blockStride, access: .readOnly, format: .s32) }
    /// Fundamental RMS (FS 52,702,092 like xIRMS, DS p.38); needs VLEVEL and ACCMODE.SELFREQ (DS p.32).
    public static func IFRMS(_ p: Phase) -> Register { .init("\(P(p))IFRMS", 0x20E + p.blockStride, access: .readOnly) }
    public static func VFRMS(_ p: Phase) -> Register { .init("\(P(p))VFRMS", 0x20F + p.blockStride, access: .readOnly) }
    /// Fundamental active, reactive and apparent power (FS 20,694,066, DS pp. 33–34).
    public static func FWATT(_ p: Phase) -> Register { .init("\(P(p))FWATT", 0x213 + p.blockStride, access: .readOnly, format: .s32) }
    public static func FVAR(_ p: Phase) -> Register { .init("\(P(p))FVAR", 0x214 + p.blockStride, access: .readOnly, format: .s32) }
    public static func FVA(_ p: Phase) -> Register { .init("\(P(p))FVA", 0x215 + p.blockStride, access: .readOnly, format: .s32) }
    public static func PF(_ p: Phase) -> Register { .init("\(P(p))PF", 0x216 + p.blockStride, access: .readOnly, format: .s5_27) }
    /// Voltage and current THD, 5.27 fixed point, refreshed every 1.024 s with THD_PF_RDY (DS eq. 16 p.39).
    public static func VTHD(_ p: Phase) -> Register { .init("\(P(p))VTHD", 0x217 + p.blockStride, access: .readOnly, format: .s5_27) }
    public static func ITHD(_ p: Phase) -> Register { .init("\(P(p))ITHD", 0x218 + p.blockStride, access: .readOnly, format: .s5_27) }
    /// Filter-based RMS of ISUM, the sum of the phase current samples AI_PCF + BI_PCF + CI_PCF (± NI_PCF by
    /// CONFIG0.ISUM_CFG; DS Table 6, Table 7 CONFIG0). The samples add instantaneously, so it is the RMS of the
    /// phasor sum: the neutral current of a four-wire wye load. The same filter-based RMS of the same xI_PCF samples
    /// as xIRMS, so the same scale (52,702,092 codes for one channel at full scale; the sum may exceed it). No burst
    /// alias (the `_2` block ends at NIRMS1012_2, 0x6BC): a snapshot reads it as one more register.
    public static let ISUMRMS = Register("ISUMRMS", 0x269, access: .readOnly)
    /// Half-cycle RMS (IEC 61000-4-30 Urms½: over one line cycle, refreshed every half cycle), the values the dip,
    /// swell and overcurrent detectors compare (TRM p.30). Same scale as xIRMS/xVRMS (52,702,092 at full scale).
    public static func IRMSONE(_ p: Phase) -> Register { .init("\(P(p))IRMSONE", 0x219 + p.blockStride, access: .readOnly) }
    public static func VRMSONE(_ p: Phase) -> Register { .init("\(P(p))VRMSONE", 0x21A + p.blockStride, access: .readOnly) }
    /// 0x0000000C once RUN = 1 (DS Table 6 p.49).
    public static let VERSION2 = Register("VERSION2", 0x26A, access: .readOnly)

    // MARK: Energy (45-bit user registers split HI[31:0] = bits 44..13, LO[12:0]; DS Fig. 65 p.35)

    public static func WATTHR_LO(_ p: Phase) -> Register { .init("\(P(p))WATTHR_LO", 0x2E6 + p.energyStride, access: .readOnly) }
    public static func WATTHR_HI(_ p: Phase) -> Register { .init("\(P(p))WATTHR_HI", 0x2E7 + p.energyStride, access: .readOnly, format: .s32) }
    public static func VARHR_LO(_ p: Phase) -> Register { .init("\(P(p))VARHR_LO", 0x2F0 + p.energyStride, access: .readOnly) }
    public static func VARHR_HI(_ p: Phase) -> Register { .init("\(P(p))VARHR_HI", 0x2F1 + p.energyStride, access: .readOnly, format: .s32) }
    public static func VAHR_LO(_ p: Phase) -> Register { .init("\(P(p))VAHR_LO", 0x2FA + p.energyStride, access: .readOnly) }
    public static func VAHR_HI(_ p: Phase) -> Register { .init("\(P(p))VAHR_HI", 0x2FB + p.energyStride, access: .readOnly, format: .s32) }

    // MARK: Status, levels, identity (32-bit; DS Table 6 pp. 50–53)

    /// Write 1 to clear (DS p.41).
    public static let STATUS0 = Register("STATUS0", 0x402, volatile: true)
    /// Write 1 to clear; RSTDONE (bit 16) is set at the end of every reset.
    public static let STATUS1 = Register("STATUS1", 0x403, volatile: true)
    public static let MASK0 = Register("MASK0", 0x405)
    public static let MASK1 = Register("MASK1", 0x406)
    public static let EVENT_MASK = Register("EVENT_MASK", 0x407)
    /// The live state of the dip and swell detectors, bits [5:0] (``EventStatus``); read-only.
    public static let EVENT_STATUS = Register("EVENT_STATUS", 0x404, access: .readOnly, volatile: true)
    /// Overcurrent threshold, compared with xIRMSONE / 2^5 (the 24-bit scale of the PQ levels, TRM p.30).
    public static let OILVL = Register("OILVL", 0x409, reset: 0x00FF_FFFF, format: .u24)
    /// The half-cycle RMS current (/ 2^5) of a phase (or the neutral) in overcurrent, updated while above OILVL.
    public static func OI(_ p: Phase) -> Register { .init("OI\(P(p))", 0x40A + UInt16(p.rawValue), access: .readOnly, format: .u24) }
    public static let OIN = Register("OIN", 0x40D, access: .readOnly, format: .u24)
    public static let VLEVEL = Register("VLEVEL", 0x40F, reset: 0x0004_5D45, format: .u24)
    /// Dip threshold: xVRMSONE / 2^5 below it counts toward a dip (TRM p.30: DIP_LVL = xVRMSONE × 2^−5).
    public static let DIP_LVL = Register("DIP_LVL", 0x410, format: .u24)
    /// The lowest xVRMSONE / 2^5 of the phase's dip (TRM p.30); reset 0x7FFFFF.
    public static func DIP(_ p: Phase) -> Register { .init("DIP\(P(p))", 0x411 + UInt16(p.rawValue), access: .readOnly, reset: 0x007F_FFFF, format: .u24) }
    /// Swell threshold, on the scale of DIP_LVL.
    public static let SWELL_LVL = Register("SWELL_LVL", 0x414, reset: 0x00FF_FFFF, format: .u24)
    /// The highest xVRMSONE / 2^5 of the phase's swell.
    public static func SWELL(_ p: Phase) -> Register { .init("SWELL\(P(p))", 0x415 + UInt16(p.rawValue), access: .readOnly, format: .u24) }
    public static func PERIOD(_ p: Phase) -> Register {
        .init("\(P(p))PERIOD", 0x418 + UInt16(p.rawValue), access: .readOnly, reset: 0x00A0_0000)
    }
    public static let COM_PERIOD = Register("COM_PERIOD", 0x41B, access: .readOnly, reset: 0x00A0_0000)
    public static let LAST_DATA_32 = Register("LAST_DATA_32", 0x423, access: .readOnly)
    /// Bit 20 (ADE9000_ID) is 1; the other bits are unique per device (DS p.53, Table 7 p.70).
    public static let PART_ID = Register("PART_ID", 0x472, access: .readOnly, reset: 0x0010_0000)
    /// [31:16] TEMP_OFFSET, [15:0] TEMP_GAIN, trimmed per device at the factory (DS Table 7 p.70).
    public static let TEMP_TRIM = Register("TEMP_TRIM", 0x474, access: .readOnly)

    // MARK: 16-bit configuration and status (0x480–0x4FE; DS Table 6 pp. 53–54)

    /// Write 1 to start the DSP (DS p.53).
    public static let RUN = Register("RUN", 0x480)
    public static let CONFIG1 = Register("CONFIG1", 0x481)
    public static let ANGL_VA_VB = Register("ANGL_VA_VB", 0x482, access: .readOnly)
    public static let ANGL_VB_VC = Register("ANGL_VB_VC", 0x483, access: .readOnly)
    public static let ANGL_VA_VC = Register("ANGL_VA_VC", 0x484, access: .readOnly)
    public static func ANGL_V_I(_ p: Phase) -> Register {
        .init("ANGL_V\(P(p))_I\(P(p))", 0x485 + UInt16(p.rawValue), access: .readOnly)
    }
    /// Half cycles the half-cycle RMS must stay past DIP_LVL / SWELL_LVL before the mode changes (TRM p.30).
    public static let DIP_CYC = Register("DIP_CYC", 0x48B, reset: 0xFFFF)
    public static let SWELL_CYC = Register("SWELL_CYC", 0x48C, reset: 0xFFFF)
    /// Which currents crossed OILVL: bit 0 A, 1 B, 2 C, 3 N (``OvercurrentStatus``).
    public static let OISTATUS = Register("OISTATUS", 0x48F, access: .readOnly, volatile: true)
    public static let CFMODE = Register("CFMODE", 0x490)
    public static let COMPMODE = Register("COMPMODE", 0x491)
    public static let ACCMODE = Register("ACCMODE", 0x492)
    public static let CONFIG3 = Register("CONFIG3", 0x493, reset: 0xF000)
    public static let ZXTOUT = Register("ZXTOUT", 0x498, reset: 0xFFFF)
    public static let ZXTHRSH = Register("ZXTHRSH", 0x499, reset: 0x0009)
    public static let ZX_LP_SEL = Register("ZX_LP_SEL", 0x49A, reset: 0x001E)
    public static let SEQ_CYC = Register("SEQ_CYC", 0x49C, reset: 0x00FF)
    public static let PHSIGN = Register("PHSIGN", 0x49D, access: .readOnly)
    public static let WFB_CFG = Register("WFB_CFG", 0x4A0)
    /// Undocumented; ADI's no-OS driver expects 0x0063 after reset.
    public static let CONFIG5 = Register("CONFIG5", 0x4A4, reset: 0x0063)
    /// CRC-16 of the data sent on MISO during the last register read (DS p.42, TRM p.34).
    public static let CRC_SPI = Register("CRC_SPI", 0x4A9, access: .readOnly)
    public static let LAST_DATA_16 = Register("LAST_DATA_16", 0x4AC, access: .readOnly)
    public static let LAST_CMD = Register("LAST_CMD", 0x4AE, access: .readOnly)
    public static let CONFIG2 = Register("CONFIG2", 0x4AF, reset: 0x0C00)
    public static let EP_CFG = Register("EP_CFG", 0x4B0)
    public static let PWR_TIME = Register("PWR_TIME", 0x4B1, reset: 0x00FF)
    public static let EGY_TIME = Register("EGY_TIME", 0x4B2, reset: 0x00FF)
    public static let TEMP_CFG = Register("TEMP_CFG", 0x4B6, volatile: true)
    public static let TEMP_RSLT = Register("TEMP_RSLT", 0x4B7, access: .readOnly)
    public static let PGA_GAIN = Register("PGA_GAIN", 0x4B9)
    public static let CHNL_DIS = Register("CHNL_DIS", 0x4BA)
    /// 0x3C64 locks, 0x4AD1 unlocks; reads 1 when locked (DS p.42).
    public static let WR_LOCK = Register("WR_LOCK", 0x4BF)
    public static let VAR_DIS = Register("VAR_DIS", 0x4E0)
    /// Reset 0x00FE; `& 0xFFC0` is 0x00C0 on current silicon (DS Table 6 p.54).
    public static let VERSION = Register("VERSION", 0x4FE, access: .readOnly, reset: 0x00FE)

    // MARK: Burst aliases by phase ("_2", 0x680–0x6BC; DS Table 6 pp. 56–57)

    /// The order of the 19 phase-organised aliases, starting at 0x680 + 0x13 × phase.
    public static let burstPhaseLayout: [String] = [
        "V_PCF", "I_PCF", "IRMS", "VRMS", "WATT", "VA", "VAR", "FVAR", "PF", "VTHD", "ITHD",
        "FWATT", "FVA", "FIRMS", "FVRMS", "IRMSONE", "VRMSONE", "IRMS1012", "VRMS1012",
    ]

    /// The `_2` alias of a phase register (e.g. `AIRMS_2` at 0x682), nil if the quantity has none.
    public static func burstAlias(_ quantity: String, _ p: Phase) -> Register? {
        guard let index = burstPhaseLayout.firstIndex(of: quantity) else { return nil }
        return Register("\(P(p))\(quantity)_2", 0x680 + p.burstStride + UInt16(index), access: .readOnly)
    }

    /// Every register of the metering subset, for table tests, the simulator's register file and tools.
    public static let all: [Register] = {
        var list: [Register] = []
        for p in Phase.allCases {
            list += [IGAIN(p), PHCAL0(p), VGAIN(p), IRMSOS(p), VRMSOS(p), PGAIN(p), WATTOS(p), VAROS(p),
                     FWATTOS(p), FVAROS(p), IFRMSOS(p), VFRMSOS(p)]
        }
        list += [CONFIG0, ISUMRMSOS, VNOM, DICOEFF]
        for p in Phase.allCases {
            list += [I_PCF(p), V_PCF(p), IRMS(p), VRMS(p), IFRMS(p), VFRMS(p), WATT(p), VAR(p), VA(p),
                     FWATT(p), FVAR(p), FVA(p), PF(p), VTHD(p), ITHD(p), IRMSONE(p), VRMSONE(p)]
        }
        list += [ISUMRMS, VERSION2]
        for p in Phase.allCases {
            list += [WATTHR_LO(p), WATTHR_HI(p), VARHR_LO(p), VARHR_HI(p), VAHR_LO(p), VAHR_HI(p)]
        }
        list += [STATUS0, STATUS1, EVENT_STATUS, MASK0, MASK1, EVENT_MASK, OILVL] + Phase.allCases.map(OI)
        list += [OIN, VLEVEL, DIP_LVL] + Phase.allCases.map(DIP) + [SWELL_LVL] + Phase.allCases.map(SWELL)
        list += Phase.allCases.map(PERIOD)
        list += [COM_PERIOD, LAST_DATA_32, PART_ID, TEMP_TRIM]
        list += [RUN, CONFIG1, ANGL_VA_VB, ANGL_VB_VC, ANGL_VA_VC] + Phase.allCases.map(ANGL_V_I)
        list += [DIP_CYC, SWELL_CYC, OISTATUS]
        list += [CFMODE, COMPMODE, ACCMODE, CONFIG3, ZXTOUT, ZXTHRSH, ZX_LP_SEL, SEQ_CYC, PHSIGN, WFB_CFG,
                 CONFIG5, CRC_SPI, LAST_DATA_16, LAST_CMD, CONFIG2, EP_CFG, PWR_TIME, EGY_TIME, TEMP_CFG,
                 TEMP_RSLT, PGA_GAIN, CHNL_DIS, WR_LOCK, VAR_DIS, VERSION]
        for p in Phase.allCases {
            list += burstPhaseLayout.compactMap { burstAlias($0, p) }
        }
        return list
    }()

    /// Looks a register up by address in ``all``.
    public static func at(_ address: UInt16) -> Register? { byAddress[address] }

    private static let byAddress: [UInt16: Register] = Dictionary(all.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
}

/// Upper-case chip letter used in register names.
@inline(__always)
private func P(_ p: Phase) -> String { p.letter.uppercased() }
