// SPDX-License-Identifier: Apache-2.0

import ADE9000
import Testing

/// The register table against DS Table 6 (pp. 44–57): addresses, widths, reset values.
@Suite struct RegisterMapTests {
    @Test(arguments: [
        (UInt16(0x47F), RegisterWidth.bits32), (0x480, .bits16), (0x4FE, .bits16), (0x4FF, .bits32),
        (0x000, .bits32), (0x20C, .bits32), (0x472, .bits32), (0x4B2, .bits16), (0x500, .bits32), (0x800, .bits32),
    ])
    func widthRule(address: UInt16, width: RegisterWidth) {
        #expect(RegisterWidth(address: address) == width)
    }

    @Test func everyRegisterFollowsTheWidthRuleAndHasAUniqueAddress() {
        var seen: [UInt16: String] = [:]
        for register in Register.all {
            #expect(register.width == ((0x480...0x4FE).contains(register.address) ? .bits16 : .bits32), "\(register)")
            #expect(seen[register.address] == nil, "\(register) shares its address with \(seen[register.address] ?? "")")
            seen[register.address] = register.name
            if register.width == .bits16 { #expect(register.resetValue <= 0xFFFF, "\(register)") }
        }
    }

    /// (name, address, reset) rows copied from DS Table 6.
    @Test(arguments: [
        ("AIGAIN", UInt16(0x000), UInt32(0)), ("APHCAL0", 0x006, 0), ("AVGAIN", 0x00B, 0), ("AIRMSOS", 0x00C, 0),
        ("AVRMSOS", 0x00D, 0), ("APGAIN", 0x00E, 0), ("AWATTOS", 0x00F, 0), ("AVAROS", 0x010, 0),
        ("BIGAIN", 0x020, 0), ("CIGAIN", 0x040, 0), ("BPHCAL0", 0x026, 0), ("CVGAIN", 0x04B, 0), ("CVAROS", 0x050, 0),
        ("CONFIG0", 0x060, 0), ("ISUMRMSOS", 0x06C, 0), ("DICOEFF", 0x072, 0), ("ISUMRMS", 0x269, 0),
        ("AIRMS", 0x20C, 0), ("AVRMS", 0x20D, 0), ("AWATT", 0x210, 0), ("AVAR", 0x211, 0), ("AVA", 0x212, 0),
        ("APF", 0x216, 0), ("BIRMS", 0x22C, 0), ("CIRMS", 0x24C, 0), ("CPF", 0x256, 0), ("VERSION2", 0x26A, 0),
        ("AWATTHR_LO", 0x2E6, 0), ("AWATTHR_HI", 0x2E7, 0), ("AVARHR_HI", 0x2F1, 0), ("AVAHR_HI", 0x2FB, 0),
        ("BWATTHR_HI", 0x323, 0), ("BVARHR_HI", 0x32D, 0), ("BVAHR_HI", 0x337, 0),
        ("CWATTHR_HI", 0x35F, 0), ("CVARHR_HI", 0x369, 0), ("CVAHR_HI", 0x373, 0),
        ("STATUS0", 0x402, 0), ("STATUS1", 0x403, 0), ("VLEVEL", 0x40F, 0x0004_5D45),
        ("APERIOD", 0x418, 0x00A0_0000), ("CPERIOD", 0x41A, 0x00A0_0000), ("COM_PERIOD", 0x41B, 0x00A0_0000),
        ("PART_ID", 0x472, 0x0010_0000), ("TEMP_TRIM", 0x474, 0),
        ("RUN", 0x480, 0), ("CONFIG1", 0x481, 0), ("ACCMODE", 0x492, 0), ("CONFIG3", 0x493, 0xF000),
        ("ZX_LP_SEL", 0x49A, 0x001E), ("CONFIG5", 0x4A4, 0x0063), ("CRC_SPI", 0x4A9, 0), ("CONFIG2", 0x4AF, 0x0C00),
        ("EP_CFG", 0x4B0, 0), ("PWR_TIME", 0x4B1, 0x00FF), ("EGY_TIME", 0x4B2, 0x00FF), ("TEMP_CFG", 0x4B6, 0),
        ("TEMP_RSLT", 0x4B7, 0), ("PGA_GAIN", 0x4B9, 0), ("WR_LOCK", 0x4BF, 0), ("VERSION", 0x4FE, 0x00FE),
        ("AIFRMSOS", 0x013, 0), ("AVFRMSOS", 0x014, 0), ("AIFRMS", 0x20E, 0), ("AVFRMS", 0x20F, 0), ("AFWATT", 0x213, 0),
        ("AFVAR", 0x214, 0), ("AFVA", 0x215, 0), ("AVTHD", 0x217, 0), ("AITHD", 0x218, 0), ("BVTHD", 0x237, 0), ("CITHD", 0x258, 0),
        ("AVTHD_2", 0x689, 0), ("AFVRMS_2", 0x68E, 0), ("CFVRMS_2", 0x6B4, 0),
        ("AIRMS_2", 0x682, 0), ("APF_2", 0x688, 0), ("BV_PCF_2", 0x693, 0), ("CPF_2", 0x6AE, 0), ("CVRMS1012_2", 0x6B8, 0),
    ])
    func datasheetRow(name: String, address: UInt16, reset: UInt32) throws {
        let register = try #require(Register.all.first { $0.name == name }, "\(name) is missing from the table")
        #expect(register.address == address)
        #expect(register.resetValue == reset)
        #expect(Register.at(address) == register)
    }

    @Test func perPhaseStridesAreThoseOfEachBlock() {
        #expect(Register.IRMS(.b).address - Register.IRMS(.a).address == 0x20)
        #expect(Register.WATTHR_HI(.c).address - Register.WATTHR_HI(.a).address == 0x78)
        #expect(Register.PERIOD(.b).address == 0x419)
    }

    @Test func bitFieldsEncodeTheirDatasheetValues() {
        #expect(HighPassCorner.hz1_25.config2 == 0x0C00) // CONFIG2 reset value, 1.25 Hz
        #expect(HighPassCorner.hz2_495.config2 == 0x0A00) // the Linux driver's 0x0A00 is 2.495 Hz, not 1.25 Hz
        #expect(EnergyPowerConfig(noLoadTimer: .samples64, latchEachPeriod: true, countHalfCycles: false, accumulate: true).rawValue == 0x0011)
        #expect(EnergyPowerConfig(noLoadTimer: .disabled, latchEachPeriod: false, countHalfCycles: false, accumulate: true).rawValue == 0xE001)
        #expect(AccumulationMode(lineFrequency: .hz60).rawValue == 0x0100)
        #expect(VoltageLevel.register(headroom: 2) == 0x0022_EA28)
        #expect(Config1.BURST_EN.rawValue == 0x0800)
        // CONFIG0.ISUM_CFG [1:0]: 00 sums AI_PCF + BI_PCF + CI_PCF (the neutral current), 01 adds NI_PCF, 10 subtracts it.
        #expect(CurrentSum.phases.config0 == 0x0000 && CurrentSum.phasesPlusNeutral.config0 == 0x0001 && CurrentSum.phasesMinusNeutral.config0 == 0x0002)
    }
}
