// SPDX-License-Identifier: Apache-2.0

/// Why a CSV of minute power could not be read: the file, line and column, what was found, what to do.
public struct MinuteCSVError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    /// 1-based column, `nil` when the whole line (or file) is concerned.
    public var column: Int?
    public var columnName: String?
    public var detail: String
    public var remedy: String

    public var description: String {
        var place = "\(file):\(line)"
        if let column { place += " column \(column)" + (columnName.map { " (\($0))" } ?? "") }
        return "\(place): \(detail). Fix: \(remedy)"
    }
}

/// A CSV of power readings turned into a minute history.
public struct MinuteCSV: Sendable {
    /// One value a minute (the mean of the file's rows in that minute), from the first to the last row.
    public var series: MinuteSeries
    /// Runs of two or more minutes identical in every column to the same minutes a day before: filled gaps,
    /// to be masked (UCI household data, `../shared/data/README.md`).
    public var fills: [ClosedRange<Int64>]
    /// Data rows read.
    public var rows: Int
}

/// Reads a CSV line by line (the caller decompresses and splits lines; see the CLI).
///
/// The header names the columns. Times are `YYYY-MM-DD HH:MM[:SS[.f]]` (or with `T`), with an optional `Z` or
/// `±HH[:MM]`; **without a zone they are taken as UTC**, so local-time files keep their wall clock (then
/// forecast with the UTC calendar). A plain number is Unix seconds. Power: a number times `scale`; empty,
/// `?`, `NA`, `NaN` or `null` is missing. Fields are split on commas (quotes around a field are removed;
/// commas inside quotes are not supported). Rows must go forward in time; several rows in one minute are averaged.
public struct MinuteCSVReader {
    public let file: String
    public let timeColumn: String
    public let powerColumn: String
    public let scale: Double

    private var lineNumber = 0
    private var header: [String]?
    private var timeIndex = 0
    private var powerIndices: [Int] = []
    private var firstMinute: Int64?
    private var sums: [Double] = []
    private var counts: [Int32] = []
    private var hashes: [UInt64] = []
    private var lastSeconds = Int64.min
    private(set) public var rows = 0

    /// - Parameters:
    ///   - file: the name errors give.
    ///   - timeColumn, powerColumn: header names; `powerColumn` may sum several: `l1_p+l2_p+l3_p`.
    ///   - scale: multiplies the power (1000 for kW → W).
    public init(file: String, timeColumn: String, powerColumn: String, scale: Double = 1) {
        self.file = file
        self.timeColumn = timeColumn
        self.powerColumn = powerColumn
        self.scale = scale
    }

    private func error(_ column: Int?, _ detail: String, _ remedy: String) -> MinuteCSVError {
        MinuteCSVError(file: file, line: lineNumber, column: column.map { $0 + 1 },
                       columnName: column.flatMap { c in header.flatMap { c < $0.count ? $0[c] : nil } },
                       detail: detail, remedy: remedy)
    }

    /// Splits a line into field ranges (quotes stripped).
    private static func fields(_ line: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(8)
        var s = 0
        for i in 0...line.count {
            if i == line.count || line[i] == UInt8(ascii: ",") {
                var a = s, b = i
                while a < b, line[a] == 32 || line[a] == 9 { a += 1 }
                while b > a, line[b - 1] == 32 || line[b - 1] == 9 || line[b - 1] == 13 { b -= 1 }
                if b - a >= 2, line[a] == UInt8(ascii: "\""), line[b - 1] == UInt8(ascii: "\"") { a += 1; b -= 1 }
                out.append(a..<b)
                s = i + 1
            }
        }
        return out
    }

    /// Reads one line (without its newline).
    public mutating func consume(line: UnsafeBufferPointer<UInt8>) throws(MinuteCSVError) {
        lineNumber += 1
        var body = line
        if lineNumber == 1, body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF {
            body = UnsafeBufferPointer(rebasing: body[3...])
        }
        if body.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { return }
        let f = Self.fields(body)
        guard let header else {
            let names = f.map { String(decoding: body[$0], as: UTF8.self) }
            guard let ti = names.firstIndex(of: timeColumn) else {
                throw error(nil, "no column '\(timeColumn)' in the header (columns: \(names.joined(separator: ", ")))",
                            "pass --time-column with one of these names")
            }
            var indices: [Int] = []
            for name in powerColumn.split(separator: "+").map(String.init) {
                guard let pi = names.firstIndex(of: name) else {
                    throw error(nil, "no column '\(name)' in the header (columns: \(names.joined(separator: ", ")))",
                                "pass --power-column with one of these names, or several joined by '+'")
                }
                indices.append(pi)
            }
            self.header = names
            timeIndex = ti
            powerIndices = indices
            return
        }
        guard f.count == header.count else {
            throw error(nil, "\(f.count) fields, the header has \(header.count)",
                        "repair the row (commas inside quotes are not supported)")
        }
        let timeField = UnsafeBufferPointer(rebasing: body[f[timeIndex]])
        guard let seconds = Self.parseTime(timeField) else {
            throw error(timeIndex, "'\(String(decoding: timeField, as: UTF8.self))' is not a time",
                        "write YYYY-MM-DD HH:MM:SS (UTC unless followed by Z or ±HH:MM) or Unix seconds")
        }
        guard seconds >= lastSeconds else {
            throw error(timeIndex, "time goes backwards (\(String(decoding: timeField, as: UTF8.self)) after an earlier-read later time)",
                        "sort the file by time (local times across a DST change repeat an hour: convert them to UTC)")
        }
        lastSeconds = seconds
        var power: Double? = 0
        for index in powerIndices {
            switch String(decoding: body[f[index]], as: UTF8.self) {
            case "", "?", "NA", "NaN", "nan", "null", "NULL": power = nil
            case let text:
                guard let v = Double(text), v.isFinite else {
                    throw error(index, "'\(text)' is not a number", "write a decimal number, or leave it empty for a missing value")
                }
                power = power.map { $0 + v * scale }
            }
        }
        // The row's hash over every field but the time, for fill detection.
        var hash: UInt64 = 0xcbf29ce484222325
        for (k, r) in f.enumerated() where k != timeIndex {
            for byte in body[r] { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
            hash = (hash ^ 44) &* 0x100000001b3
        }
        if hash == 0 { hash = 1 }
        let minute = seconds >= 0 ? seconds / 60 : (seconds - 59) / 60
        if firstMinute == nil { firstMinute = minute }
        let i = Int(minute - firstMinute!)
        if i >= sums.count {
            let grow = i + 1 - sums.count
            sums.append(contentsOf: repeatElement(0, count: grow))
            counts.append(contentsOf: repeatElement(0, count: grow))
            hashes.append(contentsOf: repeatElement(0, count: grow))
        }
        if let power { sums[i] += power; counts[i] += 1 }
        hashes[i] = counts[i] > 1 ? 0 : hash  // fills are minute rows: a minute with several rows is never one
        rows += 1
    }

    /// The minute history read, with the fill runs found.
    /// - Throws: `MinuteCSVError` when the file had no data rows.
    public func finish() throws(MinuteCSVError) -> MinuteCSV {
        guard let first = firstMinute, rows > 0 else {
            throw MinuteCSVError(file: file, line: lineNumber, column: nil, columnName: nil,
                                 detail: header == nil ? "the file is empty" : "no data rows after the header",
                                 remedy: "give a CSV with a header line and one row per reading")
        }
        var series = MinuteSeries(capacityMinutes: sums.count)
        for i in sums.indices {
            series.record(minute: first + Int64(i), watts: counts[i] > 0 ? sums[i] / Double(counts[i]) : nil)
        }
        var fills: [ClosedRange<Int64>] = []
        var i = 1440
        while i < hashes.count {
            guard hashes[i] != 0, hashes[i] == hashes[i - 1440] else { i += 1; continue }
            var j = i
            while j < hashes.count, hashes[j] != 0, hashes[j] == hashes[j - 1440] { j += 1 }
            if j - i >= 2 { fills.append((first + Int64(i))...(first + Int64(j - 1))) }
            i = j
        }
        return MinuteCSV(series: series, fills: fills, rows: rows)
    }

    /// Lines read so far.
    public var lineCount: Int { lineNumber }

    /// Unix seconds of a time as the CSV reader understands it (see the type's documentation), `nil` if it is not one.
    public static func unixSeconds(of text: UnsafeBufferPointer<UInt8>) -> Int64? { parseTime(text) }

    /// Unix seconds of `YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|±HH[:MM]]` (UTC without a zone) or of a number.
    static func parseTime(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digit(_ i: Int) -> Int? {
            guard i < s.count, s[i] >= 48, s[i] <= 57 else { return nil }
            return Int(s[i] - 48)
        }
        func number(_ i: Int, _ n: Int) -> Int? {
            var v = 0
            for k in 0..<n { guard let d = digit(i + k) else { return nil }; v = v * 10 + d }
            return v
        }
        if s.count >= 10, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-") {
            guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), (1...12).contains(mo), (1...31).contains(d)
            else { return nil }
            var hh = 0, mm = 0, ss = 0
            var i = 10
            if i < s.count, s[i] == 32 || s[i] == UInt8(ascii: "T") {
                guard let h = number(i + 1, 2), s.count > i + 3, s[i + 3] == UInt8(ascii: ":"), let m = number(i + 4, 2),
                      h < 24, m < 60 else { return nil }
                hh = h; mm = m; i += 6
                if i < s.count, s[i] == UInt8(ascii: ":") {
                    guard let sec = number(i + 1, 2), sec < 61 else { return nil }
                    ss = sec; i += 3
                    if i < s.count, s[i] == UInt8(ascii: ".") { i += 1; while digit(i) != nil { i += 1 } }
                }
            }
            var offset = 0
            if i < s.count {
                if s[i] == UInt8(ascii: "Z") { i += 1 }
                else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
                    let sign = s[i] == UInt8(ascii: "+") ? 1 : -1
                    guard let oh = number(i + 1, 2) else { return nil }
                    i += 3
                    var om = 0
                    if i < s.count, s[i] == UInt8(ascii: ":") { i += 1 }
                    if let m = number(i, 2) { om = m; i += 2 }
                    offset = sign * (oh * 3600 + om * 60)
                }
                guard i == s.count else { return nil }
            }
            return daysFromCivil(y, mo, d) * 86400 + Int64(hh * 3600 + mm * 60 + ss - offset)
        }
        guard let v = Double(String(decoding: s, as: UTF8.self)), v.isFinite, abs(v) < 1e12 else { return nil }
        return Int64(v.rounded(.down))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146097 + doe - 719468)
    }
}
