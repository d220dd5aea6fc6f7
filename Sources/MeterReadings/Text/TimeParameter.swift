// SPDX-License-Identifier: Apache-2.0

/// A time in a query: Unix seconds (`1796542747`) or an RFC 3339 date-time (`2026-12-06T08:00:00Z`,
/// `2026-12-06T09:00:00+01:00`, fractional seconds allowed and dropped). Nil for anything else.
public enum TimeParameter {
    public static let help = "write Unix seconds (e.g. 1796515200) or an RFC 3339 date-time (e.g. 2026-12-06T08:00:00Z)"

    public static func parse(_ text: String) -> Int64? {
        if let seconds = Int64(text), seconds >= 0, seconds < 253_402_300_800 { return seconds }
        return rfc3339(Array(text.utf8))
    }

    private static func rfc3339(_ s: [UInt8]) -> Int64? {
        // yyyy-mm-ddThh:mm:ss[.fff](Z|±hh:mm)
        guard s.count >= 20, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"),
              s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") || s[10] == UInt8(ascii: " "),
              s[13] == UInt8(ascii: ":"), s[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in s[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        if index < s.count, s[index] == UInt8(ascii: ".") {
            index += 1
            let digits = index
            while index < s.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(s[index]) { index += 1 }
            guard index > digits else { return nil }
        }
        var offset = 0
        if index == s.count - 1, s[index] == UInt8(ascii: "Z") || s[index] == UInt8(ascii: "z") {
            offset = 0
        } else if index + 6 == s.count, s[index] == UInt8(ascii: "+") || s[index] == UInt8(ascii: "-"), s[index + 3] == UInt8(ascii: ":"),
                  let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6), h < 24, m < 60 {
            offset = (h * 60 + m) * 60 * (s[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds >= 0 ? seconds : nil
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
