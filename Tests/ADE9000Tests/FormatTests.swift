// SPDX-License-Identifier: Apache-2.0

import ADE9000
import Testing

/// Number formats against the datasheet equations and the values worked out in ade9000.md.
@Suite struct FormatTests {
    @Test func gainIsOnePlusRegisterOver2To27() {
        #expect(Gain.multiplier(0) == 1)
        #expect(Gain.register(forMultiplier: 1.01) == 1_342_177) // +1 %
        #expect(abs(Gain.multiplier(2_069_224) - 1.015417) < 1e-6) // calib_aigain: +1.54 %
        #expect(Gain.multiplier(Int32(bitPattern: 0xFF8C_79E6)) < 1) // ADI's NIGAIN example is negative
        #expect(Gain.register(forMultiplier: 20) == nil)
    }

    @Test func energyRegistersAre45BitSigned() {
        // HI holds bits 44..13, LO[12:0] bits 12..0 (DS Fig. 65).
        #expect(Energy45.combine(hi: 1, lo: 0) == 8192)
        #expect(Energy45.combine(hi: 0, lo: 0xFFFF_FFFF) == 0x1FFF) // LO[31:13] unused
        #expect(Energy45.combine(hi: 0xFFFF_FFFF, lo: 0x1FFF) == -1)
        #expect(Energy45.combine(hi: 0x8000_0000, lo: 0) == -(1 << 44)) // most negative
        #expect(Energy45.combine(hi: 0x7FFF_FFFF, lo: 0x1FFF) == (1 << 44) - 1) // most positive
    }

    @Test func energyDifferencesSurviveTheWrap() {
        let top = Int64(1 << 44) - 100
        let wrapped = Int64(-(1 << 44)) + 50 // 150 LSB later, past the wrap
        #expect(Energy45.delta(from: top, to: wrapped) == 150)
        #expect(Energy45.hiDelta(from: 0xFFFF_FFF0, to: 0x0000_0010) == 32)
        #expect(Energy45.hiDelta(from: 0x10, to: 0x08) == -8)
    }

    @Test func whPerHiLSBFollowsFromTheDSPRate() {
        // W_LSB · 2^13 / (8000 · 3600); cha_watt of the CLEMAP file gives 8.0418e-7 Wh = cha_watthr / 8000.
        let chaWatt = 0.0028271847549624046, chaWatthr = 0.0064334159757366725
        let wh = Energy45.wattHoursPerHiLSB(wattsPerLSB: chaWatt)
        #expect(abs(wh - 8.0418e-7) < 1e-10)
        #expect(abs(wh * Energy45.clemapWatthrConvention / chaWatthr - 1) < 1e-12)
    }

    @Test func periodToFrequency() {
        #expect(abs(LinePeriod.frequency(0x00A0_0000) - 49.99999) < 1e-5) // reset value
        #expect(LinePeriod.register(forFrequency: 60) == 8_738_132)
        #expect(abs(LinePeriod.frequency(8_738_132) - 60) < 1e-5)
    }

    @Test func powerFactorIsSigned5Point27() {
        #expect(PowerFactorFormat.value(0x0800_0000) == 1)
        #expect(PowerFactorFormat.value(0xF800_0000) == -1)
        #expect(PowerFactorFormat.value(0x0400_0000) == 0.5)
    }

    /// THD % = xTHD / 2^27 × 100 (DS eq. 16 p.39): 0x20000000 is 400 %, 0x08000000 100 %.
    @Test func thdIsPercentIn5Point27() {
        #expect(HarmonicDistortionFormat.percent(0x2000_0000) == 400)
        #expect(HarmonicDistortionFormat.percent(0x0800_0000) == 100)
        #expect(abs(HarmonicDistortionFormat.percent(5_368_709) - 4) < 1e-6) // 4 % = 0.04 × 2^27
        #expect(HarmonicDistortionFormat.percent(0) == 0)
    }

    @Test func temperatureFollowsEquation18() {
        // TEMP_OFFSET 3200 → 100 °C, TEMP_GAIN 3277 → −0.050003 °C per LSB.
        let celsius = Temperature.celsius(result: 1300, trim: 0x0C80_0CCD)
        #expect(abs(celsius - (1300 * -3277.0 / 65_536 + 100)) < 1e-12)
        #expect(Temperature.celsius(result: 0xF000, trim: 0x0C80_0CCD) == 100) // only bits [11:0] count
    }

    @Test func signExtension() {
        #expect(Bits.signExtend24(0x00FF_FFFF) == -1)
        #expect(Bits.signExtend24(0x007F_FFFF) == 0x7F_FFFF)
        #expect(Bits.signExtend24(0xAB80_0000) == -0x80_0000) // reserved top byte ignored
    }

    @Test(arguments: [(-1.0, Int32(-24_412_285)), (1.0, 38_353_399), (2.0, 107_377_249), (0.0, 0)])
    func phaseCompensationRegister(degrees: Double, register: Int32) throws {
        let code = try #require(PhaseCompensation.register(degrees: degrees, lineFrequency: 50))
        #expect(abs(Int64(code) - Int64(register)) <= 1)
        #expect(abs(PhaseCompensation.degrees(register: register, lineFrequency: 50) - degrees) < 1e-6)
    }

    @Test func phaseCompensationRange() {
        #expect(abs(PhaseCompensation.maximumDegrees(lineFrequency: 50) - 2.25) < 1e-12)
        #expect(abs(PhaseCompensation.maximumDegrees(lineFrequency: 60) - 2.7) < 1e-12)
        #expect(PhaseCompensation.register(degrees: 2.3, lineFrequency: 50) == nil)
        #expect(PhaseCompensation.register(degrees: -15.1, lineFrequency: 50) == nil)
        // The CLEMAP calib_aphcal0 corrects a CT whose current leads by about 4.03° at 50 Hz.
        #expect(abs(PhaseCompensation.degrees(register: -63_482_710, lineFrequency: 50) + 4.03) < 0.01)
    }

    @Test func rmsOffsetActsOnTheSquare() {
        #expect(RMSOffset.apply(0, to: 1000) == 1000)
        #expect(abs(RMSOffset.apply(35, to: 0) - (35.0 * 32_768).squareRoot()) < 1e-9) // ≈ 1071 codes floor
        #expect(abs(RMSOffset.register(expected: 1000, measured: 990) - (1000.0 * 1000 - 990 * 990) / 32_768) < 1e-12)
    }
}
