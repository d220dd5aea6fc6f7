// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
@testable import MeterHTTP
import MeterStore
import Testing

/// The minutes query: defaults, bounds, and a 400 naming the parameter for each mistake.
@Suite struct MinutesQueryTests {
    let now: Int64 = 1_796_545_815

    func refusal(_ parameters: [String: String]) -> APIError? {
        do { _ = try MinutesQuery(parameters: parameters, now: now); return nil } catch { return error }
    }

    @Test func theDefaultsAreTheLastDayAsJSON() throws {
        #expect(try MinutesQuery(parameters: [:], now: now) == MinutesQuery(from: now + 1 - 86_400, to: now + 1, format: .json))
        #expect(try MinutesQuery(parameters: ["to": "1000000", "format": "csv"], now: now)
                == MinutesQuery(from: 1_000_000 - 86_400, to: 1_000_000, format: .csv))
        #expect(try MinutesQuery(parameters: ["from": "2026-12-06T00:00:00Z", "to": "2026-12-06T00:00:00Z"], now: now).from == 1_796_515_200)
        // A whole week is allowed.
        #expect(try MinutesQuery(parameters: ["from": "0", "to": "604800"], now: now).to == 604_800)
    }

    @Test func eachMistakeIsA400NamingTheParameter() {
        let cases: [([String: String], String)] = [
            (["from": "yesterday"], "query parameter from: 'yesterday' is not a time"),
            (["to": "2026-02-30T00:00:00Z"], "query parameter to: '2026-02-30T00:00:00Z' is not a time"),
            (["from": "200", "to": "100"], "query parameter from: from (200) is after to (100)"),
            (["from": "0", "to": "604801"], "query parameter to: from and to are 604801 s apart, more than 7 days"),
            (["format": "xml"], "query parameter format: 'xml' is not a format: write format=json or format=csv"),
        ]
        for (parameters, message) in cases {
            let error = refusal(parameters)
            #expect(error?.status == .badRequest, "\(parameters)")
            #expect(error?.message.hasPrefix(message) == true, "\(parameters): \(error?.message ?? "accepted")")
        }
    }

    @Test func aRowIsOneJSONObjectUnderTheColumnNamesWithNullForNULL() {
        var bytes: [UInt8] = []
        var row: [SQLiteValue] = [.integer(1_796_545_800)]
        row += Array(repeating: .real(230.5), count: 18) + [.real(.nan)] + Array(repeating: .null, count: 12)
        row += [.real(60), .integer(60), .integer(0), .null, .integer(1)]
        MinutesQuery.appendJSON(row, to: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"time":1796545800,"l1_v":230.5,"l2_v":230.5,"#))
        #expect(text.contains(#""freq":null,"l1_wh_imp":null,"#))
        #expect(text.hasSuffix(#""duration_s":60.0,"samples":60,"flags":0,"temp_c":null,"input_b":1}"#))
    }
}
