// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterServices

/// The routes, as data: `openapi.yaml` documents exactly these (a test compares them), and the error middleware
/// tells a wrong method (405) from an unknown path (404) by them.
enum APIRoutes {
    static let table: [(method: HTTPRequest.Method, path: String)] = [
        (.get, "/"),
        (.get, "/api/v1/live"),
        (.get, "/api/v1/minutes"),
        (.get, "/api/v1/pq/events"),
        (.get, "/api/v1/energy"),
        (.get, "/api/v1/forecast"),
        (.get, "/api/v1/status"),
        (.post, "/api/v1/outputs/{output}"),
        (.get, "/api/v1/openapi.yaml"),
        (.get, "/metrics"),
    ]

    /// Concrete paths and their methods, for 405 and the token check (`{output}` stands for `a` and `b`; every GET
    /// answers HEAD too).
    static var methodsByPath: [String: [HTTPRequest.Method]] {
        var paths: [String: [HTTPRequest.Method]] = [:]
        for route in table {
            let concrete = route.path.contains("{output}")
                ? MeterAPI.Output.allCases.map { route.path.replacing("{output}", with: $0.rawValue) } : [route.path]
            for path in concrete {
                paths[path, default: []].append(route.method)
                if route.method == .get { paths[path, default: []].append(.head) }
            }
        }
        return paths
    }

    /// The most a request body may be (the outputs' `{"on": true}`).
    static let maximumBody = 1024
    /// The embedded files, made into buffers once.
    static let page = ByteBuffer(bytes: PackageResources.dashboard_html)
    static let document = ByteBuffer(bytes: PackageResources.openapi_yaml)

    /// The query's parameters, decoded; a name given twice counts once, as first given.
    static func parameters(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where parameters[String(key)] == nil {
            parameters[String(key)] = String(value)
        }
        return parameters
    }

    static func router(api: MeterAPI, metrics: MeterMetrics) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        let routes = methodsByPath
        router.add(middleware: JSONErrorMiddleware(routes: routes))
        router.add(middleware: TokenCheck(settings: api.settings, routes: routes))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: page))
        }
        router.get("/api/v1/live") { _, _ in try api.live() }
        router.get("/api/v1/minutes") { request, _ in
            try MinutesQuery(parameters: parameters(request), now: api.now).answer(store: api.hub.store.current)
        }
        router.get("/api/v1/pq/events") { request, _ in
            try PQEventsQuery(parameters: parameters(request), now: api.now).answer(store: api.hub.store.current)
        }
        router.get("/api/v1/energy") { _, _ in try api.energy() }
        router.get("/api/v1/forecast") { _, _ in try api.forecastAnswer() }
        router.get("/api/v1/status") { _, _ in try api.status() }
        router.post("/api/v1/outputs/:output") { request, context in
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: maximumBody) } catch {
                throw APIError(.contentTooLarge, "request body: at most \(maximumBody) bytes; send {\"on\": true} or {\"on\": false}")
            }
            return try api.setOutput(name: context.parameters.get("output"), body: Array(buffer.readableBytesView))
        }
        router.get("/api/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: document))
        }
        router.get("/metrics") { _, _ in
            let bytes = metrics.render(api.metricsScrape())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }
}
