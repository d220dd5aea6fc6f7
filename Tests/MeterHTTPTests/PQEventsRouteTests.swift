// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import MeterConfig
@testable import MeterHTTP
import MeterServices
import MeterStore
import PowerQuality
import Testing

/// `GET /api/v1/pq/events` through the router, over a real SQLite file: the events in `[from, to)` oldest first under
/// the `pq events --json` keys, `from`/`to` read as `/api/v1/minutes` reads them, a 400 naming the parameter for each
/// mistake, 503 while the database is closed; and their counts on `/metrics`.
@Suite struct PQEventsRouteTests {
    /// 2026-12-06T08:30:15Z.
    static let now: Int64 = 1_796_545_815
    static let day: Int64 = 86_400

    /// Stored out of order: the answer's order is the route's doing.
    static let dip = PQEvent(startMs: (now - 3600) * 1000 + 250, endMs: (now - 3600) * 1000 + 370, phase: 1, kind: .dip, extreme: 161.24)
    static let sequence = PQEvent(startMs: (now - 7200) * 1000, endMs: (now - 7200) * 1000 + 60_000, phase: 0, kind: .phaseSequence, extreme: nil)
    static let swell = PQEvent(startMs: (now - 6 * day) * 1000, endMs: (now - 6 * day) * 1000 + 40, phase: 3, kind: .swell, extreme: 262.5)
    static let old = PQEvent(startMs: (now - 8 * day) * 1000, endMs: (now - 8 * day) * 1000 + 200_000, phase: 2, kind: .interruption, extreme: 3.1)

    func client(_ events: [PQEvent] = [dip, swell, sequence, old], settings: HTTPSettings = HTTPSettings()) throws -> RouterClient {
        let client = try RouterClient(now: Double(Self.now) + 0.4, settings: settings)
        try client.write { db throws(StoreError) in for event in events { try PQTables.insert(event, in: db) } }
        return client
    }

    func events(_ answer: RouterClient.Answer) throws -> [PQEvent] {
        try JSONDecoder().decode([PQEvent].self, from: Data(answer.body))
    }

    @Test func theStoredEventsComeBackOldestFirstUnderThePQEventsKeys() async throws {
        let client = try client()
        let answer = try await client.get("/api/v1/pq/events")
        #expect(answer.status == .ok)
        #expect(answer.headers[.contentType] == "application/json" && answer.headers[.cacheControl] == "no-store")
        // Keys sorted (as every answer of the API and `pq events --json`), the extreme of a phase sequence null.
        let start = { (e: PQEvent) in e.startMs }
        #expect(answer.text == """
            [{"duration_ms":40,"end_ms":\(start(Self.swell) + 40),"extreme":262.5,"kind":"swell","phase":3,"start_ms":\(start(Self.swell))},\
            {"duration_ms":60000,"end_ms":\(start(Self.sequence) + 60_000),"extreme":null,"kind":"phase-sequence","phase":0,"start_ms":\(start(Self.sequence))},\
            {"duration_ms":120,"end_ms":\(start(Self.dip) + 120),"extreme":161.24,"kind":"dip","phase":1,"start_ms":\(start(Self.dip))}]
            """, "\(answer.text)")
        let objects = try #require(try answer.json() as? [[String: Any]])
        for object in objects {
            #expect(Set(object.keys) == ["start_ms", "end_ms", "duration_ms", "phase", "kind", "extreme"])
        }
        #expect(try events(answer) == [Self.swell, Self.sequence, Self.dip])
    }

    @Test func anEventIsInTheRangeItStartsIn() async throws {
        let client = try client()
        let dipSecond = Self.dip.startMs / 1000
        // [from, to): from is in, to is out; the dip starts 250 ms into its second.
        #expect(try events(try await client.get("/api/v1/pq/events?from=\(dipSecond)&to=\(dipSecond + 1)")) == [Self.dip])
        #expect(try events(try await client.get("/api/v1/pq/events?from=\(dipSecond + 1)&to=\(Self.now)")).isEmpty)
        #expect(try events(try await client.get("/api/v1/pq/events?from=\(dipSecond - 10)&to=\(dipSecond)")).isEmpty)
        // An event that began before `from` is not in it, however long it lasted.
        let sequenceSecond = Self.sequence.startMs / 1000
        #expect(try events(try await client.get("/api/v1/pq/events?from=\(sequenceSecond + 1)&to=\(dipSecond)")).isEmpty)
        // RFC 3339, with an offset too (escaped, as a client sends `+`).
        let rfc = try await client.get("/api/v1/pq/events?from=2026-11-29T00:00:00Z&to=2026-11-30T09:30:16%2B01:00")
        #expect(try events(rfc) == [Self.swell], "\(rfc.text)")
        // Only `to`: the week before it.
        #expect(try events(try await client.get("/api/v1/pq/events?to=\(Self.now - 5 * Self.day)")) == [Self.old, Self.swell])
        // Only `from`: up to now.
        #expect(try events(try await client.get("/api/v1/pq/events?from=\(Self.now - 9 * Self.day)")) == [Self.old, Self.swell, Self.sequence, Self.dip])
        // Nothing stored in the range: an empty array, not an error.
        let none = try await client.get("/api/v1/pq/events?from=0&to=1")
        #expect(none.status == .ok && none.text == "[]")
    }

    @Test func theDefaultsAreTheLastSevenDaysUpToNow() throws {
        let now = Self.now
        #expect(try PQEventsQuery(parameters: [:], now: now) == PQEventsQuery(from: now + 1 - 7 * Self.day, to: now + 1))
        #expect(try PQEventsQuery(parameters: ["to": "1000000"], now: now) == PQEventsQuery(from: 1_000_000 - 7 * Self.day, to: 1_000_000))
        // 31 days is allowed; the format parameter of /api/v1/minutes means nothing here and is ignored, as any other.
        #expect(try PQEventsQuery(parameters: ["from": "0", "to": "2678400", "format": "csv"], now: now) == PQEventsQuery(from: 0, to: 2_678_400))
    }

    @Test func eachMistakeIsA400NamingTheParameter() async throws {
        let client = try client()
        let cases: [(String, String)] = [
            ("from=yesterday", "query parameter from: 'yesterday' is not a time: write Unix seconds"),
            ("to=2026-02-30T00:00:00Z", "query parameter to: '2026-02-30T00:00:00Z' is not a time"),
            ("from=-5", "query parameter from: '-5' is not a time"),
            ("from=200&to=100", "query parameter from: from (200) is after to (100): give from <= to"),
            ("from=0&to=2678401", "query parameter to: from and to are 2678401 s apart, more than 31 days (2678400 s) per request"),
        ]
        for (query, message) in cases {
            let answer = try await client.get("/api/v1/pq/events?\(query)")
            #expect(answer.status == .badRequest, "\(query)")
            #expect(answer.headers[.contentType] == "application/json")
            #expect(answer.error?.hasPrefix(message) == true, "\(query): \(answer.text)")
        }
        let month = try await client.get("/api/v1/pq/events?from=0&to=2678400")
        #expect(month.status == .ok, "31 days to the second: \(month.text)")
    }

    @Test func aClosedDatabaseIs503() async throws {
        let client = try client()
        client.hub.store.set(nil)
        let answer = try await client.get("/api/v1/pq/events")
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.error == APIError.storeClosed.message)
        // A bad parameter is still the client's mistake first.
        #expect(try await client.get("/api/v1/pq/events?from=x").status == .badRequest)
    }

    @Test func aDatabaseWithoutTheTableIs503NamingIt() async throws {
        // The power-quality feature's migration not run (a store opened without its schema): the read fails.
        let client = try RouterClient(now: Double(Self.now), features: [])
        let answer = try await client.get("/api/v1/pq/events")
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.error?.hasPrefix("the database cannot be read: ") == true && answer.error?.contains("pq_event") == true, "\(answer.text)")
    }

    @Test func onANetworkBindTheEventsNeedTheToken() async throws {
        let token = "0123456789abcdef0123456789abcdef"
        let client = try client(settings: HTTPSettings(bind: "0.0.0.0", token: token))
        #expect(try await client.get("/api/v1/pq/events").status == .unauthorized)
        let answer = try await client.get("/api/v1/pq/events", headers: [.authorization: "Bearer \(token)"])
        #expect(try answer.status == .ok && events(answer).count == 3)
    }

    @Test func metricsCountTheStoredEventsByKindAndPhase() async throws {
        let more = PQEvent(startMs: Self.dip.endMs + 5000, endMs: Self.dip.endMs + 5100, phase: 1, kind: .dip, extreme: 170)
        let client = try client([Self.dip, Self.swell, Self.sequence, Self.old, more])
        var text = try await client.get("/metrics").text
        func value(_ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(text.contains("# TYPE clemap_pq_events_total counter") && text.contains("# HELP clemap_pq_events_total "))
        #expect(value(#"clemap_pq_events_total{kind="dip",phase="l1"}"#) == 2)
        #expect(value(#"clemap_pq_events_total{kind="swell",phase="l3"}"#) == 1)
        #expect(value(#"clemap_pq_events_total{kind="interruption",phase="l2"}"#) == 1)
        #expect(value(#"clemap_pq_events_total{kind="phase-sequence",phase="all"}"#) == 1)
        // Every pair an event can have is there from the start, at 0; none that it cannot.
        #expect(value(#"clemap_pq_events_total{kind="overcurrent",phase="l3"}"#) == 0)
        #expect(value(#"clemap_pq_events_total{kind="frequency-deviation",phase="all"}"#) == 0)
        #expect(!text.contains(#"clemap_pq_events_total{kind="dip",phase="all"}"#))
        // One more stored: the next scrape has it.
        try client.write { db throws(StoreError) in
            try PQTables.insert(PQEvent(startMs: Self.now * 1000, endMs: Self.now * 1000 + 20, phase: 1, kind: .dip, extreme: 190), in: db)
        }
        text = try await client.get("/metrics").text
        #expect(value(#"clemap_pq_events_total{kind="dip",phase="l1"}"#) == 3)
    }
}
