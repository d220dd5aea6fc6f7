// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterReadings
import MeterServices
import MeterStore
import PowerQuality

/// `GET /api/v1/pq/events`: the stored power-quality events (`pq_event`) that start in `[from, to)`, oldest first, as
/// `clemap-edge pq events --json` lists them. `from` and `to` are read as `/api/v1/minutes` reads them (Unix seconds or
/// RFC 3339); the events' own times are Unix milliseconds.
struct PQEventsQuery: Sendable, Equatable {
    var from: Int64
    var to: Int64

    /// The events' default window, as `pq events` and `pq report` take it: EN 50160 judges a supply by the week.
    static let defaultSpan: Int64 = 7 * 86_400
    /// At most 31 days per request: events are rare (a row each), so a month is a small answer even on a bad supply,
    /// and a longer range is a mistake (or a client paging badly) rather than a need.
    static let maximumSpan: Int64 = 31 * 86_400

    init(from: Int64, to: Int64) { self.from = from; self.to = to }

    /// Reads the query; defaults: the last 7 days up to `now`. - Throws: ``APIError`` (400) naming the parameter.
    init(parameters: [String: String], now: Int64) throws(APIError) {
        let window = try TimeWindowQuery(parameters: parameters, now: now, defaultSpan: Self.defaultSpan, maximumSpan: Self.maximumSpan,
                                         spanName: "31 days", askFor: "ask for a month at a time")
        from = window.from; to = window.to
    }

    /// The answer: a JSON array of events, each `{start_ms, end_ms, duration_ms, phase, kind, extreme}`.
    func answer(store: (any ReadingStore)?) throws -> Response {
        guard let store else { throw APIError.storeClosed }
        let (fromMs, toMs) = (from * 1000, to * 1000)
        let events: [PQEvent]
        do {
            events = try store.read("cannot read pq_event for GET /api/v1/pq/events") { db throws(StoreError) in
                try PQTables.events(fromMs: fromMs, toMs: toMs, in: db)
            }
        } catch {
            throw APIError(.serviceUnavailable, "the database cannot be read: \(error)")
        }
        return try jsonAnswer(events)
    }
}
