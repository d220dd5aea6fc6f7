// SPDX-License-Identifier: Apache-2.0
import MeterReadings
import Testing

/// `from` and `to`: Unix seconds or RFC 3339, checked against values computed with `date -u -d … +%s`.
@Suite struct TimeParameterTests {
    @Test func unixSecondsAndRFC3339AgreeWithDate() {
        #expect(TimeParameter.parse("1796515200") == 1_796_515_200)
        #expect(TimeParameter.parse("0") == 0)
        // date -u -d 2026-12-06T00:00:00Z +%s
        #expect(TimeParameter.parse("2026-12-06T00:00:00Z") == 1_796_515_200)
        #expect(TimeParameter.parse("2026-12-06T08:30:15Z") == 1_796_545_815)
        #expect(TimeParameter.parse("2026-12-06t08:30:15.123456z") == 1_796_545_815)
        #expect(TimeParameter.parse("2026-12-06T09:30:15+01:00") == 1_796_545_815)
        #expect(TimeParameter.parse("2026-12-05T21:00:15-11:30") == 1_796_545_815)
        // date -u -d 2024-02-29T12:00:00Z +%s (a leap day), 1970-01-01
        #expect(TimeParameter.parse("2024-02-29T12:00:00Z") == 1_709_208_000)
        #expect(TimeParameter.parse("1970-01-01T00:00:00Z") == 0)
    }

    @Test func anythingElseIsNotATime() {
        for text in ["", "-5", "1e9", "12.5", "yesterday", "2026-12-06", "2026-12-06T08:30Z", "2026-13-01T00:00:00Z",
                     "2026-02-29T00:00:00Z", "2026-12-06T24:00:00Z", "2026-12-06T08:30:15", "2026-12-06T08:30:15+0100",
                     "2026-12-06T08:30:15.Z", "1969-12-31T23:59:59Z", "2026-12-06T08:30:15Z ", "99999999999999999999"] {
            #expect(TimeParameter.parse(text) == nil, "\(text)")
        }
    }
}

