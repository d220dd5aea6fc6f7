// SPDX-License-Identifier: Apache-2.0

/// A Modbus exception code (Modbus Application Protocol v1.1b3, §7).
public enum ModbusException: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 01: a function this server does not implement (anything but 3, 4, 6 and 16).
    case illegalFunction = 0x01
    /// 02: registers outside the map, a range that splits a value, or a write where nothing is writable.
    case illegalDataAddress = 0x02
    /// 03: a quantity outside 1…125 (read) or 1…123 (write), a byte count that does not match, or an output value
    /// other than 0 and 1.
    case illegalDataValue = 0x03
    /// 04: the newest reading is older than ``ModbusResponder/staleAfterSeconds`` (the meter stopped answering), or an
    /// output could not be switched.
    case serverDeviceFailure = 0x04
    /// 06: no reading yet (the service is starting), or the lifetime energy is not known yet: ask again.
    case serverDeviceBusy = 0x06
    /// 0B: a unit identifier other than `unit_id`, 0 or 255.
    case gatewayTargetFailedToRespond = 0x0B

    public var description: String {
        let names: [ModbusException: String] = [
            .illegalFunction: "ILLEGAL FUNCTION", .illegalDataAddress: "ILLEGAL DATA ADDRESS",
            .illegalDataValue: "ILLEGAL DATA VALUE", .serverDeviceFailure: "SERVER DEVICE FAILURE",
            .serverDeviceBusy: "SERVER DEVICE BUSY", .gatewayTargetFailedToRespond: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
        ]
        return "\(rawValue < 16 ? "0" : "")\(String(rawValue, radix: 16, uppercase: true)) \(names[self]!)"
    }
}

/// One request as it arrived: a Modbus TCP ADU, the MBAP header (transaction, protocol, length, unit) and the PDU.
public struct ModbusRequest: Sendable, Hashable {
    /// What the PDU asks.
    public enum Operation: Sendable, Hashable {
        /// 03 read holding registers, 04 read input registers.
        case read(function: UInt8, address: UInt16, count: Int)
        /// 06 write single register.
        case writeSingle(address: UInt16, value: UInt16)
        /// 16 write multiple registers; `byteCountMatches` false when the byte count is not 2 × quantity.
        case writeMultiple(address: UInt16, values: [UInt16], byteCountMatches: Bool)
        /// Any other function.
        case other(function: UInt8)
    }

    /// The MBAP unit identifier.
    public let unit: UInt8
    public let operation: Operation

    public init(unit: UInt8, operation: Operation) { self.unit = unit; self.operation = operation }

    /// The MBAP header is 7 bytes: transaction (2), protocol (2, 0 for Modbus), length (2: unit + PDU), unit (1).
    public static let headerLength = 7
    /// The longest ADU Modbus TCP allows (MBAP 7 + PDU 253).
    public static let maximumLength = 260

    /// Parses a whole ADU; nil when it is not one (too short, a protocol other than 0, a length that disagrees
    /// with the bytes): the connection cannot be trusted to be in step any more.
    public init?(adu: some Collection<UInt8>) {
        let bytes = Array(adu)
        guard bytes.count >= Self.headerLength + 1, bytes.count <= Self.maximumLength,
              bytes[2] == 0, bytes[3] == 0, Int(bytes[4]) << 8 | Int(bytes[5]) == bytes.count - 6 else { return nil }
        unit = bytes[6]
        let pdu = bytes[7...]
        func word(_ offset: Int) -> Int { Int(pdu[pdu.startIndex + offset]) << 8 | Int(pdu[pdu.startIndex + offset + 1]) }
        let function = pdu[pdu.startIndex]
        switch function {
        case 3, 4:
            guard pdu.count == 5 else { return nil }
            operation = .read(function: function, address: UInt16(word(1)), count: word(3))
        case 6:
            guard pdu.count == 5 else { return nil }
            operation = .writeSingle(address: UInt16(word(1)), value: UInt16(word(3)))
        case 16:
            guard pdu.count >= 6 else { return nil }
            let count = word(3), byteCount = Int(pdu[pdu.startIndex + 5])
            guard pdu.count == 6 + byteCount else { return nil }
            let values = stride(from: 6, to: 6 + byteCount - 1, by: 2).map { UInt16(word($0)) }
            operation = .writeMultiple(address: UInt16(word(1)), values: values, byteCountMatches: byteCount == 2 * count && values.count == count)
        default:
            operation = .other(function: function)
        }
    }
}

/// What to send back.
public enum ModbusAnswer: Sendable, Hashable {
    /// 03/04: these register values, from the requested address on.
    case registers([UInt16])
    /// 06/16: done; the reply echoes the request.
    case written
    /// An exception response.
    case exception(ModbusException)
}
