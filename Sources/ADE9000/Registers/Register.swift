// SPDX-License-Identifier: Apache-2.0

/// One ADE9000 register: its datasheet name, address, width and what the driver may do with it.
///
/// The whole map is data (``Register/all``); framing reads the width from the record, never from an
/// address test of its own. Facts come from the ADE9000 data sheet Rev. B, Table 6 (pp. 44–57) and
/// Table 7 (pp. 58–78), cited as "DS".
public struct Register: Hashable, Sendable, CustomStringConvertible {
    /// Datasheet spelling, e.g. `AIRMS`, `EP_CFG`.
    public let name: String
    /// 12-bit address, 0x000–0xFFF.
    public let address: UInt16
    public let width: RegisterWidth
    public let access: Access
    /// Value after power-up or reset.
    public let resetValue: UInt32
    /// How the bits read: signed, unsigned, 24-bit field…
    public let format: Format
    /// The DSP changes it on its own: never cached, never verified by read-back.
    public let isVolatile: Bool

    public enum Access: Sendable, Hashable { case readOnly, readWrite, writeOnly }

    public enum Format: Sendable, Hashable {
        /// Two's complement 32-bit.
        case s32
        /// Unsigned 32-bit.
        case u32
        /// Value in bits [23:0], [31:24] reserved 0 (DS §"24-bit fields").
        case u24
        /// 16-bit register.
        case u16
        /// Signed fixed point 5.27: value / 2^27 (xPF, xTHD; DS eq. 15 p.39).
        case s5_27
    }

    public init(_ name: String, _ address: UInt16, access: Access = .readWrite, reset: UInt32 = 0,
                format: Format? = nil, volatile: Bool = false) {
        precondition(address <= 0xFFF, "ADE9000 addresses are 12 bits")
        self.name = name
        self.address = address
        self.width = RegisterWidth(address: address)
        self.access = access
        self.resetValue = reset
        self.format = format ?? (self.width == .bits16 ? .u16 : .u32)
        self.isVolatile = volatile || access == .readOnly
    }

    public var description: String { "\(name) (0x\(hex(address, digits: 3)))" }
}

/// Register width, decided by the datasheet rule alone.
public enum RegisterWidth: Int, Sendable, Hashable {
    case bits16 = 16
    case bits32 = 32

    /// Registers 0x480–0x4FE inclusive are 16 bits, all others 32 (DS Table 6 pp. 53–54: exactly these
    /// carry 4-digit reset values; Table 7 fields there stop at bit 15). The Linux driver's exclusive
    /// test wrongly makes RUN and VERSION 32-bit; this rule is inclusive on both ends.
    public init(address: UInt16) {
        self = (0x480...0x4FE).contains(address) ? .bits16 : .bits32
    }

    /// Data bytes on the wire.
    public var byteCount: Int { rawValue / 8 }
}

/// `hex(0x2E7, digits: 3)` is `"2E7"`.
@inlinable
public func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
