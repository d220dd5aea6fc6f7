// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import Forecast

/// SplitMix64: the same numbers on every platform, so a synthetic series is a fixture.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    /// Standard Laplace.
    mutating func laplace() -> Double {
        let u = uniform() - 0.5
        return -(u < 0 ? -1 : 1) * log(1 - 2 * abs(u))
    }
}

/// A series of `days` days from Unix minute 0 (a Thursday, 00:00 UTC), `watts(minute)` each minute.
func series(days: Int, capacityDays: Int? = nil, _ watts: (Int64) -> Double?) -> MinuteSeries {
    var s = MinuteSeries(capacityMinutes: (capacityDays ?? days) * 1440)
    for m in 0..<Int64(days * 1440) { s.record(minute: m, watts: watts(m)) }
    return s
}

/// A CSV reader fed from strings, lines as given.
func readCSV(_ lines: [String], time: String = "time", power: String = "p", scale: Double = 1) throws(MinuteCSVError) -> MinuteCSV {
    var reader = MinuteCSVReader(file: "x.csv", timeColumn: time, powerColumn: power, scale: scale)
    for line in lines {
        var bytes = Array(line.utf8)
        try bytes.withUnsafeMutableBufferPointer { b throws(MinuteCSVError) in try reader.consume(line: UnsafeBufferPointer(b)) }
    }
    return try reader.finish()
}
