// SPDX-License-Identifier: Apache-2.0

/// The CRC the ADE9000 computes over the data it sends on MISO during a register read.
///
/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR, bytes in
/// most-significant first (TRM p.34 "based on CRC-16-CCITT", LFSR fed MSB first without bit reversal;
/// the DS says only "CRC-16", p.42). Only the data word is covered, never the command header.
public enum CRC16 {
    /// CRC of `bytes`.
    @inlinable
    public static func ccittFalse<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC of a register value sent big-endian in `width` bytes.
    public static func ccittFalse(value: UInt32, width: RegisterWidth) -> UInt16 {
        width == .bits16
            ? ccittFalse([UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
            : ccittFalse([UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                          UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    /// Byte-wise lookup table of the 0x1021 polynomial.
    @usableFromInline
    static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
