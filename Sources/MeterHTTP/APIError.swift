// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Hummingbird
import Logging

/// An answer other than 2xx: its status and a sentence that names the parameter or route and says what to do.
/// Sent as `{"error": "…"}`; every route throws these and nothing else reaches the client.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status; self.message = message; self.headers = headers
    }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, "query parameter \(name): \(message)")
    }

    static let storeClosed = APIError(.serviceUnavailable, "the database is not open (see GET /api/v1/status and the service's log); try again in a minute")

    var response: Response {
        var headers = headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body = (try? encoder.encode(["error": message])) ?? Data(#"{"error":"error"}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into the JSON form: ``APIError`` as it is, Hummingbird's 404 into one that names the route
/// (or a 405 when the path exists with other methods), and anything else into a 500 that names the route and
/// is logged, so a client never sees an empty body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path → methods answered, to tell 405 from 404.
    let routes: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            if let methods = routes[path] {
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                return APIError(.methodNotAllowed, "\(request.method.rawValue) \(path) is not answered: use \(allowed)",
                                headers: [.allow: allowed]).response
            }
            return APIError(.notFound, "no route \(request.method.rawValue) \(path): the API is described at GET /api/v1/openapi.yaml").response
        } catch let error as HTTPError {
            return APIError(error.status, error.body ?? "\(error.status.reasonPhrase) for \(request.method.rawValue) \(request.uri.path)").response
        } catch {
            context.logger.error("HTTP request failed", metadata: ["route": "\(request.method.rawValue) \(request.uri.path)", "error": "\(error)"])
            return APIError(.internalServerError, "\(request.method.rawValue) \(request.uri.path) failed: \(error)").response
        }
    }
}
