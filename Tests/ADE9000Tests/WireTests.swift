// SPDX-License-Identifier: Apache-2.0

import ADE9000
import Testing

/// Framing and CRC against the datasheet (DS Figure 72 p.42) and CRC-16/CCITT-FALSE vectors.
@Suite struct WireTests {
    static let headerTable: [(Register, Bool, [UInt8])] = [
        (.PART_ID, true, [0x47, 0x28]),
        (.VERSION, true, [0x4F, 0xE8]),
        (.IRMS(.a), true, [0x20, 0xC8]),
        (.RUN, false, [0x48, 0x00]),
        (Register.burstAlias("IRMS", .a)!, true, [0x68, 0x28]),
    ]

    @Test(arguments: headerTable)
    func commandHeader(register: Register, read: Bool, expected: [UInt8]) {
        #expect(CommandHeader(address: register.address, isRead: read).bytes == expected)
    }

    @Test func waveformBufferBurstHeader() {
        #expect(CommandHeader(address: 0x800, isRead: true).bytes == [0x80, 0x08])
    }

    static let crcTable: [([UInt8], UInt16)] = [
        ([0x0C, 0x00], 0x5862),
        ([0x00, 0xFE], 0x13DE),
        ([0x00, 0x00], 0x1D0F),
        ([0x00, 0x00, 0x00, 0x00], 0x84C0),
        ([0x00, 0xA0, 0x00, 0x00], 0x395C),
        ([0x00, 0x04, 0x5D, 0x45], 0x3882),
        ([0x12, 0x34, 0x56, 0x78], 0x30EC),
        ([0x00, 0x80], 0x8C87), // ADE9078 capture (CAL): same SPI engine
        (Array("123456789".utf8), 0x29B1), // CRC-16/CCITT-FALSE check value
    ]

    @Test(arguments: crcTable)
    func crcVectors(bytes: [UInt8], crc: UInt16) {
        #expect(CRC16.ccittFalse(bytes) == crc)
    }

    @Test func crcOfRegisterValueUsesTheRegistersWidth() {
        #expect(CRC16.ccittFalse(value: 0x0C00, width: .bits16) == 0x5862)
        #expect(CRC16.ccittFalse(value: 0x00A0_0000, width: .bits32) == 0x395C)
    }

    @Test func readFrameHasRoomForDataAndCRC() {
        #expect(Frame.read(.PART_ID, withCRC: true) == [0x47, 0x28, 0, 0, 0, 0, 0, 0])
        #expect(Frame.read(.RUN, withCRC: true) == [0x48, 0x08, 0, 0, 0, 0])
        #expect(Frame.read(.RUN, withCRC: false).count == 4)
    }

    @Test func writeFramesAreBigEndianAtTheRegistersWidth() {
        #expect(Frame.write(.RUN, 1) == [0x48, 0x00, 0x00, 0x01])
        #expect(Frame.write(.IGAIN(.a), 0x001F_92E8) == [0x00, 0x00, 0x00, 0x1F, 0x92, 0xE8])
        #expect(Frame.write(.IGAIN(.b), UInt32(bitPattern: -1)) == [0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func decodesDataAndAppendedCRC() {
        let miso: [UInt8] = [0xFF, 0xFF, 0x00, 0xA0, 0x00, 0x00, 0x39, 0x5C]
        #expect(Frame.value(in: miso, width: .bits32) == 0x00A0_0000)
        #expect(Frame.appendedCRC(in: miso, width: .bits32) == 0x395C)
    }
}
