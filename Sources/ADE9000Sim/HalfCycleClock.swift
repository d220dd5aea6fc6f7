// SPDX-License-Identifier: Apache-2.0

/// The half-cycle boundaries on the chip's sample axis: boundary k at ⌊k·8000/(2f)⌋, counted from sample 0, so a
/// half cycle that is not a whole number of samples alternates between the two neighbours.
struct HalfCycleClock {
    let samplesPerHalfCycle: Double

    init(frequencyHz f: Double) { samplesPerHalfCycle = ChipState.dspRate / (2 * f) }

    /// Samples per line cycle, rounded up: the longest one-cycle window.
    var lineCycleSamples: Int64 { Int64((2 * samplesPerHalfCycle).rounded(.up)) }

    func boundary(_ k: Int64) -> Int64 {
        // A relative nudge far below one sample keeps k·80.000… from flooring to the sample before.
        let x = Double(k) * samplesPerHalfCycle
        return Int64((x + x * 1e-13).rounded(.down)) // k ≥ 0
    }

    /// The index of the last boundary at or before sample `s`.
    func index(atOrBefore s: Int64) -> Int64 {
        var k = Int64((Double(s) / samplesPerHalfCycle).rounded(.down))
        while boundary(k + 1) <= s { k += 1 }
        while boundary(k) > s { k -= 1 }
        return k
    }
}
