// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Hummingbird

extension MeterAPI {
    struct OutputAnswer: Encodable, Sendable { var output: String, on: Bool }

    /// `POST /api/v1/outputs/{a|b}` with `{"on": true|false}` (the token is checked before): switches the output and
    /// stores the state, as `clemap-edge output` does.
    func setOutput(name: String?, body: [UInt8]) throws -> Response {
        guard let name, let output = Output(rawValue: name) else {
            throw APIError(.badRequest, "path parameter output: '\((name ?? "").prefix(20))' is not an output: use /api/v1/outputs/a or /api/v1/outputs/b")
        }
        // Exactly one key: a typo beside it ({"on": true, "of": …}) is a mistake to report, not to ignore.
        guard let request = try? JSONDecoder().decode([String: Bool].self, from: Data(body)), request.count == 1, let on = request["on"] else {
            throw APIError(.badRequest, #"request body: send a JSON object {"on": true} or {"on": false} (Content-Type: application/json)"#)
        }
        guard let outputs else {
            throw APIError(.conflict, "output \(output.rawValue): the service runs without GPIO, so it cannot switch outputs")
        }
        guard outputs.fitted(output) else {
            throw APIError(.conflict, "output \(output.rawValue) is not fitted: add it to [GPIO_SERVICE] output_pin_setup in config.ini")
        }
        do {
            try outputs.set(output, on)
        } catch {
            throw APIError(.serviceUnavailable, "output \(output.rawValue) could not be switched: \(error)")
        }
        return try jsonAnswer(OutputAnswer(output: output.rawValue, on: on))
    }
}
