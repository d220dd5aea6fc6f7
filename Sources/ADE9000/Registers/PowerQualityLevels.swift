// SPDX-License-Identifier: Apache-2.0

/// The power-quality detectors' settings as chip codes (TRM p.30, DS Table 6): what the driver writes at start-up.
///
/// The levels compare with the half-cycle RMS (xVRMSONE, xIRMSONE) shifted right by 5, so a 24-bit register covers
/// the 26-bit RMS full scale: DIP_LVL = xVRMSONE × 2^−5 at the threshold. ``code(rms:)`` makes one.
public struct PowerQualityLevels: Sendable, Hashable {
    /// DIP_LVL, SWELL_LVL: 24-bit level codes.
    public var dipLevel: UInt32, swellLevel: UInt32
    /// DIP_CYC, SWELL_CYC: half cycles past the level before the detector changes mode (1…65535).
    public var dipHalfCycles: UInt16, swellHalfCycles: UInt16
    /// OILVL; nil leaves overcurrent detection off (CONFIG3.OC_EN = 0).
    public var overcurrentLevel: UInt32?
    /// ZXTOUT: the zero-crossing timeout is (ZXTOUT + 1) / 8000 s.
    public var zeroCrossingTimeout: UInt16

    public init(dipLevel: UInt32, swellLevel: UInt32, dipHalfCycles: UInt16, swellHalfCycles: UInt16,
                overcurrentLevel: UInt32?, zeroCrossingTimeout: UInt16) {
        self.dipLevel = dipLevel; self.swellLevel = swellLevel; self.dipHalfCycles = dipHalfCycles
        self.swellHalfCycles = swellHalfCycles; self.overcurrentLevel = overcurrentLevel; self.zeroCrossingTimeout = zeroCrossingTimeout
    }

    /// The level code for a half-cycle RMS code (xVRMSONE or xIRMSONE): ÷ 2^5, clamped to 24 bits.
    public static func code(rms: Double) -> UInt32 {
        UInt32(max(0, min(Double(0xFF_FFFF), (rms / 32).rounded())))
    }

    /// The half-cycle RMS code a level register (DIP_LVL, DIPx, SWELLx, OIx, …) stands for: × 2^5.
    public static func rms(code: UInt32) -> Double { Double(code & 0xFF_FFFF) * 32 }

    /// ZXTOUT for a timeout in seconds: (ZXTOUT + 1) / 8000 s, within 1…65536 samples.
    public static func zeroCrossingTimeout(seconds: Double) -> UInt16 {
        UInt16(max(0, min(65_535, (seconds * 8000).rounded() - 1)))
    }

    /// The configuration writes, each verified by read-back like the rest of the start-up sequence.
    public var configurationWrites: [(Register, UInt32)] {
        [
            (.DIP_LVL, dipLevel), (.DIP_CYC, UInt32(dipHalfCycles)),
            (.SWELL_LVL, swellLevel), (.SWELL_CYC, UInt32(swellHalfCycles)),
            (.OILVL, overcurrentLevel ?? 0xFF_FFFF),
            (.CONFIG3, OvercurrentEnable.config3(phases: overcurrentLevel != nil, neutral: false)),
            (.ZXTOUT, UInt32(zeroCrossingTimeout)),
        ]
    }
}
