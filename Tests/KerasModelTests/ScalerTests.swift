// SPDX-License-Identifier: Apache-2.0

import Foundation
import KerasModel
import MeterTesting
import Testing

/// scaler.json in the archive, the clemap_scaler attribute, scaler.json beside the file.
@Suite struct ScalerTests {
    @Test func tarGzWithScalerAppliesIt() throws {
        let model = try KerasModel.load(contentsOf: KerasFixtures.path("sagemaker_scaled.tar.gz"))
        let scaler = try #require(model.scaler)
        #expect(scaler.std > 0 && scaler.targetStd > 0)
        #expect(model.forecastTarget == KerasOutputTarget(horizonMinutes: 15, isMean: true))
        #expect(model.scalerSource?.hasSuffix("sagemaker_scaled.tar.gz (scaler.json)") == true)
        let expected = try #require(KerasFixtures.expected.models["sagemaker_scaled.tar.gz"])
        let runner = model.makeRunner()
        for (window, keras) in zip(expected.inputs, expected.outputs) {
            // Raw watts in, watts out: the scaler is applied both ways.
            #expect(KerasFixtures.error(runner.predict(window), keras[0]) <= KerasFixtures.relative)
        }
    }

    @Test func rootAttributeScaler() throws {
        let model = try KerasModel.load(contentsOf: KerasFixtures.path("scaled_attr_k3.h5"))
        #expect(model.scaler != nil)
        #expect(model.scalerSource?.contains("attribute clemap_scaler") == true)
        #expect(model.forecastTarget.horizonMinutes == 15)
    }

    @Test func scalerBesideTheFile() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let path = folder.file("model.h5")
        try FileManager.default.copyItem(atPath: KerasFixtures.path("lstm_relu_k3.h5"), toPath: path)
        folder.write("scaler.json", #"{"mean": 500, "std": 250, "target_mean": 480, "target_std": 300}"#)
        let scaled = try KerasModel.load(contentsOf: path)
        #expect(scaled.scaler == KerasScaler(mean: 500, std: 250, targetMean: 480, targetStd: 300))
        #expect(scaled.forecastTarget == KerasOutputTarget())
        // Same as the raw model on the scaled window, then un-scaled.
        let raw = try KerasModel.load(contentsOf: KerasFixtures.path("lstm_relu_k3.h5")).makeRunner()
        let window = [412.0, 398.5, 405.2, 420.9, 415.0, 409.3, 402.8, 399.1, 410.6, 418.4]
        let inner = raw.predict(window.map { ($0 - 500) / 250 })
        #expect(abs(scaled.makeRunner().predict(window) - (inner * 300 + 480)) < 1e-3)
    }

    @Test func badScalerIsRefused() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let path = folder.file("model.h5")
        try FileManager.default.copyItem(atPath: KerasFixtures.path("lstm_relu_k3.h5"), toPath: path)
        folder.write("scaler.json", #"{"mean": 500, "std": 0, "target_mean": 480, "target_std": 300}"#)
        #expect(throws: KerasModelError.self) { try KerasModel.load(contentsOf: path) }
        folder.write("scaler.json", #"{"mean": 500, "std": 1, "target_mean": 480, "target_std": 300, "target": "max"}"#)
        do {
            _ = try KerasModel.load(contentsOf: path)
            Issue.record("a target of \"max\" loaded")
        } catch {
            #expect(error.code == .badScaler)
            #expect(error.option == "target")
            #expect(error.file.hasSuffix("scaler.json"))
        }
    }
}
