// SPDX-License-Identifier: Apache-2.0

/// `[FORECAST]`: the on-device forecaster of the three-phase total power (`l1_p + l2_p + l3_p`).
///
/// Every key is optional; the defaults are shown in `calibration/config.ini`. The forecaster works on minute
/// rows, so it needs `[DATA_GATHERING_MODULE] gathering_interval_sec = 60`.
public struct ForecastSettings: Sendable, Hashable {
    /// `enabled`: `true` or `false`, default `true`.
    public var enabled: Bool
    /// `model`: `builtin` (default), or a Keras model file (`.h5`, `.keras`, `.tar.gz`, `.tar`) that is loaded,
    /// checked on recent history and served beside the built-in model; relative paths are relative to the
    /// config file's folder. The file is watched: a new one replaces the old after its check.
    public var modelPath: String?
    /// `train_every_hours`: hours between trainings of the built-in model, 1…168, default 24.
    public var trainEveryHours: Int
    /// `history_days`: days of minute power the forecaster keeps (4 bytes a minute, in memory and in its own
    /// table), 8…730, default 365 (2.1 MB). The built-in model trains on up to 364 days of it: a year gave +21 % skill at
    /// 60 minutes in the backtest, 8 weeks +14 % (`Sources/Forecast/README.md`).
    public var historyDays: Int
    /// `min_training_days`: days of history before the built-in model first trains, 1…365, default 21 (a week for
    /// the weekly lag, a week to fit, two to validate); until then, persistence is served.
    public var minTrainingDays: Int
    /// `score_window_hours`: the window of the rolling scores (MAE, RMSE, WAPE, skill), 1…720, default 168.
    public var scoreWindowHours: Int
    /// `drift_skill_below`: a drift is the active model's rolling skill against persistence staying below this
    /// level (−1…1, default 0.0) …
    public var driftSkillBelow: Double
    /// `drift_for_hours`: … for this many hours (1…720, default 24). Then an event is recorded and an export of
    /// training data is queued.
    public var driftForHours: Int
    /// `keep_forecasts_days`: days the issued forecasts stay in the `forecast` table, 1…365, default 7.
    public var keepForecastsDays: Int

    public init(enabled: Bool = true, modelPath: String? = nil, trainEveryHours: Int = 24, historyDays: Int = 365,
                minTrainingDays: Int = 21, scoreWindowHours: Int = 168, driftSkillBelow: Double = 0,
                driftForHours: Int = 24, keepForecastsDays: Int = 7) {
        self.enabled = enabled; self.modelPath = modelPath; self.trainEveryHours = trainEveryHours
        self.historyDays = historyDays; self.minTrainingDays = minTrainingDays; self.scoreWindowHours = scoreWindowHours
        self.driftSkillBelow = driftSkillBelow; self.driftForHours = driftForHours; self.keepForecastsDays = keepForecastsDays
    }
}
