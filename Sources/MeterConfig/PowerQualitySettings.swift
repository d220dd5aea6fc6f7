// SPDX-License-Identifier: Apache-2.0

/// `[POWER_QUALITY]`: power-quality events and the EN 50160 report's reference values.
///
/// Dips, swells, interruptions and overcurrent come from the ADE9000's half-cycle engine (DIP_LVL, SWELL_LVL, OILVL,
/// ZXTOUT, set from these keys), polled every `event_poll_ms`; frequency deviations and the phase sequence from the
/// one-second readings.
///
/// Thresholds are in percent of `nominal_voltage` (EN 50160: dips below 90 %, swells above 110 %, interruptions below
/// 5 %), durations in half cycles of the line (`[METER_SERVICE] line_frequency_hz`) as the chip counts them.
public struct PowerQualitySettings: Sendable, Hashable {
    /// `enabled`: `true` (default) or `false`: track and store events.
    public var enabled: Bool
    /// `nominal_voltage`: 100…480 V line to neutral, default 230.
    public var nominalVoltage: Double
    /// `dip_threshold_pct`: 50…99, default 90: a dip starts below this share of nominal (DIP_LVL).
    public var dipThresholdPercent: Double
    /// `swell_threshold_pct`: 101…150, default 110: a swell starts above it (SWELL_LVL).
    public var swellThresholdPercent: Double
    /// `interruption_threshold_pct`: 1…20, default 5: below it a dip is an interruption (EN 50160 §3.22).
    public var interruptionThresholdPercent: Double
    /// `dip_half_cycles`, `swell_half_cycles`: 1…100, default 2 (one line cycle): how long the half-cycle RMS must stay
    /// past the threshold before the chip reports it (DIP_CYC, SWELL_CYC).
    public var dipHalfCycles: Int
    public var swellHalfCycles: Int
    /// `overcurrent_a`: the half-cycle RMS current above which an overcurrent event is recorded (OILVL); none: off.
    public var overcurrentAmperes: Double?
    /// `zero_crossing_timeout_ms`: 10…8000, default 100: a phase without a voltage zero crossing this long is lost
    /// (ZXTOUT, an interruption).
    public var zeroCrossingTimeoutMs: Int
    /// `event_poll_ms`: 1…1000, default 5: how often the chip's detectors are read. At most a quarter of a line cycle
    /// (5 ms at 50 Hz) gives each event's duration to the half cycle; longer polls cost less and time events coarser
    /// (an event is never missed: the chip latches it).
    public var eventPollMs: Int
    /// `frequency_tolerance_pct`: 0.1…10, default 1 (EN 50160's ±1 %): a frequency outside it is an event.
    public var frequencyTolerancePercent: Double
    /// `thd_limit_pct`: 1…50, default 8 (EN 50160): the report's limit for the THD-V 95th percentile.
    public var thdLimitPercent: Double

    public init(enabled: Bool = true, nominalVoltage: Double = 230, dipThresholdPercent: Double = 90,
                swellThresholdPercent: Double = 110, interruptionThresholdPercent: Double = 5, dipHalfCycles: Int = 2,
                swellHalfCycles: Int = 2, overcurrentAmperes: Double? = nil, zeroCrossingTimeoutMs: Int = 100,
                eventPollMs: Int = 5, frequencyTolerancePercent: Double = 1, thdLimitPercent: Double = 8) {
        self.enabled = enabled; self.nominalVoltage = nominalVoltage; self.dipThresholdPercent = dipThresholdPercent
        self.swellThresholdPercent = swellThresholdPercent; self.interruptionThresholdPercent = interruptionThresholdPercent
        self.dipHalfCycles = dipHalfCycles; self.swellHalfCycles = swellHalfCycles; self.overcurrentAmperes = overcurrentAmperes
        self.zeroCrossingTimeoutMs = zeroCrossingTimeoutMs; self.eventPollMs = eventPollMs; self.frequencyTolerancePercent = frequencyTolerancePercent
        self.thdLimitPercent = thdLimitPercent
    }

    /// One line for `config check` and the start log.
    public var summary: String {
        guard enabled else { return "power quality: off" }
        func n(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
        return "power quality: on, nominal \(n(nominalVoltage)) V; dips below \(n(dipThresholdPercent)) % for \(dipHalfCycles) half cycles, "
            + "swells above \(n(swellThresholdPercent)) % for \(swellHalfCycles), interruptions below \(n(interruptionThresholdPercent)) % "
            + "or \(zeroCrossingTimeoutMs) ms without a zero crossing; overcurrent "
            + (overcurrentAmperes.map { "above \(n($0)) A" } ?? "off") + "; the chip read every \(eventPollMs) ms; frequency ±\(n(frequencyTolerancePercent)) %; THD-V limit \(n(thdLimitPercent)) %"
    }
}
