// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[FORECAST]`: defaults, every key read, and errors that name the line and say what to write.
@Suite struct ForecastSettingsTests {
    /// The shipped file with `[FORECAST]` replaced by `lines` (none: the section removed).
    func configuration(_ lines: [String]?) throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        let text = Fixtures.config(shipped, replacingSection: "FORECAST", with: lines)
        return try MeterConfiguration(parsing: text, source: "/etc/clemap-edge/config.ini")
    }

    @Test func theShippedFileAndAnAbsentSectionGiveTheDefaults() throws {
        #expect(try MeterConfiguration.load(path: Fixtures.shippedConfig).forecast == ForecastSettings())
        #expect(try configuration(nil).forecast == ForecastSettings())
        #expect(try MeterConfiguration.load(path: Fixtures.referenceConfig).forecast == ForecastSettings())
    }

    @Test func everyKeyIsRead() throws {
        let settings = try configuration([
            "enabled = false", "model = models/model.h5", "train_every_hours = 6", "history_days = 90",
            "min_training_days = 5", "score_window_hours = 48", "drift_skill_below = -0.1", "drift_for_hours = 12",
            "keep_forecasts_days = 3",
        ]).forecast
        #expect(settings == ForecastSettings(enabled: false, modelPath: "/etc/clemap-edge/models/model.h5", trainEveryHours: 6,
                                             historyDays: 90, minTrainingDays: 5, scoreWindowHours: 48, driftSkillBelow: -0.1,
                                             driftForHours: 12, keepForecastsDays: 3))
        #expect(try configuration(["model = BUILTIN"]).forecast.modelPath == nil)
    }

    @Test func badValuesNameTheLineAndTheFix() throws {
        do {
            _ = try configuration(["history_days = 3", "drift_skill_below = lots", "enabled = yes"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("[FORECAST] history_days") && text.contains("8…730"), "\(text)")
            #expect(text.contains("[FORECAST] drift_skill_below") && text.contains("not a number"), "\(text)")
            #expect(text.contains("[FORECAST] enabled") && text.contains("write enabled = true or enabled = false"), "\(text)")
        }
    }

    @Test func conflictsAreReported() throws {
        do {
            _ = try configuration(["history_days = 10", "min_training_days = 10"])
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("min_training_days (10) must be below history_days (10)"), "\(error)")
        }
    }
}
