// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Every `--json` result goes through here: Foundation's `JSONEncoder`, keys as the types declare them (the
/// `meter_data` column names for readings and rows), one document per line on stdout.
enum JSONOutput {
    static func line(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // stable output: keys sorted
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Our types encode numbers, strings and nulls only; an error here is a bug, not bad input.
            preconditionFailure("JSON encoding of \(type(of: value)) failed: \(error)")
        }
    }

    /// A number rounded to `decimals` digits for display, `nil` (JSON null) when it is not finite.
    static func rounded(_ value: Double, _ decimals: Int) -> Double? {
        guard value.isFinite else { return nil }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
