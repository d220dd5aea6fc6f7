// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// The affine scaling a model was trained with: inputs go in as `(x − mean) / std`, the output comes out as
/// `y · targetStd + targetMean`. Read from `scaler.json` (in the archive or beside the model file) or from the
/// HDF5 root attribute `clemap_scaler` (the same JSON as a string).
///
/// `scaler.json`: `{"mean": m, "std": s, "target_mean": tm, "target_std": ts}`, optionally `"horizon_min": 15`
/// and `"target": "value"` or `"mean"` (see ``KerasOutputTarget``).
public struct KerasScaler: Sendable, Hashable {
    public var mean: Double
    public var std: Double
    public var targetMean: Double
    public var targetStd: Double

    public init(mean: Double, std: Double, targetMean: Double, targetStd: Double) {
        self.mean = mean
        self.std = std
        self.targetMean = targetMean
        self.targetStd = targetStd
    }
}

/// What the model's output forecasts: the value `horizonMinutes` ahead, or the mean over the next
/// `horizonMinutes` (`isMean`). From `scaler.json`'s `horizon_min` and `target`; the default is the next
/// one-minute value, as the original model.
public struct KerasOutputTarget: Sendable, Hashable, CustomStringConvertible {
    public var horizonMinutes: Int
    public var isMean: Bool

    public init(horizonMinutes: Int = 1, isMean: Bool = false) {
        self.horizonMinutes = horizonMinutes
        self.isMean = isMean
    }

    /// `the value 1 min ahead`, `the mean over the next 15 min`.
    public var description: String {
        isMean ? "the mean over the next \(horizonMinutes) min" : "the value \(horizonMinutes) min ahead"
    }
}

/// `scaler.json` as written by the training job.
struct ScalerFile: Decodable {
    var mean: Double
    var std: Double
    var target_mean: Double
    var target_std: Double
    var horizon_min: Int?
    var target: String?

    /// Parses and checks `text`; `source` names where it came from in errors.
    static func parse(_ text: String, source: String) throws(KerasModelError) -> (KerasScaler, KerasOutputTarget) {
        let remedy = #"write {"mean": m, "std": s, "target_mean": tm, "target_std": ts} with non-zero stds, optionally "horizon_min": minutes and "target": "value" or "mean""#
        let file: ScalerFile
        do {
            file = try JSONDecoder().decode(ScalerFile.self, from: Data(text.utf8))
        } catch {
            throw KerasModelError(.badScaler, file: source, detail: "not a valid scaler: \(error)", remedy: remedy)
        }
        let values = [file.mean, file.std, file.target_mean, file.target_std]
        guard values.allSatisfy(\.isFinite), file.std != 0, file.target_std != 0 else {
            throw KerasModelError(.badScaler, file: source, detail: "mean/std values \(values) must be finite with non-zero stds",
                                  remedy: remedy)
        }
        guard (file.horizon_min ?? 1) >= 1 else {
            throw KerasModelError(.badScaler, file: source, option: "horizon_min",
                                  detail: "horizon_min \(file.horizon_min!) is not a positive number of minutes", remedy: remedy)
        }
        guard ["value", "mean"].contains(file.target ?? "value") else {
            throw KerasModelError(.badScaler, file: source, option: "target",
                                  detail: "target \"\(file.target!)\" is neither \"value\" nor \"mean\"", remedy: remedy)
        }
        return (KerasScaler(mean: file.mean, std: file.std, targetMean: file.target_mean, targetStd: file.target_std),
                KerasOutputTarget(horizonMinutes: file.horizon_min ?? 1, isMean: file.target == "mean"))
    }
}
