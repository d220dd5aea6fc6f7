// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import PowerQuality

@Suite("EN 50160 classes and the weekly report")
struct EN50160ReportTests {
    @Test("dips are classed by residual voltage and duration, bounds in the shorter and shallower class (EN 50160 Table 5)")
    func dipClasses() {
        #expect(EN50160Classes.dipRow(residualPercent: 89.9) == 0)
        #expect(EN50160Classes.dipRow(residualPercent: 80) == 0)
        #expect(EN50160Classes.dipRow(residualPercent: 79.99) == 1)
        #expect(EN50160Classes.dipRow(residualPercent: 70) == 1)
        #expect(EN50160Classes.dipRow(residualPercent: 69) == 2)
        #expect(EN50160Classes.dipRow(residualPercent: 40) == 2)
        #expect(EN50160Classes.dipRow(residualPercent: 5) == 3)
        #expect(EN50160Classes.dipRow(residualPercent: 4.9) == 4)
        #expect([10, 200, 201, 500, 1_000, 5_000, 60_000, 60_001].map { EN50160Classes.dipColumn(durationMs: $0) } == [0, 0, 1, 1, 2, 3, 4, 5])
        #expect([500, 501, 5_000, 60_000, 90_000].map { EN50160Classes.swellColumn(durationMs: $0) } == [0, 1, 1, 2, 3])
        #expect(EN50160Classes.swellRow(percent: 120) == 0 && EN50160Classes.swellRow(percent: 115) == 1)
    }

    /// A day of minutes from midnight: L1 at 230 V, L2 at 230 V but 256 V (11.3 % high) for the first 70 minutes,
    /// L3 at 200 V (13 % low) throughout; THD-V of L1 rising 1 % per hour; 50 Hz but 50.6 Hz for 10 minutes.
    func day() -> [PQMinute] {
        (0..<1440).map { m in
            PQMinute(time: 86_400 * 100 + Int64(m) * 60, voltage: [230, m < 70 ? 256 : 230, 200],
                     voltageTHD: [Double(m / 60), nil, 2.5], frequency: (500..<510).contains(m) ? 50.6 : 50.0)
        }
    }

    @Test("10-minute means within ±10 %, flagged intervals left out; THD-V 95th percentile; frequency shares")
    func report() {
        let start: Int64 = 86_400 * 100
        // A 150 ms dip to 161 V on L1 at 12:00:30: flags the interval 12:00–12:10 on every phase.
        let dip = PQEvent(startMs: (start + 12 * 3600 + 30) * 1000, endMs: (start + 12 * 3600 + 30) * 1000 + 150, phase: 1, kind: .dip, extreme: 161)
        let report = EN50160Report.compute(minutes: day(), events: [dip], from: start, to: start + 86_400,
                                           nominalVoltage: 230, nominalFrequency: 50)
        #expect(report.minutes == 1440)
        // 144 intervals, one flagged. L2: intervals 0–6 are over 10 % high (256 V); 7 of 143 kept are out.
        #expect(report.voltage.map(\.intervals) == [144, 144, 144])
        #expect(report.voltage.map(\.flagged) == [1, 1, 1])
        #expect(report.voltage[0].within_10pct == 1 && report.voltage[0].compliant == true)
        #expect(report.voltage[1].within_10pct == 136.0 / 143.0 && report.voltage[1].compliant == true)
        #expect(report.voltage[2].within_10pct == 0 && report.voltage[2].compliant == false)
        #expect(report.voltage[1].highest == 256 && report.voltage[2].lowest == 200)
        // L1's THD means are the hour (0…23) of each interval; 143 kept (12:00 flagged, hour 12): the nearest-rank
        // 95th percentile is the 136th smallest: hours 0–11 hold 72 values, 12 holds 5 (one flagged), 13–21 hold 54 = 131,
        // so the 136th is in hour 22.
        #expect(report.thd_v[0].p95 == 22 && report.thd_v[0].compliant == false)
        #expect(report.thd_v[1].p95 == nil && report.thd_v[1].compliant == nil && report.thd_v[1].intervals == 0)
        #expect(report.thd_v[2].p95 == 2.5 && report.thd_v[2].compliant == true)
        // 10 of 1440 minutes at 50.6 Hz (+1.2 %): inside +4/−6 %, outside ±1 %.
        #expect(report.frequency.within_1pct == 1430.0 / 1440.0 && report.frequency.within_plus4_minus6pct == 1)
        #expect(report.frequency.compliant == false)
        #expect(report.dips.counts[1][0] == 1 && report.dips.total == 1 && report.swells.total == 0)
    }

    @Test("events by kind: dips and swells in their cells, interruptions short and long, the others counted")
    func eventTables() {
        let t: Int64 = 1_000_000
        func event(_ kind: PQEventKind, _ ms: Int64, _ extreme: Double?, phase: Int = 2) -> PQEvent {
            PQEvent(startMs: t * 1000, endMs: t * 1000 + ms, phase: phase, kind: kind, extreme: extreme)
        }
        let events = [event(.dip, 200, 161), event(.dip, 201, 161), event(.dip, 4_000, 11), event(.swell, 60, 264.5),
                      event(.swell, 2_000, 280), event(.interruption, 180_000, 0), event(.interruption, 180_001, 0),
                      event(.overcurrent, 30, 80), event(.phaseSequence, 0, nil, phase: 0), event(.frequencyDeviation, 10_000, 50.7, phase: 0),
                      PQEvent(startMs: (t + 86_400) * 1000, endMs: (t + 86_400) * 1000 + 100, phase: 1, kind: .dip, extreme: 200)]
        let report = EN50160Report.compute(minutes: [], events: events, from: t, to: t + 86_400, nominalVoltage: 230, nominalFrequency: 50)
        // 161 V = 70 %: the 80 > u ≥ 70 row; 11 V = 4.8 %: 5 > u; 264.5 V = 115 %, 280 V = 121.7 %.
        #expect(report.dips.counts[1] == [1, 1, 0, 0, 0, 0])
        #expect(report.dips.counts[4] == [0, 0, 0, 1, 0, 0])
        #expect(report.dips.total == 3, "the dip the day after is outside the period")
        #expect(report.swells.counts == [[0, 1, 0, 0], [1, 0, 0, 0]])
        #expect(report.interruptions == .init(short: 1, long: 1))
        #expect(report.overcurrents == 1 && report.phase_sequence == 1 && report.frequency_deviations == 1)
        #expect(report.voltage.allSatisfy { $0.intervals == 0 && $0.within_10pct == nil && $0.compliant == nil })
        #expect(report.frequency.minutes == 0 && report.frequency.compliant == nil)
    }

    @Test("the 95th percentile is the nearest rank")
    func percentile() {
        #expect(EN50160Report.percentile95([]) == nil)
        #expect(EN50160Report.percentile95([3]) == 3)
        #expect(EN50160Report.percentile95((1...20).map(Double.init)) == 19)
        #expect(EN50160Report.percentile95((1...100).map(Double.init).reversed()) == 95)
    }
}
