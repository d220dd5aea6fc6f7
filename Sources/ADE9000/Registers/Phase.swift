// SPDX-License-Identifier: Apache-2.0

/// One of the three metered phases. The chip calls them A, B, C; the meter's data calls them l1, l2, l3.
public enum Phase: Int, CaseIterable, Sendable, Hashable, Comparable, CustomStringConvertible {
    case a = 0, b = 1, c = 2

    /// Lower-case chip letter, as in `calib_aigain` and `cha_irms`.
    public var letter: String { ["a", "b", "c"][rawValue] }
    /// Column prefix of the meter vocabulary: `l1`, `l2`, `l3`.
    public var line: String { "l\(rawValue + 1)" }
    public var description: String { "phase \(letter.uppercased())" }

    /// Address offset of the calibration (0x000–0x058) and measurement (0x20A–0x25D) blocks: DS Table 6, stride 0x20.
    var blockStride: UInt16 { UInt16(rawValue) * 0x20 }
    /// Address offset of the energy block (0x2E4–0x391): DS Table 6, stride 0x3C.
    var energyStride: UInt16 { UInt16(rawValue) * 0x3C }
    /// Address offset of the phase-organised burst aliases (`_2`, 0x680–0x6B8): 19 registers a phase.
    var burstStride: UInt16 { UInt16(rawValue) * 0x13 }

    public static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
}
