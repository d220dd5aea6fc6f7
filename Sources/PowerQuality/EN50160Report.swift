// SPDX-License-Identifier: Apache-2.0

/// One stored minute, as far as the report needs it: the mean RMS voltage and the mean voltage THD of each phase,
/// and the mean frequency. Missing values are nil (a NULL in `meter_data`, a minute before THD was stored).
public struct PQMinute: Sendable, Hashable {
    /// The minute's start, Unix seconds UTC.
    public var time: Int64
    public var voltage: [Double?]
    /// Percent.
    public var voltageTHD: [Double?]
    public var frequency: Double?

    public init(time: Int64, voltage: [Double?], voltageTHD: [Double?] = [nil, nil, nil], frequency: Double?) {
        precondition(voltage.count == 3 && voltageTHD.count == 3, "three phases")
        self.time = time; self.voltage = voltage; self.voltageTHD = voltageTHD; self.frequency = frequency
    }
}

/// An EN 50160-style summary of a period (a week, as the standard assesses), from the stored minutes and events.
///
/// - **Supply voltage**: 10-minute means, aligned to UTC (IEC 61000-4-30), each the mean of the minutes stored in it.
///   An interval a dip, swell or interruption touches is flagged and left out (IEC 61000-4-30's flagging), as the
///   standard leaves them to the event tables. EN 50160 asks for 95 % of the intervals within ±10 % of nominal.
/// - **THD-V**: the 95th percentile of the unflagged 10-minute THD means per phase, against 8 %.
/// - **Frequency**: the share of minutes within ±1 % (99.5 % of a year asked) and within +4/−6 % (all of it). The
///   standard uses 10-second means; the minutes are coarser, which can only hide short excursions (those are
///   `frequency-deviation` events).
/// - **Events**: dips and swells counted by EN50160Classes, interruptions short and long, the other kinds by count.
public struct EN50160Report: Sendable, Codable {
    public struct Voltage: Sendable, Codable, Equatable {
        public var phase: Int
        /// 10-minute intervals with a value, and of those the flagged ones (left out).
        public var intervals: Int
        public var flagged: Int
        /// Of the unflagged intervals, the share within ±10 % of nominal (0…1); nil without any.
        public var within_10pct: Double?
        public var lowest: Double?
        public var highest: Double?
        /// `within_10pct >= 0.95`; nil without intervals.
        public var compliant: Bool?
    }
    public struct THD: Sendable, Codable, Equatable {
        public var phase: Int
        public var intervals: Int
        /// Percent; nil without THD values (rows stored before THD was).
        public var p95: Double?
        public var limit: Double
        public var compliant: Bool?
    }
    public struct Frequency: Sendable, Codable, Equatable {
        public var minutes: Int
        public var within_1pct: Double?
        public var within_plus4_minus6pct: Double?
        public var lowest: Double?
        public var highest: Double?
        /// 99.5 % within ±1 % and everything within +4/−6 %.
        public var compliant: Bool?
    }
    public struct Table: Sendable, Codable, Equatable {
        public var rows: [String]
        public var columns: [String]
        /// `counts[row][column]`, all phases together.
        public var counts: [[Int]]
        public var total: Int { counts.joined().reduce(0, +) }
    }
    public struct Interruptions: Sendable, Codable, Equatable {
        public var short: Int
        public var long: Int
    }

    public var from: Int64
    public var to: Int64
    public var nominal_voltage: Double
    public var nominal_frequency: Double
    public var minutes: Int
    public var voltage: [Voltage]
    public var thd_v: [THD]
    public var frequency: Frequency
    public var dips: Table
    public var swells: Table
    public var interruptions: Interruptions
    public var overcurrents: Int
    public var phase_sequence: Int
    public var frequency_deviations: Int

    /// - Parameters:
    ///   - minutes: the stored minutes of `[from, to)`, in any order.
    ///   - events: the events that start in `[from, to)`.
    ///   - thdLimit: percent (EN 50160: 8).
    public static func compute(minutes: [PQMinute], events: [PQEvent], from: Int64, to: Int64,
                               nominalVoltage: Double, nominalFrequency: Double, thdLimit: Double = 8) -> EN50160Report {
        let inRange = minutes.filter { $0.time >= from && $0.time < to }
        // Intervals an event touches: every phase's, as IEC 61000-4-30 flags all channels.
        var flagged = Set<Int64>()
        for event in events where [.dip, .swell, .interruption].contains(event.kind) {
            let first = floorDiv(floorDiv(event.startMs, 1000), 600), last = floorDiv(floorDiv(event.endMs, 1000), 600)
            for k in first...max(first, last) { flagged.insert(k) }
        }
        var voltage: [Voltage] = [], thd: [THD] = []
        for p in 0..<3 {
            let means = tenMinuteMeans(inRange.compactMap { m in m.voltage[p].map { (m.time, $0) } })
            let kept = means.filter { !flagged.contains($0.key) }.map(\.value)
            let share = kept.isEmpty ? nil : Double(kept.filter { abs($0 / nominalVoltage - 1) <= 0.10 }.count) / Double(kept.count)
            voltage.append(Voltage(phase: p + 1, intervals: means.count, flagged: means.count - kept.count, within_10pct: share,
                                   lowest: kept.min(), highest: kept.max(), compliant: share.map { $0 >= 0.95 }))
            let thdMeans = tenMinuteMeans(inRange.compactMap { m in m.voltageTHD[p].map { (m.time, $0) } })
                .filter { !flagged.contains($0.key) }.map(\.value)
            let p95 = percentile95(thdMeans)
            thd.append(THD(phase: p + 1, intervals: thdMeans.count, p95: p95, limit: thdLimit, compliant: p95.map { $0 <= thdLimit }))
        }
        let frequencies = inRange.compactMap(\.frequency)
        func share(_ test: (Double) -> Bool) -> Double? {
            frequencies.isEmpty ? nil : Double(frequencies.filter(test).count) / Double(frequencies.count)
        }
        let narrow = share { abs($0 / nominalFrequency - 1) <= 0.01 }
        let wide = share { let r = $0 / nominalFrequency - 1; return r >= -0.06 && r <= 0.04 }
        let frequency = Frequency(minutes: frequencies.count, within_1pct: narrow, within_plus4_minus6pct: wide,
                                  lowest: frequencies.min(), highest: frequencies.max(),
                                  compliant: narrow.flatMap { n in wide.map { n >= 0.995 && $0 >= 1 } })

        var dips = Table(rows: EN50160Classes.dipRows, columns: EN50160Classes.dipColumns,
                         counts: Array(repeating: Array(repeating: 0, count: EN50160Classes.dipColumns.count), count: EN50160Classes.dipRows.count))
        var swells = Table(rows: EN50160Classes.swellRows, columns: EN50160Classes.swellColumns,
                           counts: Array(repeating: Array(repeating: 0, count: EN50160Classes.swellColumns.count), count: EN50160Classes.swellRows.count))
        var interruptions = Interruptions(short: 0, long: 0)
        var overcurrents = 0, sequence = 0, deviations = 0
        for event in events where event.startMs >= from * 1000 && event.startMs < to * 1000 {
            switch event.kind {
            case .dip:
                let residual = (event.extreme ?? 0) / nominalVoltage * 100
                dips.counts[EN50160Classes.dipRow(residualPercent: residual)][EN50160Classes.dipColumn(durationMs: event.durationMs)] += 1
            case .swell:
                let highest = (event.extreme ?? nominalVoltage) / nominalVoltage * 100
                swells.counts[EN50160Classes.swellRow(percent: highest)][EN50160Classes.swellColumn(durationMs: event.durationMs)] += 1
            case .interruption:
                if event.durationMs <= EN50160Classes.shortInterruptionMs { interruptions.short += 1 } else { interruptions.long += 1 }
            case .overcurrent: overcurrents += 1
            case .phaseSequence: sequence += 1
            case .frequencyDeviation: deviations += 1
            }
        }
        return EN50160Report(from: from, to: to, nominal_voltage: nominalVoltage, nominal_frequency: nominalFrequency,
                             minutes: inRange.count, voltage: voltage, thd_v: thd, frequency: frequency, dips: dips, swells: swells,
                             interruptions: interruptions, overcurrents: overcurrents, phase_sequence: sequence,
                             frequency_deviations: deviations)
    }

    /// Mean of the values in each UTC 10-minute interval, keyed by `time / 600`.
    static func tenMinuteMeans(_ values: [(Int64, Double)]) -> [Int64: Double] {
        var sums: [Int64: (Double, Int)] = [:]
        for (time, value) in values where value.isFinite {
            sums[floorDiv(time, 600), default: (0, 0)].0 += value
            sums[floorDiv(time, 600), default: (0, 0)].1 += 1
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    /// The 95th percentile, nearest rank (the smallest value with at least 95 % of the values at or below it).
    static func percentile95(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, rank - 1)]
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
