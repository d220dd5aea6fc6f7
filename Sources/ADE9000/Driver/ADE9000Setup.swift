// SPDX-License-Identifier: Apache-2.0

/// What the driver writes into the chip at start-up: board-independent settings plus the calibration.
public struct ADE9000Setup: Sendable, Hashable {
    /// ACCMODE.SELFREQ: the nominal line frequency (also used by the phase compensation).
    public var lineFrequency: AccumulationMode.LineFrequency
    /// PGA_GAIN: two bits per ADC, 00 = ×1 (DS Table 7 p.77). The CLEMAP board runs at ×1.
    public var pgaGain: UInt32
    /// Calibration registers per phase, from `config.ini`.
    public var calibration: [Phase: PhaseCalibration]
    /// EGY_TIME + 1: samples per energy period. 80 moves energy into the user registers every 10 ms, so a
    /// read sees the counter within 10 ms of the moment it was taken (0.02 % of a minute).
    public var energyPeriodSamples: UInt32
    /// Use CONFIG1.BURST_EN and one burst for the measurement block (CRC checked through CRC_SPI).
    public var burstReads: Bool
    /// Attempts per register when a CRC does not match or a read-back differs. With 5 % of reads corrupted
    /// a register still fails all six only once in about a million snapshots.
    public var attempts: Int
    /// The dip, swell, overcurrent and zero-crossing detectors (`[POWER_QUALITY]`); nil leaves them at their reset
    /// values, which never fire (DIP_LVL 0, SWELL_LVL and OILVL full scale) except the ~8 s zero-crossing timeout.
    public var powerQuality: PowerQualityLevels?

    public init(lineFrequency: AccumulationMode.LineFrequency = .hz50, pgaGain: UInt32 = 0,
                calibration: [Phase: PhaseCalibration] = [:], energyPeriodSamples: UInt32 = 80,
                burstReads: Bool = true, attempts: Int = 6, powerQuality: PowerQualityLevels? = nil) {
        self.lineFrequency = lineFrequency; self.pgaGain = pgaGain; self.calibration = calibration
        self.energyPeriodSamples = energyPeriodSamples; self.burstReads = burstReads; self.attempts = attempts
        self.powerQuality = powerQuality
    }

    /// CONFIG1 after the start-up writes: burst reads, and dip/swell latches on entry and exit (DIP_SWELL_IRQ_MODE),
    /// so the event monitor sees both edges of every dip and swell. Nil: leave CONFIG1 at 0.
    public var config1: Config1? {
        var value: Config1 = []
        if burstReads { value.insert(.BURST_EN) }
        if powerQuality != nil { value.insert(.DIP_SWELL_IRQ_MODE) }
        return value.isEmpty ? nil : value
    }

    /// The configuration writes of the start-up sequence, in datasheet order (TRM quick start as quoted
    /// in ade9000.md §4.3): PGA, CONFIGx, ACCMODE/VLEVEL, zero crossing, calibration, energy, masks.
    /// Every entry is verified by read-back. BURST_EN, STATUS clearing, RUN and EGY_PWR_EN follow in the
    /// driver, because each changes how the chip answers.
    public var configurationWrites: [(Register, UInt32)] {
        var writes: [(Register, UInt32)] = [
            (.PGA_GAIN, pgaGain),
            // ISUMRMS = RMS of AI_PCF + BI_PCF + CI_PCF: the neutral current (the board has no neutral CT).
            (.CONFIG0, CurrentSum.phases.config0),
            (.CONFIG2, HighPassCorner.hz1_25.config2),
            (.ACCMODE, AccumulationMode(lineFrequency: lineFrequency).rawValue),
            (.VLEVEL, VoltageLevel.register(headroom: 2)),
            (.ZX_LP_SEL, 0x001E),
            (.DICOEFF, 0),
            (.MASK0, 0), (.MASK1, 0), (.EVENT_MASK, 0),
        ]
        // Overcurrent detection (CONFIG3.OC_EN) stays off unless [POWER_QUALITY] asks for it.
        writes += powerQuality?.configurationWrites ?? [(.CONFIG3, 0)]
        for phase in Phase.allCases {
            let c = calibration[phase] ?? .zero
            writes += [
                (.IGAIN(phase), UInt32(bitPattern: c.igain)), (.VGAIN(phase), UInt32(bitPattern: c.vgain)),
                (.PGAIN(phase), UInt32(bitPattern: c.pgain)), (.PHCAL0(phase), UInt32(bitPattern: c.phcal0)),
                (.IRMSOS(phase), UInt32(bitPattern: c.irmsos)), (.VRMSOS(phase), UInt32(bitPattern: c.vrmsos)),
                (.WATTOS(phase), UInt32(bitPattern: c.wattos)), (.VAROS(phase), UInt32(bitPattern: c.varos)),
            ]
        }
        writes += [
            (.EGY_TIME, energyPeriodSamples - 1),
            (.EP_CFG, energyConfig(accumulate: false).rawValue),
            (.TEMP_CFG, TemperatureConfig.TEMP_EN),
        ]
        return writes
    }

    /// The calibration registers among ``configurationWrites``: what SIGHUP rewrites and what is read back
    /// after a hardware reset.
    public var calibrationWrites: [(Register, UInt32)] {
        let registers = Set(Phase.allCases.flatMap { p in
            [Register.IGAIN(p), .VGAIN(p), .PGAIN(p), .PHCAL0(p), .IRMSOS(p), .VRMSOS(p), .WATTOS(p), .VAROS(p)]
        })
        return configurationWrites.filter { registers.contains($0.0) }
    }

    /// Add-mode energy (EGY_LD_ACCUM = 0) so the user registers run freely and the reader takes wrapping
    /// differences: no energy is lost between reads. No-load detection off: its threshold scaling is not
    /// documented (ade9000.md §4.4), and a meter must count small loads.
    func energyConfig(accumulate: Bool) -> EnergyPowerConfig {
        EnergyPowerConfig(noLoadTimer: .disabled, latchEachPeriod: false, countHalfCycles: false, accumulate: accumulate)
    }
}
