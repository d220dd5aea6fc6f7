// SPDX-License-Identifier: Apache-2.0

import Foundation
import MeterTesting

/// The fixtures made by scripts/keras-fixtures/make_fixtures.py with real Keras, and Keras's outputs.
enum KerasFixtures {
    static let folder = Fixtures.repositoryRoot + "/Tests/KerasModelTests/Fixtures"

    static func path(_ name: String) -> String { folder + "/" + name }

    struct Expected: Decodable {
        struct Model: Decodable {
            var flavour: String
            var keras_version: String
            var note: String
            var window_length: Int
            var inputs: [[Double]]
            var outputs: [[Double]]
        }
        var models: [String: Model]
    }

    static let expected: Expected = {
        let data = FileManager.default.contents(atPath: path("expected.json"))!
        return try! JSONDecoder().decode(Expected.self, from: data)
    }()

    static var modelNames: [String] { expected.models.keys.sorted() }

    /// |a − b| within `relative` of |b|, with an absolute floor for outputs near zero.
    static let relative = 1e-5
    static let absoluteFloor = 1e-6

    static func error(_ swift: Double, _ keras: Double) -> Double {
        abs(swift - keras) / max(abs(keras), absoluteFloor / relative)
    }
}
