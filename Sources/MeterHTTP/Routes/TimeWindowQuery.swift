// SPDX-License-Identifier: Apache-2.0

import MeterReadings

/// The `from` and `to` query parameters of the routes that read stored history (`/api/v1/minutes`,
/// `/api/v1/pq/events`): Unix seconds or RFC 3339 (``TimeParameter``), `[from, to)`, `to` defaulting to just after
/// `now` and `from` to `defaultSpan` before `to`, at most `maximumSpan` apart.
struct TimeWindowQuery: Sendable, Equatable {
    var from: Int64
    var to: Int64

    /// - Parameter spanName: the most a request may ask for, in words ("7 days", "31 days").
    /// - Throws: ``APIError`` (400) naming the parameter and what to write instead.
    init(parameters: [String: String], now: Int64, defaultSpan: Int64, maximumSpan: Int64, spanName: String, askFor: String) throws(APIError) {
        func time(_ name: String) throws(APIError) -> Int64? {
            guard let text = parameters[name] else { return nil }
            guard let value = TimeParameter.parse(text) else {
                throw .badParameter(name, "'\(text.prefix(40))' is not a time: \(TimeParameter.help)")
            }
            return value
        }
        let to = try time("to") ?? now + 1
        let from = try time("from") ?? to - defaultSpan
        guard from <= to else {
            throw .badParameter("from", "from (\(from)) is after to (\(to)): give from <= to")
        }
        guard to - from <= maximumSpan else {
            throw .badParameter("to", "from and to are \(to - from) s apart, more than \(spanName) (\(maximumSpan) s) per request: \(askFor)")
        }
        self.from = from; self.to = to
    }
}
