// SPDX-License-Identifier: Apache-2.0

/// When to try an upload again: exponential with jitter after a transient error (network, 5xx, throttling), and
/// slowly after a permanent one (403, a wrong bucket), so that a broken setup costs one request every few hours,
/// never a storm, and still recovers by itself once it is fixed.
public struct Backoff: Sendable, Hashable {
    /// The first wait, doubled after each failure in a row up to ``maximum``.
    public var base: Double = 30
    public var maximum: Double = 3600
    /// The wait after a permanent error.
    public var permanent: Double = 6 * 3600
    /// ± this share of the wait, so that a fleet that lost its network at once does not come back at once.
    public var jitter: Double = 0.2

    public init() {}

    /// Seconds to wait after the `failures`-th failure in a row (1 for the first); `unit` in 0..<1 picks the jitter.
    public func delay(failures: Int, permanent isPermanent: Bool, unit: Double) -> Double {
        let wait = isPermanent ? permanent : min(maximum, base * Double(1 << min(max(failures - 1, 0), 20)))
        return wait * (1 + jitter * (2 * unit - 1))
    }
}
