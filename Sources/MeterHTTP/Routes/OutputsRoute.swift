// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Hummingbird

extension MeterAPI {
    struct OutputRequest: Decodable { var on: Bool }
    struct OutputAnswer: Encodable, Sendable { var output: String, on: Bool }

    /// `POST /api/v1/outputs/{a|b}` with `{"on": true|false}` (the token is checked before): switches the output and
    /// stores the state, as `clemap-edge output` does.
    func setOutput(name: String?, body: [UInt8]) throws -> Response {
        guard let name, let output = Output(rawValue: name.lowercased()) else {
            throw APIError(.badRequest, "path parameter output: '\((name ?? "").prefix(20))' is not an output: use /api/v1/outputs/a or /api/v1/outputs/b")
        }
        guard let request = try? JSONDecoder().decode(OutputRequest.self, from: Data(body)) else {
            throw APIError(.badRequest, #"request body: send a JSON object {"on": true} or {"on": false} (Content-Type: application/json)"#)
        }
        guard let outputs else {
            throw APIError(.conflict, "output \(output.rawValue): the service runs without GPIO, so it cannot switch outputs")
        }
        guard outputs.fitted(output) else {
            throw APIError(.conflict, "output \(output.rawValue) is not fitted: add it to [GPIO_SERVICE] output_pin_setup in config.ini")
        }
        do {
            try outputs.set(output, request.on)
        } catch {
            throw APIError(.serviceUnavailable, "output \(output.rawValue) could not be switched: \(error)")
        }
        return try jsonAnswer(OutputAnswer(output: output.rawValue, on: request.on))
    }
}
