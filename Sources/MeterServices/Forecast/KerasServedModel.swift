// SPDX-License-Identifier: Apache-2.0
import MeterReadings
public import Forecast
public import KerasModel

/// A Keras file (`[FORECAST] model`) served beside the built-in model: one feature (the total power, W), a
/// fixed window of consecutive minutes, one output for the target its scaler names (default: the value 1 minute
/// ahead; see `Sources/KerasModel/README.md`).
public struct KerasServedModel: CheckedForecastModel {
    public let model: KerasModel
    public let target: ForecastTarget
    public let windowLength: Int
    public var name: String { "keras" }
    public var summary: String { "\(model.summary), window \(windowLength) min, forecasts \(target)" }

    /// Loads and checks the file's shape. - Throws: ``KerasModelError``, or ``KerasServedModel/Unsuitable``.
    public static func load(_ path: String) throws -> KerasServedModel {
        let model = try KerasModel.load(contentsOf: path)
        guard model.featureCount == 1, let window = model.windowLength, window >= 1 else {
            throw Unsuitable(path: path, detail: "it takes \(model.featureCount) features over \(model.windowLength.map(String.init) ?? "an unspecified number of") steps",
                             remedy: "save a model whose input is (window, 1): one value per minute, e.g. InputLayer((10, 1))")
        }
        let kind: ForecastTarget.Kind = model.forecastTarget.isMean ? .mean : .value
        guard let target = ForecastTarget.all.first(where: { $0.horizonMinutes == model.forecastTarget.horizonMinutes && $0.kind == kind }) else {
            throw Unsuitable(path: path, detail: "its scaler names the target \(model.forecastTarget), which the forecaster does not issue",
                             remedy: "use horizon_min 1, 15 or 60 with target \"value\", or 15 or 60 with \"mean\"")
        }
        return KerasServedModel(model: model, target: target, windowLength: window)
    }

    /// ``load(_:)`` as the service's model-file loader.
    public static let loader: @Sendable (String) throws -> any CheckedForecastModel = { try load($0) }

    /// A model file the forecaster cannot serve, and why.
    public struct Unsuitable: Error, CustomStringConvertible {
        public var path: String, detail: String, remedy: String
        public var description: String { "\(path): \(detail). Fix: \(remedy)" }
    }

    public func forecast(history: MinuteSeries, at minute: Int64) -> [ForecastTarget: Double] {
        forecast(history: history, at: minute, runner: model.makeRunner())
    }

    /// The forecast on a runner of the caller's (a replay reuses one for every minute).
    public func forecast(history: MinuteSeries, at minute: Int64, runner: KerasRunner) -> [ForecastTarget: Double] {
        guard let window = history.consecutiveWindow(endingAt: minute, count: windowLength) else { return [:] }
        let value = runner.predict(window)
        return value.isFinite ? [target: Double(value)] : [:]
    }

    /// Runs the model on every 5th minute of the last day held: every output must be finite; reports its MAE
    /// against persistence there. - Throws: when an output is not finite, or no window could be checked.
    public func check(history: MinuteSeries, at minute: Int64) throws -> String {
        let runner = model.makeRunner()
        var checked = 0, nonFinite = 0, scored = 0
        var sumAbs = 0.0, sumAbsPersistence = 0.0
        let horizon = Int64(target.horizonMinutes)
        for issue in stride(from: minute - 1440, through: minute, by: 5) {
            guard let window = history.consecutiveWindow(endingAt: issue, count: windowLength), let last = window.last else { continue }
            let value = runner.predict(window.map(Double.init))
            checked += 1
            guard value.isFinite else { nonFinite += 1; continue }
            guard issue + horizon <= minute else { continue }
            let actual = target.actual(in: history, issuedAt: issue)
            if let actual {
                scored += 1
                sumAbs += abs(value - actual); sumAbsPersistence += abs(Double(last) - actual)
            }
        }
        guard checked > 0 else { throw NotYetCheckable(windowLength: windowLength) }
        guard nonFinite == 0 else {
            throw Unsuitable(path: model.path, detail: "it gave non-finite outputs on \(nonFinite) of \(checked) windows of the last day",
                             remedy: "retrain it (a model that diverged, or inputs outside its scaler's range); the current models stay")
        }
        guard scored > 0 else { return "outputs finite on \(checked) windows of the last day; nothing to score yet" }
        let mae = sumAbs / Double(scored), persistence = sumAbsPersistence / Double(scored)
        return "outputs finite on \(checked) windows of the last day; MAE \(DecimalText.fixed(mae, 1)) W against persistence "
            + "\(DecimalText.fixed(persistence, 1)) W on \(scored) of them (skill \(DecimalText.signed((1 - mae / max(persistence, 1e-9)) * 100, 1)) %)"
    }
}

/// No window of consecutive minutes is held yet to check a model on: the check is tried again later.
public struct NotYetCheckable: Error, CustomStringConvertible {
    public var windowLength: Int
    public var description: String { "no \(windowLength) consecutive minutes in the last day of history yet to check the model on" }
}
