// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterConfig

/// Who may do what: every change (any method but GET and HEAD) needs `[HTTP] token`; on a bind other machines can
/// reach, every request does, except the page itself and the API's description (neither holds data).
struct TokenCheck<Context: RequestContext>: RouterMiddleware {
    let settings: HTTPSettings

    /// Only routes are guarded: a path or method the API does not have is answered 404 or 405 by the router, token or
    /// not (it changes nothing and holds no data).
    let routes: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if routes[request.uri.path]?.contains(request.method) == true,
           let refusal = TokenRule.refusal(method: request.method, path: request.uri.path,
                                           authorization: request.headers[.authorization], settings: settings) {
            throw refusal
        }
        return try await next(request, context)
    }
}

/// The rule itself, apart from Hummingbird's types, so that it is tested for every bind without a socket.
enum TokenRule {
    /// Paths served without a token on any bind.
    static let openPaths: Set<String> = ["/", "/api/v1/openapi.yaml"]

    /// Nil when the request may go on; else the 401 or 403 to answer.
    static func refusal(method: HTTPRequest.Method, path: String, authorization: String?, settings: HTTPSettings) -> APIError? {
        let changes = method != .get && method != .head
        guard changes || (!settings.isLoopback && !openPaths.contains(path)) else { return nil }
        let route = "\(method.rawValue) \(path)"
        guard let token = settings.token else {
            if !changes { return APIError(.forbidden, "\(route): the API listens beyond this machine without [HTTP] token; set one in config.ini") }
            return APIError(.forbidden, "\(route) changes the meter, and changes over HTTP are off: set [HTTP] token in config.ini "
                            + "(e.g. the output of `openssl rand -hex 16`) and send it as Authorization: Bearer <token>")
        }
        guard let authorization else {
            return APIError(.unauthorized, "\(route) needs the token: send Authorization: Bearer <[HTTP] token>",
                            headers: [.wwwAuthenticate: #"Bearer realm="clemap-edge""#])
        }
        let prefix = "bearer "
        guard authorization.utf8.count > prefix.utf8.count, authorization.prefix(prefix.count).lowercased() == prefix,
              constantTimeEqual(Array(authorization.utf8.dropFirst(prefix.utf8.count)), Array(token.utf8)) else {
            return APIError(.forbidden, "\(route): the token sent is not [HTTP] token",
                            headers: [.wwwAuthenticate: #"Bearer realm="clemap-edge", error="invalid_token""#])
        }
        return nil
    }

    /// Compares every byte whatever differs first, so the time taken tells nothing about the token; only the length
    /// (the same for every guess of a given length) can show.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0, y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
