// SPDX-License-Identifier: Apache-2.0
//
// `clemap-edge forecast predict` and `forecast status` end to end: a Keras file on given values (Keras's own
// output from the fixtures), the refusals and their exit codes, the forecasts and scores of a simulated run.

import Foundation
import MeterTesting
import Testing

@Suite("clemap-edge forecast predict, status")
struct ForecastCommandTests {
    static let fixtures = "Tests/KerasModelTests/Fixtures/"

    /// The fixture's first input window and Keras's `model.predict` for it.
    static func expected(_ model: String) throws -> (window: [Double], output: Double) {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/" + fixtures + "expected.json"))
        let models = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["models"] as! [String: Any]
        let entry = models[model] as! [String: Any]
        return ((entry["inputs"] as! [[Double]])[0], (entry["outputs"] as! [[Double]])[0][0])
    }

    @Test("--model --window --json: Keras's output, through the stored scaler", arguments: ["lstm_relu_k3.h5", "sagemaker_scaled.tar.gz", "stack.keras"])
    func predictWithAModel(model: String) async throws {
        let (window, output) = try Self.expected(model)
        let result = try await runCLI(["forecast", "predict", "--model", Self.fixtures + model,
                                       "--window", window.map { "\($0)" }.joined(separator: ","), "--json"])
        expectExit(result, 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["model", "value"], "\(result)")
        #expect(object["model"] as? String == Self.fixtures + model)
        let value = try #require(object["value"] as? Double)
        #expect(abs(value - output) <= max(abs(output) * 1e-5, 1e-6), "\(value) vs Keras \(output)")
    }

    @Test("the original project's NaN model → exit 1 with the reason; a window of the wrong length → exit 2")
    func refusals() async throws {
        let nan = try await runCLI(["forecast", "predict", "--model", Self.fixtures + "nan_model.tar", "--window", "1,2,3,4,5,6,7,8,9,10"])
        expectExit(nan, 1)
        #expect(nan.stderr.contains("the model's weights contain NaN: the training diverged"), "\(nan)")
        let short = try await runCLI(["forecast", "predict", "--model", Self.fixtures + "lstm_relu_k3.h5", "--window", "1,2,3"])
        expectExit(short, 2)
        #expect(short.stderr.contains("--window has 3 values") && short.stderr.contains("expects 10"), "\(short)")
        let saved = try await runCLI(["forecast", "predict", "--model", Self.fixtures + "saved_model", "--window", "1"])
        expectExit(saved, 1)
        #expect(saved.stderr.contains(".h5") && saved.stderr.contains(".keras"), "says how to save instead: \(saved)")
    }

    @Test("after a simulated hour: predict prints every model's forecasts, status the scores, both as JSON")
    func predictAndStatusFromTheDatabase() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (db, _) = try await simulatedHour(in: dir)
        let predict = try await runCLI(["forecast", "predict", "--config", "calibration/config.ini", "--db", db, "--json"])
        expectExit(predict, 0)
        let now = try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as! [String: Any]
        let forecasts = now["forecasts"] as! [[String: Any]]
        #expect(Set(forecasts.compactMap { $0["model"] as? String }) == ["persistence", "seasonal_naive_day"] || Set(forecasts.compactMap { $0["model"] as? String }) == ["persistence"])
        #expect(forecasts.filter { $0["model"] as? String == "persistence" }.count == 5)
        #expect(Set(forecasts[0].keys) == ["issued", "target_time", "horizon_min", "kind", "model", "value"], "\(predict.stdout)")

        let status = try await runCLI(["forecast", "status", "--config", "calibration/config.ini", "--db", db, "--json"])
        expectExit(status, 0)
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        let scores = report["scores"] as! [[String: Any]]
        let hour = try #require(scores.first { $0["model"] as? String == "persistence" && $0["horizon_min"] as? Int == 15 && $0["target"] as? String == "mean" })
        #expect((hour["count"] as? Int ?? 0) >= 1 && hour["skill_mae"] as? Double == 0, "\(hour)")
        #expect(report["builtin_trained_at"] == nil || report["builtin_trained_at"] is NSNull)
        #expect((report["history_minutes_present"] as? Int ?? 0) >= 59)
    }

    @Test("status shows the Keras model in use, and the last model refused with its time, source and reason")
    func statusShowsTheModelInUseAndTheLastRefusal() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let shipped = try shippedConfigWithoutHTTP()
        func simulate(model: String) async throws -> (config: String, db: String) {
            let name = (model as NSString).lastPathComponent
            let config = dir.path + "/\(name).ini", db = dir.path + "/\(name).db"
            let path = Fixtures.repositoryRoot + "/" + Self.fixtures + model
            try shipped.replacingOccurrences(of: "\nmodel = builtin\n", with: "\nmodel = \(path)\n").write(toFile: config, atomically: true, encoding: .utf8)
            let run = try await runCLI(["run", "--simulate", "--config", config, "--scenario", "scenarios/home-day.json",
                                        "--sim-speed", "1000", "--sim-duration", "900", "--db", db])
            expectExit(run, 0)
            return (config, db)
        }

        let refused = try await simulate(model: "nan_model.tar")
        let text = try await runCLI(["forecast", "status", "--config", refused.config, "--db", refused.db])
        expectExit(text, 0)
        let path = Fixtures.repositoryRoot + "/" + Self.fixtures + "nan_model.tar"
        #expect(text.stdout.contains("keras model in use: none yet"), "\(text.stdout)")
        #expect(text.stdout.contains("last model refused: ") && text.stdout.contains(" from \(path): \(path) (model.h5): layer 0"), "\(text.stdout)")
        #expect(text.stdout.contains("the model's weights contain NaN: the training diverged"))
        let json = try await runCLI(["forecast", "status", "--config", refused.config, "--db", refused.db, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let refusal = try #require(report["last_refusal"] as? [String: Any], "\(json.stdout)")
        #expect(Set(refusal.keys) == ["time", "source", "reason"])
        #expect(refusal["source"] as? String == path && (refusal["reason"] as? String)?.contains("weights contain NaN") == true)
        #expect(report["model_in_use"] == nil || report["model_in_use"] is NSNull)

        let served = try await simulate(model: "sagemaker.tar.gz")
        let status = try await runCLI(["forecast", "status", "--config", served.config, "--db", served.db, "--json"])
        let inUse = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any])["model_in_use"] as? [String: Any])
        #expect(Set(inUse.keys) == ["loaded_at", "source", "detail"])
        #expect(inUse["source"] as? String == Fixtures.repositoryRoot + "/" + Self.fixtures + "sagemaker.tar.gz")
        #expect((inUse["detail"] as? String)?.hasPrefix("LSTM(32, relu) → Dense(1)") == true, "\(inUse)")
        let line = try await runCLI(["forecast", "status", "--config", served.config, "--db", served.db])
        #expect(line.stdout.contains("keras model in use: LSTM(32, relu) → Dense(1)"), "\(line.stdout)")
    }
}
