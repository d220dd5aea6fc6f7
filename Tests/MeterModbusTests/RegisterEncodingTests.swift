// SPDX-License-Identifier: Apache-2.0

import MeterConfig
import MeterModbus
import Testing

/// Values as registers, against IEEE 754 bit patterns written out by hand (not computed by the code under test).
@Suite struct RegisterEncodingTests {
    /// (value, its IEEE 754 single as hex).
    @Test(arguments: [
        (230.0, UInt32(0x4366_0000)), (1.0, 0x3F80_0000), (-2.0, 0xC000_0000), (0.0, 0x0000_0000),
        (50.0, 0x4248_0000), (2300.5, 0x450F_C800), (-0.5, 0xBF00_0000),
    ])
    func float32InBothWordOrders(_ value: Double, _ bits: UInt32) {
        let high = UInt16(bits >> 16), low = UInt16(bits & 0xFFFF)
        #expect(RegisterEncoding.float32(value, .bigEndian) == [high, low])
        #expect(RegisterEncoding.float32(value, .littleEndian) == [low, high])
    }

    @Test func float32NaNAndOverflow() {
        #expect(RegisterEncoding.float32(.nan, .bigEndian) == [0x7FC0, 0x0000])
        #expect(RegisterEncoding.float32(1e300, .bigEndian) == [0x7F80, 0x0000]) // +infinity
        // Rounded to the nearest single: 0.1 is 0x3DCCCCCD.
        #expect(RegisterEncoding.float32(0.1, .bigEndian) == [0x3DCC, 0xCCCD])
    }

    /// (value, its IEEE 754 double as hex).
    @Test(arguments: [
        (1.0, UInt64(0x3FF0_0000_0000_0000)), (123_456.789, 0x40FE_240C_9FBE_76C9), (-2.0, 0xC000_0000_0000_0000),
        (0.0, 0), (1e9, 0x41CD_CD65_0000_0000),
    ])
    func float64InBothWordOrders(_ value: Double, _ bits: UInt64) {
        let words = [UInt16(bits >> 48), UInt16(bits >> 32 & 0xFFFF), UInt16(bits >> 16 & 0xFFFF), UInt16(bits & 0xFFFF)]
        #expect(RegisterEncoding.float64(value, .bigEndian) == words)
        #expect(RegisterEncoding.float64(value, .littleEndian) == words.reversed())
    }

    @Test func uint64AndUInt32() {
        #expect(RegisterEncoding.uint64(0x0102_0304_0506_0708, .bigEndian) == [0x0102, 0x0304, 0x0506, 0x0708])
        #expect(RegisterEncoding.uint64(0x0102_0304_0506_0708, .littleEndian) == [0x0708, 0x0506, 0x0304, 0x0102])
        #expect(RegisterEncoding.uint64(.max, .bigEndian) == [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])
        #expect(RegisterEncoding.uint32(1_795_000_000, .bigEndian) == [0x6AFD, 0x86C0]) // 0x6AFD86C0
        #expect(RegisterEncoding.uint32(1_795_000_000, .littleEndian) == [0x86C0, 0x6AFD])
    }
}
