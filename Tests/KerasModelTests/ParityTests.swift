// SPDX-License-Identifier: Apache-2.0

import KerasModel
import Testing

/// Every fixture model against Keras's own `model.predict` outputs (expected.json).
@Suite struct ParityTests {
    @Test(arguments: KerasFixtures.modelNames)
    func matchesKeras(_ name: String) throws {
        let expected = try #require(KerasFixtures.expected.models[name])
        let model = try KerasModel.load(contentsOf: KerasFixtures.path(name))
        #expect(model.windowLength == expected.window_length)
        #expect(model.featureCount == 1)
        #expect(model.outputCount == expected.outputs[0].count)
        #expect(model.kerasVersion == expected.keras_version)
        let runner = model.makeRunner()
        var output = [Float](repeating: .nan, count: model.outputCount)
        var worst = 0.0
        for (window, keras) in zip(expected.inputs, expected.outputs) {
            let values = window.map { Float($0) }
            values.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { runner.predict(input, into: $0) }
            }
            for (swift, reference) in zip(output, keras) {
                let error = KerasFixtures.error(Double(swift), reference)
                worst = max(worst, error)
                #expect(error <= KerasFixtures.relative, "\(name): Swift \(swift), Keras \(reference) for \(window)")
            }
        }
        print("parity \(name): max relative error \(worst) (\(model.summary))")
    }

    @Test func originalShapeSummary() throws {
        let model = try KerasModel.load(contentsOf: KerasFixtures.path("lstm_relu_k3.h5"))
        #expect(model.summary == "LSTM(32, relu) → Dense(1) (Keras 3.15.1)")
        #expect(model.scaler == nil)
        #expect(model.forecastTarget == KerasOutputTarget(horizonMinutes: 1, isMean: false))
        let k2 = try KerasModel.load(contentsOf: KerasFixtures.path("lstm_relu_k2.h5"))
        #expect(k2.summary == "LSTM(32, relu) → Dense(1) (Keras 2.15.0)")
    }

    @Test func predictConveniencesAgree() throws {
        let expected = try #require(KerasFixtures.expected.models["lstm_relu_k3.h5"])
        let runner = try KerasModel.load(contentsOf: KerasFixtures.path("lstm_relu_k3.h5")).makeRunner()
        let window = expected.inputs[1]
        let fromFloats = runner.predict(window.map { Float($0) })
        let fromDoubles = runner.predict(window)
        #expect(Double(fromFloats) == fromDoubles)
        #expect(KerasFixtures.error(fromDoubles, expected.outputs[1][0]) <= KerasFixtures.relative)
    }
}
