// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
internal import Glibc
#endif

/// The model works on the level `asinh(watts / scale)`: close to `log` above a few hundred watts (household
/// load is multiplicative: a kettle adds as much to 300 W as to 3 kW, relatively less), linear through zero,
/// so exported (negative) power stays defined. Medians commute with monotone maps, so a least-absolute-
/// deviations fit on levels, mapped back, is still a median forecast in watts.
struct LevelScale: Sendable {
    let watts: Double
    @inline(__always) func level(_ w: Double) -> Double { asinh(w / watts) }
    @inline(__always) func watts(_ level: Double) -> Double { watts * sinh(level) }
}

/// Read access to a history for the features: levels, and sums of levels over windows, restricted to the
/// minutes `first … last` (everything outside is missing, so nothing after the issue minute is ever seen).
protocol LevelWindows {
    var first: Int64 { get }
    var last: Int64 { get }
    /// Watts of `minute`, `nil` when missing or outside.
    func watts(_ minute: Int64) -> Double?
    /// Level of `minute`, `nil` when missing or outside.
    func level(_ minute: Int64) -> Double?
    /// Sum of the levels present in `from … to` (clipped to `first … last`) and how many were present.
    func window(_ from: Int64, _ to: Int64) -> (sum: Double, present: Int)
}

/// Prefix sums of levels and of present minutes over a block of minutes: every window in O(1). Built once per
/// training, and once for a whole backtest (then narrowed per issue minute with `first`/`last`).
struct PrefixWindows: LevelWindows {
    let start: Int64
    let raw: [Float]
    private let sums: [Double]   // sums[i] = Σ levels of raw[0 ..< i]
    private let counts: [Int32]  // counts[i] = present minutes in raw[0 ..< i]
    var first: Int64
    var last: Int64

    init(start: Int64, raw: [Float], scale: LevelScale) {
        self.start = start
        self.raw = raw
        var sums = [Double](repeating: 0, count: raw.count + 1)
        var counts = [Int32](repeating: 0, count: raw.count + 1)
        var s = 0.0
        var c: Int32 = 0
        for i in 0..<raw.count {
            let v = raw[i]
            if !v.isNaN { s += scale.level(Double(v)); c += 1 }
            sums[i + 1] = s
            counts[i + 1] = c
        }
        self.sums = sums
        self.counts = counts
        first = start
        last = start + Int64(raw.count) - 1
    }

    init(_ series: MinuteSeries, endingAt minute: Int64, scale: LevelScale) {
        let from = series.firstMinute ?? minute
        let to = min(series.lastMinute ?? minute, minute)
        self.init(start: from, raw: series.values(from: from, count: Int(max(0, to - from + 1))), scale: scale)
    }

    @inline(__always) func watts(_ minute: Int64) -> Double? {
        guard minute >= first, minute <= last else { return nil }
        let v = raw[Int(minute - start)]
        return v.isNaN ? nil : Double(v)
    }

    @inline(__always) func level(_ minute: Int64) -> Double? {
        guard minute >= first, minute <= last else { return nil }
        let i = Int(minute - start)
        return raw[i].isNaN ? nil : sums[i + 1] - sums[i]
    }

    @inline(__always) func window(_ from: Int64, _ to: Int64) -> (sum: Double, present: Int) {
        let a = max(from, first), b = min(to, last)
        guard a <= b else { return (0, 0) }
        let i = Int(a - start), j = Int(b - start) + 1
        return (sums[j] - sums[i], Int(counts[j] - counts[i]))
    }
}

/// Windows read straight from a `MinuteSeries`: for one forecast at a time (the service), no set-up.
struct SeriesWindows: LevelWindows {
    let series: MinuteSeries
    let scale: LevelScale
    let first: Int64
    let last: Int64

    init?(_ series: MinuteSeries, endingAt minute: Int64, scale: LevelScale) {
        guard let f = series.firstMinute, let l = series.lastMinute, minute >= f else { return nil }
        self.series = series
        self.scale = scale
        first = f
        last = min(l, minute)
    }

    func watts(_ minute: Int64) -> Double? {
        guard minute >= first, minute <= last else { return nil }
        return series.value(at: minute).map(Double.init)
    }

    func level(_ minute: Int64) -> Double? { watts(minute).map(scale.level) }

    func window(_ from: Int64, _ to: Int64) -> (sum: Double, present: Int) {
        let a = max(from, first), b = min(to, last)
        guard a <= b else { return (0, 0) }
        var s = 0.0, n = 0
        var m = a
        while m <= b {
            if let v = series.value(at: m) { s += scale.level(Double(v)); n += 1 }
            m += 1
        }
        return (s, n)
    }
}
