// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
@testable import MeterHTTP
import Testing

/// `openapi.yaml` (served at /api/v1/openapi.yaml, fuzzed by schemathesis in integration/process) documents exactly
/// the routes the server answers: none missing, none extra.
@Suite struct OpenAPIDocumentTests {
    /// `(method, path)` pairs under `paths:`: a path is a key indented by two spaces, a method one indented by four.
    static func documentedRoutes(_ yaml: String) -> Set<String> {
        var routes: Set<String> = [], path: String?, inPaths = false
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" "), !line.isEmpty, !line.hasPrefix("#") { inPaths = line.hasPrefix("paths:"); continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
            if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if methods.contains(String(key)) { routes.insert("\(key.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test func everyRouteIsDocumentedAndNothingElse() {
        let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        #expect(yaml.hasPrefix("openapi: 3.1"))
        let served = Set(APIRoutes.table.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Self.documentedRoutes(yaml) == served)
    }

    @Test func theDocumentParserSeesPathsAndMethodsOnly() {
        let yaml = """
            openapi: 3.1.0
            paths:
              /a:
                get:
                  responses: {}
                parameters: []
              /b/{x}:
                post:
                  summary: get: not a method
            components:
              schemas:
                get:
                  type: object
            """
        #expect(Self.documentedRoutes(yaml) == ["GET /a", "POST /b/{x}"])
    }

    @Test func theDashboardIsOnePageWithoutExternalRequests() {
        let page = String(decoding: PackageResources.dashboard_html, as: UTF8.self)
        #expect(page.lowercased().hasPrefix("<!doctype html>"))
        for external in ["http://", "https://", "//cdn", "@import"] {
            #expect(!page.contains(external), "the page names \(external): it must need nothing but its own API")
        }
    }
}
