// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// `clemap-edge forecast …`: forecasting with a Keras model (hidden while the forecasting feature takes shape).
struct Forecast: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forecasts with a Keras model (.h5, .keras, model.tar.gz), without TensorFlow.",
        shouldDisplay: false,
        subcommands: [Predict.self])

    /// `clemap-edge forecast predict --model F --window v1,v2,… [--json] [--repeat N]`.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Loads a model and prints its forecast for one window of values (oldest first).")

        @Option(name: .long, help: ArgumentHelp("The model: .h5 (Keras 2 or 3), .keras, or a tar/tar.gz holding one.", valueName: "file"))
        var model: String

        @Option(name: .long, help: ArgumentHelp("The input window, comma-separated, oldest first (e.g. ten one-minute power sums in W).", valueName: "v1,v2,…"))
        var window: String

        @Flag(name: .long, help: "Print one JSON object: {\"model\": …, \"value\": …}.")
        var json = false

        @Option(name: .customLong("repeat"), help: ArgumentHelp("Run the prediction N more times and report load_seconds and seconds_per_prediction (benchmark).", valueName: "N"))
        var repeatCount: Int?

        func validate() throws {
            if let repeatCount, repeatCount < 1 { throw ValidationError("--repeat must be at least 1, not \(repeatCount)") }
            _ = try values()
        }

        func values() throws -> [Double] {
            try window.split(separator: ",", omittingEmptySubsequences: false).map { part in
                let text = String(part.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
                guard let value = Double(text), value.isFinite else {
                    throw ValidationError("--window: '\(text)' is not a finite number (give comma-separated values, e.g. 412.5,398,405.2)")
                }
                return value
            }
        }

        func run() throws {
            print(try predictWithModel(path: model, window: values(), repeatCount: repeatCount, json: json))
        }
    }
}
