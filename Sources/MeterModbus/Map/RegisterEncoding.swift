// SPDX-License-Identifier: Apache-2.0

public import MeterConfig

/// Values as Modbus registers: 16-bit words, each big-endian on the wire (the Modbus rule, which libmodbus applies
/// when it sends them). A value wider than one register is split into words by ``ModbusSettings/WordOrder``:
/// big-endian puts the most significant word first (float32 `ABCD`), little-endian the least significant first
/// (`CDAB`, "word-swapped"; for float64 `GH EF CD AB`). The byte order inside each word never changes.
public enum RegisterEncoding {
    /// An IEEE 754 single in two registers. NaN stays NaN (0x7FC00000 for the NaN Swift makes); a finite value beyond
    /// the single range becomes ±infinity, as any conversion to single does.
    public static func float32(_ value: Double, _ order: ModbusSettings.WordOrder) -> [UInt16] {
        uint32(Float(value).bitPattern, order)
    }

    /// An IEEE 754 double in four registers.
    public static func float64(_ value: Double, _ order: ModbusSettings.WordOrder) -> [UInt16] {
        uint64(value.bitPattern, order)
    }

    /// An unsigned 32-bit integer in two registers.
    public static func uint32(_ value: UInt32, _ order: ModbusSettings.WordOrder) -> [UInt16] {
        words(UInt64(value), count: 2, order)
    }

    /// An unsigned 64-bit integer in four registers.
    public static func uint64(_ value: UInt64, _ order: ModbusSettings.WordOrder) -> [UInt16] {
        words(value, count: 4, order)
    }

    /// `count` words of `value`, most significant first for big-endian.
    private static func words(_ value: UInt64, count: Int, _ order: ModbusSettings.WordOrder) -> [UInt16] {
        let mostSignificantFirst = (0..<count).reversed().map { UInt16(truncatingIfNeeded: value >> (16 * UInt64($0))) }
        return order == .bigEndian ? mostSignificantFirst : mostSignificantFirst.reversed()
    }
}
