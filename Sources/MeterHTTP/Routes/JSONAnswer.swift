// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Hummingbird

/// A 200 with `value` as JSON (keys sorted, so answers diff cleanly).
func jsonAnswer<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// A value that is JSON `null` when absent, rather than a missing key (the API's documents list every key).
struct Nullable<Wrapped: Encodable & Sendable>: Encodable, Sendable {
    var value: Wrapped?
    init(_ value: Wrapped?) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

extension Nullable where Wrapped == Double {
    /// NaN and infinity, which JSON lacks, are null too.
    init(finite value: Double?) { self.value = value.flatMap { $0.isFinite ? $0 : nil } }
}
