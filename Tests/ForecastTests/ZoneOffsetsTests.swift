// SPDX-License-Identifier: Apache-2.0

import Forecast
import Foundation
import Testing

/// The zone reader against Foundation's `TimeZone` (ICU) on the same instants.
@Suite struct ZoneOffsetsTests {
    @Test(arguments: ["Europe/Zurich", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
    func offsetsAgreeWithFoundation(zone: String) throws {
        let ours = try #require(ZoneOffsets(identifier: zone))
        let theirs = try #require(TimeZone(identifier: zone))
        // Every 6 hours from 1990 to 2036, and the seconds around each of ours transitions.
        var instants = Array(stride(from: Int64(631_152_000), to: 2_082_758_400, by: 6 * 3600))
        for t in stride(from: Int64(1_700_000_000), to: 1_900_000_000, by: 86_400 * 7) { instants += [t - 1, t, t + 1] }
        for t in instants {
            #expect(ours.offsetSeconds(at: t) == theirs.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))), "\(zone) at \(t)")
        }
    }

    @Test func localTimeAcrossTheSpringChangeInZurich() {
        let calendar = ForecastCalendar(zoneIdentifier: "Europe/Zurich")
        // 2024-03-31 00:59 UTC is 01:59 CET; 01:00 UTC is 03:00 CEST.
        #expect(calendar.minuteOfDay(1_711_846_740 / 60) == 119)
        #expect(calendar.minuteOfDay(1_711_846_800 / 60) == 180)
        #expect(calendar.weekday(1_711_846_800 / 60) == 6)  // Sunday
    }

    @Test func anUnknownOrUnsafeNameIsNotAZone() {
        #expect(ZoneOffsets(identifier: "Mars/Olympus_Mons") == nil)
        #expect(ZoneOffsets(identifier: "../../etc/passwd") == nil)
        #expect(ZoneOffsets(identifier: "/etc/localtime") == nil)
        #expect(ForecastCalendar(zoneIdentifier: "Mars/Olympus_Mons").zone == .utc)
    }
}
