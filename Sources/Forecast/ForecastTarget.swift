// SPDX-License-Identifier: Apache-2.0

/// One quantity the forecaster predicts, issued at a minute `t` (the last known minute).
///
/// `.value` is the power of minute `t + horizonMinutes`; `.mean` is the mean power of minutes
/// `t + 1 … t + horizonMinutes`. On the device the power is the three-phase total `l1_p + l2_p + l3_p` in watts.
public struct ForecastTarget: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// What is forecast over the horizon.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// The minute value at `t + horizonMinutes`.
        case value
        /// The mean of the minutes `t + 1 … t + horizonMinutes`.
        case mean
    }

    /// Minutes ahead of the issue minute (≥ 1).
    public var horizonMinutes: Int
    /// Value at the horizon or mean up to it.
    public var kind: Kind

    /// - Parameters:
    ///   - horizonMinutes: minutes ahead, at least 1.
    ///   - kind: `.value` or `.mean`.
    public init(horizonMinutes: Int, kind: Kind) {
        precondition(horizonMinutes >= 1, "a forecast horizon is at least one minute")
        self.horizonMinutes = horizonMinutes
        self.kind = kind
    }

    /// The five targets the device serves: value at 1, 15, 60 min; mean of the next 15 and 60 min.
    public static let all: [ForecastTarget] = [
        .init(horizonMinutes: 1, kind: .value), .init(horizonMinutes: 15, kind: .value),
        .init(horizonMinutes: 60, kind: .value), .init(horizonMinutes: 15, kind: .mean),
        .init(horizonMinutes: 60, kind: .mean),
    ]

    /// `value+60min`, `mean+15min`.
    public var description: String { "\(kind.rawValue)+\(horizonMinutes)min" }

    /// Horizon first, then `.value` before `.mean`.
    public static func < (a: ForecastTarget, b: ForecastTarget) -> Bool {
        if a.horizonMinutes != b.horizonMinutes { return a.horizonMinutes < b.horizonMinutes }
        return a.kind == .value && b.kind == .mean
    }

    /// The truth for this target issued at `minute`, from `series`; `nil` when any needed minute is missing.
    public func actual(in series: MinuteSeries, issuedAt minute: Int64) -> Double? {
        switch kind {
        case .value:
            return series.value(at: minute + Int64(horizonMinutes)).map(Double.init)
        case .mean:
            var sum = 0.0
            for m in (minute + 1)...(minute + Int64(horizonMinutes)) {
                guard let v = series.value(at: m) else { return nil }
                sum += Double(v)
            }
            return sum / Double(horizonMinutes)
        }
    }
}
