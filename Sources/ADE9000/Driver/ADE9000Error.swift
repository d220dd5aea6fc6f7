// SPDX-License-Identifier: Apache-2.0

/// Why the driver could not talk to, set up or read the chip. One line, naming the device and register.
public struct ADE9000Error: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable { case noChip, notADE9000, crc, verify, timeout, bus, unresponsive }
        fileprivate let value: Value
        /// Nothing answered: PART_ID read all ones or all zeros.
        public static let noChip = Code(value: .noChip)
        /// Something answered, but PART_ID bit 20 (ADE9000_ID) is clear.
        public static let notADE9000 = Code(value: .notADE9000)
        /// Every attempt at a read came back with a CRC that did not match its data.
        public static let crc = Code(value: .crc)
        /// A register read back a different value than was written.
        public static let verify = Code(value: .verify)
        /// The chip did not reach a state in time (RSTDONE, first power factor).
        public static let timeout = Code(value: .timeout)
        /// The transport failed.
        public static let bus = Code(value: .bus)
        /// The chip answered before and now does not (all ones or all zeros), or ignored a software reset:
        /// only its RESET pin (``ChipResetLine``) or a power cycle brings it back.
        public static let unresponsive = Code(value: .unresponsive)
        public var description: String { "\(value)" }
    }

    public let code: Code
    /// The device and, where one is involved, the register: `/dev/spidev0.0 AIGAIN (0x000)`.
    public let subject: String
    public let detail: String
    public let remedy: String?

    public init(_ code: Code, subject: String, detail: String, remedy: String? = nil) {
        self.code = code; self.subject = subject; self.detail = detail; self.remedy = remedy
    }

    public var description: String {
        (subject.isEmpty ? detail : "\(subject): \(detail)") + (remedy.map { ". Fix: \($0)" } ?? "")
    }

}

extension ADE9000Error.Code {
    /// Lets a caller write `catch ADE9000Error.Code.noChip`.
    public static func ~= (code: ADE9000Error.Code, error: any Error) -> Bool { (error as? ADE9000Error)?.code == code }
}
