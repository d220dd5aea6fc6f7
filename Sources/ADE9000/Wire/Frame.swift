// SPDX-License-Identifier: Apache-2.0

/// Builds the MOSI bytes of ADE9000 transactions and decodes what comes back on MISO (DS p.42, TRM p.32).
///
/// A read frame is `CMD_HDR, 0…` long enough for the data (and the 16-bit CRC when the chip appends one);
/// MISO bytes 0–1 are don't-care, data follows big-endian, then CRC hi, CRC lo. A write frame is
/// `CMD_HDR, data`: writes carry no CRC; the driver verifies them by reading back.
public enum Frame {
    /// MOSI bytes for reading `register`, with room for the CRC when `withCRC`.
    public static func read(_ register: Register, withCRC: Bool) -> [UInt8] {
        CommandHeader.read(register).bytes + [UInt8](repeating: 0, count: register.width.byteCount + (withCRC ? 2 : 0))
    }

    /// MOSI bytes for a burst read of `count` consecutive 32-bit registers starting at `register`
    /// (0x500–0x63C, 0x680–0x6BC, with CONFIG1.BURST_EN = 1; DS Table 7 p.70). No CRC is appended.
    public static func burstRead(from register: Register, count: Int) -> [UInt8] {
        precondition(register.width == .bits32 && count > 0)
        return CommandHeader.read(register).bytes + [UInt8](repeating: 0, count: 4 * count)
    }

    /// MOSI bytes writing `value` to `register`, truncated to the register's width.
    public static func write(_ register: Register, _ value: UInt32) -> [UInt8] {
        let data: [UInt8] = register.width == .bits16
            ? [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
            : [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
               UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        return CommandHeader.write(register).bytes + data
    }

    /// The data word of a read reply, big-endian from byte 2.
    public static func value(in miso: [UInt8], width: RegisterWidth, at offset: Int = 2) -> UInt32 {
        var value: UInt32 = 0
        for index in offset..<(offset + width.byteCount) { value = value << 8 | UInt32(miso[index]) }
        return value
    }

    /// The CRC the chip appended after the data word of a read reply.
    public static func appendedCRC(in miso: [UInt8], width: RegisterWidth) -> UInt16 {
        let at = 2 + width.byteCount
        return UInt16(miso[at]) << 8 | UInt16(miso[at + 1])
    }
}
