// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterConfig

/// Who may do what: every change (any method but GET and HEAD) needs `[HTTP] token`; on a bind other machines can
/// reach, every request does, except the page itself and the API's description (neither holds data).
struct TokenCheck<Context: RequestContext>: RouterMiddleware {
    let settings: HTTPSettings
    /// Paths served without a token on any bind.
    static var openPaths: Set<String> { ["/", "/api/v1/openapi.yaml"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let changes = request.method != .get && request.method != .head
        guard changes || (!settings.isLoopback && !Self.openPaths.contains(request.uri.path)) else {
            return try await next(request, context)
        }
        guard let token = settings.token else {
            throw APIError(.forbidden, "\(request.method.rawValue) \(request.uri.path) changes the meter, and changes over HTTP are off: "
                           + "set [HTTP] token in config.ini (e.g. the output of `openssl rand -hex 16`) and send it as Authorization: Bearer <token>")
        }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "\(request.method.rawValue) \(request.uri.path) needs the token: send Authorization: Bearer <[HTTP] token>",
                           headers: [.wwwAuthenticate: #"Bearer realm="clemap-edge""#])
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix.lowercased(),
              Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.count)), Array(token.utf8)) else {
            throw APIError(.forbidden, "the token sent for \(request.method.rawValue) \(request.uri.path) is not [HTTP] token",
                           headers: [.wwwAuthenticate: #"Bearer realm="clemap-edge", error="invalid_token""#])
        }
        return try await next(request, context)
    }

    /// Compares every byte whatever differs first, so the time taken tells nothing about the token; only the length
    /// (the same for every guess of a given length) can show.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0, y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
