// SPDX-License-Identifier: Apache-2.0

@testable import Forecast
import Testing

@Suite struct MinuteSeriesTests {
    @Test func gapsBecomeMissing() {
        var s = MinuteSeries(capacityMinutes: 100)
        s.record(minute: 10, watts: 1)
        s.record(minute: 11, watts: 2)
        s.record(minute: 14, watts: 5)  // 12, 13 skipped
        s.record(minute: 15, watts: nil)
        #expect(s.firstMinute == 10 && s.lastMinute == 15)
        #expect(s.value(at: 11) == 2 && s.value(at: 12) == nil && s.value(at: 13) == nil && s.value(at: 14) == 5)
        #expect(s.value(at: 15) == nil && s.value(at: 9) == nil && s.value(at: 16) == nil)
        #expect(s.consecutiveWindow(endingAt: 11, count: 2) == [1, 2])
        #expect(s.consecutiveWindow(endingAt: 14, count: 2) == nil)
        #expect(s.consecutiveWindow(endingAt: 11, count: 3) == nil)  // minute 9 is not held
    }

    @Test func olderThanCapacityIsDropped() {
        var s = MinuteSeries(capacityMinutes: 5)
        for m in Int64(0)..<8 { s.record(minute: m, watts: Double(m)) }
        #expect(s.firstMinute == 3 && s.lastMinute == 7)
        #expect(s.value(at: 2) == nil && s.value(at: 3) == 3 && s.value(at: 7) == 7)
        s.record(minute: 100, watts: 1)  // a jump past the capacity empties the ring
        #expect(s.firstMinute == 100 && s.value(at: 7) == nil)
        s.record(minute: 102, watts: 3)
        #expect(s.firstMinute == 100 && s.value(at: 101) == nil && s.value(at: 102) == 3)  // nothing before 100 is held
    }

    @Test func lateCorrectionAndIgnoredPast() {
        var s = MinuteSeries(capacityMinutes: 5)
        for m in Int64(0)..<5 { s.record(minute: m, watts: 1) }
        s.record(minute: 3, watts: 9)
        s.record(minute: -10, watts: 9)
        #expect(s.value(at: 3) == 9 && s.firstMinute == 0 && s.lastMinute == 4)
    }

    @Test func rawValuesRoundTrip() {
        var s = MinuteSeries(capacityMinutes: 50)
        for m in Int64(0)..<20 { s.record(minute: 1000 + m, watts: m % 7 == 3 ? nil : Double(m)) }
        let blob = s.values(from: 1000, count: 20)
        #expect(blob.count == 20 && blob[3].isNaN && blob[4] == 4)
        var restored = MinuteSeries(capacityMinutes: 50)
        restored.load(minute: 1000, values: blob)
        for m in Int64(995)..<1025 { #expect(restored.value(at: m) == s.value(at: m)) }
    }
}
