// SPDX-License-Identifier: Apache-2.0

/// Numbers as people read them in logs, tables and messages: a fixed number of decimals, and signed
/// changes with a true minus sign. One place, so every command prints values the same way.
/// (JSON goes through `JSONEncoder`; see ``Reading`` and ``MinuteRow``.)
public enum DecimalText {
    /// `value` with `decimals` digits after the point, rounded half away from zero; `-` when negative.
    /// Non-finite values print as Swift does (`nan`, `inf`).
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return "\(value)" }
        let integer = UInt64(scaled), unit = UInt64(scale)
        var text = String(integer / unit)
        if decimals > 0 {
            let digits = String(integer % unit)
            text += "." + String(repeating: "0", count: decimals - digits.count) + digits
        }
        return (value < 0 && integer != 0 ? "-" : "") + text
    }

    /// `+1.54`, `−0.01` (U+2212 minus sign), `0.00` (no sign when it rounds to zero).
    public static func signed(_ value: Double, _ decimals: Int) -> String {
        let text = fixed(abs(value), decimals)
        if text.allSatisfy({ $0 == "0" || $0 == "." }) { return text }
        return (value < 0 ? "\u{2212}" : "+") + text
    }
}
