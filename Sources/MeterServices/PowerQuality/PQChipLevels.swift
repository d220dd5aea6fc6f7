// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import MeterConfig
public import MeterReadings

extension PowerQualitySettings {
    /// `[POWER_QUALITY]` as the chip's detector settings: the thresholds in percent of nominal turned into half-cycle RMS
    /// codes through the board scale, ÷ 2^5 (``PowerQualityLevels``). DIP_LVL and SWELL_LVL are one register for all
    /// three phases: the phases' mean V per LSB is used (``PhaseScale/mean(_:_:)``).
    public func chipLevels(scales: [Phase: PhaseScale]) -> PowerQualityLevels {
        // No scale (0): no level to set; the registers keep values that never fire.
        func known(_ value: Double) -> Double { value > 0 ? value : .nan }
        let voltsPerLSB = known(PhaseScale.mean(scales, \.voltsPerLSB)), ampsPerLSB = known(PhaseScale.mean(scales, \.ampsPerLSB))
        func volts(_ percent: Double) -> UInt32 {
            voltsPerLSB.isFinite ? PowerQualityLevels.code(rms: nominalVoltage * percent / 100 / voltsPerLSB) : 0
        }
        return PowerQualityLevels(
            dipLevel: volts(dipThresholdPercent), swellLevel: voltsPerLSB.isFinite ? volts(swellThresholdPercent) : 0xFF_FFFF,
            dipHalfCycles: UInt16(dipHalfCycles), swellHalfCycles: UInt16(swellHalfCycles),
            overcurrentLevel: overcurrentAmperes.flatMap { ampsPerLSB.isFinite ? PowerQualityLevels.code(rms: $0 / ampsPerLSB) : nil },
            zeroCrossingTimeout: PowerQualityLevels.zeroCrossingTimeout(seconds: Double(zeroCrossingTimeoutMs) / 1000))
    }
}
