// SPDX-License-Identifier: Apache-2.0

@testable import Forecast
import Testing

@Suite struct MinuteCSVTests {
    @Test func errorsNameFileLineAndColumn() {
        #expect {
            _ = try readCSV(["time,p", "2008-01-01 00:00:00,1.5", "2008-01-01 00:0x:00,2"])
        } throws: { error in
            let e = error as! MinuteCSVError
            return e.line == 3 && e.column == 1 && e.description.hasPrefix("x.csv:3 column 1 (time): '2008-01-01 00:0x:00' is not a time")
                && e.description.contains("Fix: ")
        }
        #expect {
            _ = try readCSV(["time,q,p", "2008-01-01 00:00:00,1,1.5", "", "2008-01-01 00:01:00,1,1.5kW"])
        } throws: { error in
            let e = error as! MinuteCSVError
            return e.line == 4 && e.column == 3 && e.columnName == "p" && e.description.contains("'1.5kW' is not a number")
        }
        #expect {
            _ = try readCSV(["date_time,Global_active_power"])
        } throws: { error in
            let e = error as! MinuteCSVError
            return e.line == 1 && e.column == nil && e.description.contains("no column 'time'")
                && e.description.contains("date_time, Global_active_power")
        }
        #expect {
            _ = try readCSV(["time,p", "2008-01-01 00:01:00,1", "2008-01-01 00:00:00,1"])
        } throws: { error in (error as! MinuteCSVError).description.contains("x.csv:3 column 1 (time): time goes backwards") }
        #expect {
            _ = try readCSV(["time,p", "2008-01-01 00:01:00"])
        } throws: { error in (error as! MinuteCSVError).description.hasPrefix("x.csv:2: 1 fields, the header has 2") }
        #expect { _ = try readCSV(["time,p"]) } throws: { error in (error as! MinuteCSVError).description.contains("no data rows") }
    }

    @Test func valuesTimesAndMinutes() throws {
        let csv = try readCSV([
            "\u{FEFF}time,\"p\"",
            "2008-01-01 00:00:00,1.5",
            "2008-01-01T00:00:30Z,2.5",   // same minute: averaged
            "2008-01-01 01:02:00+01:00,?",  // = 00:02 UTC, missing
            "1199145780,0.25",             // Unix seconds: 2008-01-01 00:03 UTC
        ], scale: 1000)
        let m0 = Int64(1_199_145_600 / 60)
        #expect(csv.rows == 4)
        #expect(csv.series.firstMinute == m0 && csv.series.lastMinute == m0 + 3)
        #expect(csv.series.value(at: m0) == 2000 && csv.series.value(at: m0 + 1) == nil)
        #expect(csv.series.value(at: m0 + 2) == nil && csv.series.value(at: m0 + 3) == 250)
    }

    @Test func summedColumns() throws {
        let csv = try readCSV(["time,l1_p,l2_p,l3_p", "0,100,200,300", "60,100,,300"], power: "l1_p+l2_p+l3_p")
        #expect(csv.series.value(at: 0) == 600 && csv.series.value(at: 1) == nil)
    }

    @Test func fillsAreRunsIdenticalToADayBefore() throws {
        var lines = ["time,p,q"]
        for m in 0..<(2 * 1440) {
            let day = m / 1440, minute = m % 1440
            // Day 1 repeats day 0 in every column at minutes 100 … 102 (a fill) and at 200 (one minute: not a fill).
            let copy = day == 1 && ((100...102).contains(minute) || minute == 200)
            let p = copy ? Double(minute) : Double(m), q = copy ? 0.0 : Double(day)
            lines.append("\(m * 60),\(p),\(q)")
        }
        let csv = try readCSV(lines)
        #expect(csv.fills == [(1440 + 100)...(1440 + 102)])
    }
}
