// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterServices

extension MeterAPI {
    /// `GET /api/v1/live`: the newest snapshot, exactly as `clemap-edge read --json` prints it.
    func live() throws -> Response {
        guard let reading = hub.latest else {
            throw APIError(.serviceUnavailable, "no reading yet: the meter is starting")
        }
        return try jsonAnswer(reading)
    }
}
