// SPDX-License-Identifier: Apache-2.0

/// The 16-bit CMD_HDR the master clocks first in every transaction (DS Figure 72 p.42):
/// bits 15..4 address, bit 3 R/W (1 = read), bits 2..0 don't care (sent as 0).
public struct CommandHeader: Hashable, Sendable {
    public let address: UInt16
    public let isRead: Bool

    public init(address: UInt16, isRead: Bool) {
        precondition(address <= 0xFFF, "ADE9000 addresses are 12 bits")
        self.address = address
        self.isRead = isRead
    }

    public static func read(_ register: Register) -> CommandHeader { .init(address: register.address, isRead: true) }
    public static func write(_ register: Register) -> CommandHeader { .init(address: register.address, isRead: false) }

    /// The header word: `address << 4 | 0x8` for a read. PART_ID read is 0x4728.
    public var rawValue: UInt16 { address << 4 | (isRead ? 0x0008 : 0) }

    /// Big-endian bytes on MOSI: reading PART_ID sends `47 28`.
    public var bytes: [UInt8] { [UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)] }
}
