// SPDX-License-Identifier: Apache-2.0

/// The chip's CRC as the TRM draws it (p.34, Figures 46–48): an LFSR fed MISO bits most-significant
/// first, polynomial x^16 + x^12 + x^5 + 1, all ones at the start. Written bit by bit on purpose, apart
/// from the driver's table-driven version, so one cannot hide a mistake in the other.
enum WireCRC {
    static func lfsr(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var register: UInt16 = 0xFFFF
        for byte in bytes {
            for bit in (0..<8).reversed() {
                let input = (byte >> UInt8(bit)) & 1 == 1
                let feedback = (register & 0x8000 != 0) != input
                register <<= 1
                if feedback { register ^= 0x1021 }
            }
        }
        return register
    }
}
