// SPDX-License-Identifier: Apache-2.0

import KerasModel

/// Loads the Keras model at `path`, predicts on `window` (raw values, oldest first) and returns the result line.
///
/// Plain text: `<value>  (<what it forecasts>; <model summary>; <path>)`. With `json`:
/// `{"model": "<path>", "value": X}` (keys sorted; `null` for a non-finite value). With `repeatCount`, the
/// prediction runs that many more times on the same runner and the line also carries `load_seconds` (reading
/// and checking the file) and `seconds_per_prediction` (the mean of the repeats), for the benchmark.
///
/// - Throws: ``CLIError`` with the model's error (exit 1), or exit 2 when the window's length is not the model's.
func predictWithModel(path: String, window: [Double], repeatCount: Int?, json: Bool) throws -> String {
    let clock = ContinuousClock()
    let loadStart = clock.now
    let model: KerasModel
    do {
        model = try KerasModel.load(contentsOf: path)
    } catch {
        throw CLIError(description: error.description)
    }
    let loadSeconds = (clock.now - loadStart).seconds
    let expected = model.windowLength.map { $0 * model.featureCount }
    guard window.count == expected || (expected == nil && window.count % model.featureCount == 0 && !window.isEmpty) else {
        let steps = model.windowLength.map(String.init) ?? "any number of"
        throw CLIError(description: "--window has \(window.count) values; \(path) expects \(expected.map(String.init) ?? "a multiple of \(model.featureCount)") (\(steps) steps × \(model.featureCount) feature\(model.featureCount == 1 ? "" : "s"), oldest first). Fix: give \(expected.map(String.init) ?? "a whole number of steps of") comma-separated values",
                       exitCode: 2)
    }
    let runner = model.makeRunner()
    var value = runner.predict(window)
    var secondsPerPrediction: Double? = nil
    if let repeatCount, repeatCount > 0 {
        var sink = 0.0  // keeps the loop's work observable
        let start = clock.now
        for _ in 0..<repeatCount { sink += runner.predict(window) }
        secondsPerPrediction = (clock.now - start).seconds / Double(repeatCount)
        value = sink / Double(repeatCount)
    }
    if json {
        return JSONOutput.line(PredictionLine(
            model: path, value: value.isFinite ? value : nil,
            load_seconds: repeatCount == nil ? nil : loadSeconds, seconds_per_prediction: secondsPerPrediction))
    }
    var line = "\(value)  (\(model.forecastTarget); \(model.summary); \(path))"
    if let secondsPerPrediction {
        line += "\nload_seconds \(loadSeconds)\nseconds_per_prediction \(secondsPerPrediction)"
    }
    return line
}

/// The `--json` line of a prediction.
private struct PredictionLine: Encodable {
    var model: String
    var value: Double?
    var load_seconds: Double?
    var seconds_per_prediction: Double?
}

extension Duration {
    fileprivate var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
