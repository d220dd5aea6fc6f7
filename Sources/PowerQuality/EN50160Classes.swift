// SPDX-License-Identifier: Apache-2.0

/// EN 50160's tables for counting dips and swells by depth and duration (EN 50160:2010 Tables 5 and 6, the
/// classification of IEC 61000-4-30), and its split of interruptions into short (up to 3 min) and long.
public enum EN50160Classes {
    /// Dip rows by residual voltage u in % of nominal: 90 > u ≥ 80, 80 > u ≥ 70, 70 > u ≥ 40, 40 > u ≥ 5, 5 > u.
    public static let dipRows = ["90>u>=80", "80>u>=70", "70>u>=40", "40>u>=5", "5>u"]
    /// Swell rows by the highest voltage u in %: u ≥ 120, 120 > u > 110.
    public static let swellRows = ["u>=120", "120>u>110"]
    /// Dip columns by duration t: 10–200 ms, 0.2–0.5 s, 0.5–1 s, 1–5 s, 5–60 s; and longer, outside the table.
    public static let dipColumns = ["10-200ms", "0.2-0.5s", "0.5-1s", "1-5s", "5-60s", ">60s"]
    /// Swell columns: 10–500 ms, 0.5–5 s, 5–60 s; and longer.
    public static let swellColumns = ["10-500ms", "0.5-5s", "5-60s", ">60s"]
    /// An interruption longer than this is long (EN 50160 §3.22: three minutes).
    public static let shortInterruptionMs: Int64 = 180_000

    /// The dip row of a residual voltage (% of nominal).
    public static func dipRow(residualPercent u: Double) -> Int {
        switch u {
        case 80...: 0
        case 70..<80: 1
        case 40..<70: 2
        case 5..<40: 3
        default: 4
        }
    }

    /// The swell row of a highest voltage (% of nominal).
    public static func swellRow(percent u: Double) -> Int { u >= 120 ? 0 : 1 }

    /// The dip column of a duration: a bound belongs to the shorter class (10 ≤ t ≤ 200 ms, 200 < t ≤ 500 ms, …).
    public static func dipColumn(durationMs t: Int64) -> Int {
        switch t {
        case ...200: 0
        case ...500: 1
        case ...1_000: 2
        case ...5_000: 3
        case ...60_000: 4
        default: 5
        }
    }

    /// The swell column of a duration.
    public static func swellColumn(durationMs t: Int64) -> Int {
        switch t {
        case ...500: 0
        case ...5_000: 1
        case ...60_000: 2
        default: 3
        }
    }
}
