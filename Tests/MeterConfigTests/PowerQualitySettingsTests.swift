// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[POWER_QUALITY]`: on with EN 50160's thresholds by default; every key read and checked, each error naming
/// `file:line [POWER_QUALITY] key` and the fix.
@Suite struct PowerQualitySettingsTests {
    func configuration(_ lines: [String]?) throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        return try MeterConfiguration(parsing: Fixtures.config(shipped, replacingSection: "POWER_QUALITY", with: lines),
                                      source: "/etc/clemap-edge/config.ini")
    }

    @Test func theShippedFileAndAnAbsentSectionGiveEN50160sValues() throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        let en50160 = PowerQualitySettings(enabled: true, nominalVoltage: 230, dipThresholdPercent: 90, swellThresholdPercent: 110,
                                           interruptionThresholdPercent: 5, dipHalfCycles: 2, swellHalfCycles: 2, overcurrentAmperes: nil,
                                           zeroCrossingTimeoutMs: 100, eventPollMs: 5, frequencyTolerancePercent: 1, thdLimitPercent: 8)
        #expect(shipped.powerQuality == en50160)
        #expect(shipped.unknownKeys.isEmpty, "\(shipped.unknownKeys)")
        #expect(try configuration(nil).powerQuality == en50160)
        #expect(shipped.summary().contains("power quality: on, nominal 230 V; dips below 90 % for 2 half cycles, swells above 110 % for 2, "
                                           + "interruptions below 5 % or 100 ms without a zero crossing; overcurrent off; the chip read every 5 ms; "
                                           + "frequency ±1 %; THD-V limit 8 %"))
    }

    @Test func everyKeyIsRead() throws {
        let all = try configuration(["enabled = true", "nominal_voltage = 120", "dip_threshold_pct = 85", "swell_threshold_pct = 115",
                                     "interruption_threshold_pct = 10", "dip_half_cycles = 1", "swell_half_cycles = 4",
                                     "overcurrent_a = 63", "zero_crossing_timeout_ms = 40", "event_poll_ms = 20", "frequency_tolerance_pct = 0.5",
                                     "thd_limit_pct = 5"])
        #expect(all.powerQuality == PowerQualitySettings(enabled: true, nominalVoltage: 120, dipThresholdPercent: 85, swellThresholdPercent: 115,
                                                         interruptionThresholdPercent: 10, dipHalfCycles: 1, swellHalfCycles: 4,
                                                         overcurrentAmperes: 63, zeroCrossingTimeoutMs: 40, eventPollMs: 20, frequencyTolerancePercent: 0.5,
                                                         thdLimitPercent: 5))
        #expect(all.unknownKeys.isEmpty)
        #expect(try configuration(["enabled = false"]).summary().contains("power quality: off"))
    }

    @Test func badValuesNameFileLineSectionKeyAndTheFix() throws {
        do {
            _ = try configuration(["enabled = maybe", "nominal_voltage = 20", "dip_threshold_pct = 100", "swell_threshold_pct = 100",
                                   "interruption_threshold_pct = 0", "dip_half_cycles = 0", "swell_half_cycles = 101",
                                   "overcurrent_a = lots", "zero_crossing_timeout_ms = 5", "frequency_tolerance_pct = 20", "thd_limit_pct = 0"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            for (key, words) in [("enabled", "'maybe' is not true or false"), ("nominal_voltage", "100.0…480.0"),
                                 ("dip_threshold_pct", "50.0…99.0"), ("swell_threshold_pct", "101.0…150.0"),
                                 ("interruption_threshold_pct", "1.0…20.0"), ("dip_half_cycles", "1…100"), ("swell_half_cycles", "1…100"),
                                 ("overcurrent_a", "'lots' is not a number"), ("zero_crossing_timeout_ms", "10…8000"),
                                 ("frequency_tolerance_pct", "0.1…10.0"), ("thd_limit_pct", "1.0…50.0")] {
                #expect(text.contains("[POWER_QUALITY] \(key)") && text.contains(words), "\(key): \(text)")
            }
            #expect(text.contains("/etc/clemap-edge/config.ini:"), "\(text)")
            #expect(error.errors.count == 11, "\(text)")
        }
    }
}
