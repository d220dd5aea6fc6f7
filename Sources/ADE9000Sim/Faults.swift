// SPDX-License-Identifier: Apache-2.0

/// Faults the simulator can inject at the wire, to prove the driver never lets one through.
public struct Faults: Sendable, Hashable {
    /// What a dead bus answers.
    public enum DeadBus: Sendable, Hashable {
        /// MISO floats high on its pull-up: every byte 0xFF (no chip, no power).
        case allOnes
        /// MISO held low: every byte 0x00 (short, missing pull-up).
        case allZeros
    }

    /// Probability that a read transaction has one data bit flipped on MISO after the chip computed its
    /// CRC (noise on the line). 0.01 = 1 % of reads.
    public var crcCorruptionProbability: Double
    /// When set, the chip does not answer at all.
    public var deadBus: DeadBus?

    public init(crcCorruptionProbability: Double = 0, deadBus: DeadBus? = nil) {
        self.crcCorruptionProbability = crcCorruptionProbability
        self.deadBus = deadBus
    }

    public static let none = Faults()
}

/// SplitMix64: small, seedable, and the same sequence on every platform (the simulator's noise and faults;
/// tests use it for repeatable random boards).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
