// SPDX-License-Identifier: Apache-2.0

import MeterReadings
#if canImport(Glibc)
import Glibc
#endif

/// The human form of a reading: a small per-phase table, then the power quality per phase when read.
enum ReadingTable {
    static func render(_ reading: Reading) -> String {
        var lines: [String] = []
        var header = "\(utc(reading.time))  freq \(DecimalText.fixed(reading.freq, 3)) Hz"
        if let n = reading.neutralCurrent { header += "  neutral \(DecimalText.fixed(n, 3)) A" }
        if let t = reading.temperature { header += "  chip \(DecimalText.fixed(t, 1)) °C" }
        lines.append(header)
        var columns = ["", "V", "A", "W", "var", "VA", "PF"]
        if reading.energy != nil { columns += ["Wh", "varh"] }
        lines.append(row(columns))
        for (index, values) in reading.phases.enumerated() {
            var cells = ["L\(index + 1)", DecimalText.fixed(values.v, 2), DecimalText.fixed(values.i, 3),
                         DecimalText.fixed(values.p, 1), DecimalText.fixed(values.q, 1),
                         DecimalText.fixed(values.s, 1), DecimalText.fixed(values.pf, 3)]
            if let energy = reading.energy?[index] {
                cells += [DecimalText.fixed(energy.wh, 4), DecimalText.fixed(energy.varh, 4)]
            }
            lines.append(row(cells))
        }
        lines += quality(reading)
        return lines.joined(separator: "\n")
    }

    /// THD of voltage and current, the fundamentals, and each voltage's angle behind L1's (L1 is the reference, 0).
    /// A second table, so the first stays as wide as it was.
    private static func quality(_ reading: Reading) -> [String] {
        guard reading.harmonics != nil || reading.voltageAngles != nil else { return [] }
        var columns = [""]
        if reading.harmonics != nil { columns += ["THD-V %", "THD-I %", "V fund", "A fund"] }
        if reading.voltageAngles != nil { columns += ["V angle °"] }
        var lines = [row(columns)]
        for index in reading.phases.indices {
            var cells = ["L\(index + 1)"]
            if let h = reading.harmonics?[index] {
                cells += [DecimalText.fixed(h.vthd, 2), DecimalText.fixed(h.ithd, 2),
                          DecimalText.fixed(h.vfund, 2), DecimalText.fixed(h.ifund, 3)]
            }
            if let angles = reading.voltageAngles {
                cells.append(DecimalText.fixed([0, angles.l2, angles.l3][index], 2))
            }
            lines.append(row(cells))
        }
        return lines
    }

    private static func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            let width = index == 0 ? 3 : 11
            return String(repeating: " ", count: max(0, width - cell.count)) + cell
        }.joined()
    }

    /// `2026-11-24 21:10:03Z`.
    static func utc(_ unixSeconds: Double) -> String {
        var seconds = time_t(unixSeconds.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
