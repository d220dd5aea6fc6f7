// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import MeterReadings
public import MeterStore

/// Where the exporter puts things and what their bytes are, so that a fleet's bucket reads as one table in Athena/Glue,
/// Spark, Trino or pyarrow with Hive partitioning and no custom loader:
///
///     <data_prefix>minutes/device=<hw_serial>/date=YYYY-MM-DD/hour=HH.csv     (UTC)
///
/// One object per closed hour; its header is the `meter_data` column names, `time` is Unix seconds, a NULL is an
/// empty field. Keys and bytes depend only on the stored rows, so an upload made twice writes the same object twice.
public enum LakeLayout {
    /// The CSV header: the `meter_data` columns, in table order.
    public static let columns = MinuteRow.columns

    /// The hour's object key. - Parameter start: the hour's first second (a multiple of 3600).
    public static func hourKey(prefix: String, device: String, hourStart start: Int64) -> String {
        let (date, hour) = utc(start)
        return "\(prefix)minutes/device=\(device)/date=\(date)/hour=\(hour).csv"
    }

    /// `2026-12-06 05:00 UTC`, for logs.
    static func hourLabel(_ start: Int64) -> String {
        let (date, hour) = utc(start)
        return "\(date) \(hour):00 UTC"
    }

    /// `YYYY-MM-DD` and `HH` of a Unix time, in UTC.
    static func utc(_ time: Int64) -> (date: String, hour: String) {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return ("\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))", two(parts.tm_hour))
    }

    /// The rows as CSV, header first (unless `header` is false: a later piece of one file); one line per row,
    /// `\n` line ends. The API's `format=csv` is the same file.
    public static func csv(_ rows: [[SQLiteValue]], header: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + rows.count * 400)
        if header {
            out += Array(columns.joined(separator: ",").utf8)
            out.append(0x0A)
        }
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { out.append(0x2C) }
                out += Array(field(value).utf8)
            }
            out.append(0x0A)
        }
        return out
    }

    /// An integer in decimal, a real in Swift's shortest round-trip form (`230.1`, `1e-05`), NULL empty.
    static func field(_ value: SQLiteValue) -> String {
        switch value {
        case .integer(let v): "\(v)"
        case .real(let v): v.isFinite ? "\(v)" : ""
        case .text(let v): v
        case .null, .blob: ""
        }
    }

    /// The original training file, extended by the time: `time,target` with the three-phase total power (W) of
    /// each minute known, in time order; a minute not known has no line (gaps stay gaps). The original training
    /// script reads only `target`.
    public static func trainingCSV(firstMinute: Int64, watts: [Float]) -> [UInt8] {
        trainingHeader + trainingLines(firstMinute: firstMinute, watts: watts)
    }

    static let trainingHeader = Array("time,target\n".utf8)

    /// The lines of ``trainingCSV(firstMinute:watts:)`` without the header.
    static func trainingLines(firstMinute: Int64, watts: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(watts.count * 20)
        for (offset, value) in watts.enumerated() where value.isFinite {
            out += Array("\((firstMinute + Int64(offset)) * 60),\(value)\n".utf8)
        }
        return out
    }
}
