// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import MeterConfig
@testable import MeterHTTP
import Testing

/// Who may do what, on every kind of bind (the process tests cannot bind beyond loopback: no network in tests).
@Suite struct TokenRuleTests {
    let token = "0123456789abcdef0123456789abcdef"
    var loopback: HTTPSettings { HTTPSettings(bind: "127.0.0.1", token: token) }
    var network: HTTPSettings { HTTPSettings(bind: "0.0.0.0", token: token) }

    func status(_ method: HTTPRequest.Method, _ path: String, _ authorization: String?, _ settings: HTTPSettings) -> Int? {
        TokenRule.refusal(method: method, path: path, authorization: authorization, settings: settings)?.status.code
    }

    @Test func onLoopbackReadsNeedNoTokenAndChangesDo() {
        for path in ["/", "/api/v1/live", "/api/v1/minutes", "/metrics", "/api/v1/status"] {
            #expect(status(.get, path, nil, loopback) == nil, "\(path)")
            #expect(status(.get, path, "Bearer wrong", loopback) == nil, "a token sent with a read is ignored: \(path)")
        }
        #expect(status(.post, "/api/v1/outputs/a", nil, loopback) == 401)
        #expect(status(.post, "/api/v1/outputs/a", "Bearer \(token)x", loopback) == 403)
        #expect(status(.post, "/api/v1/outputs/a", "Bearer \(token)", loopback) == nil)
        #expect(status(.post, "/api/v1/outputs/a", "bearer \(token)", loopback) == nil, "the scheme is case-insensitive (RFC 9110)")
        #expect(status(.put, "/api/v1/live", nil, loopback) == 401, "any method but GET/HEAD is a change")
    }

    @Test func withoutATokenConfiguredChangesAreOff() {
        let settings = HTTPSettings()
        let refusal = TokenRule.refusal(method: .post, path: "/api/v1/outputs/b", authorization: "Bearer \(token)", settings: settings)
        #expect(refusal?.status == .forbidden)
        #expect(refusal?.message.contains("set [HTTP] token in config.ini") == true)
    }

    @Test func onANetworkBindEveryDataRequestNeedsTheToken() {
        for path in ["/api/v1/live", "/api/v1/minutes", "/api/v1/pq/events", "/api/v1/energy", "/api/v1/forecast", "/api/v1/status", "/metrics", "/nope"] {
            #expect(status(.get, path, nil, network) == 401, "\(path)")
            #expect(status(.get, path, "Bearer nope", network) == 403, "\(path)")
            #expect(status(.get, path, "Basic \(token)", network) == 403, "\(path)")
            #expect(status(.get, path, "Bearer \(token)", network) == nil, "\(path)")
        }
        // The page and the API's description hold no data: the page asks for the token itself.
        #expect(status(.get, "/", nil, network) == nil)
        #expect(status(.get, "/api/v1/openapi.yaml", nil, network) == nil)
        let missing = TokenRule.refusal(method: .get, path: "/metrics", authorization: nil, settings: network)
        #expect(missing?.headers[.wwwAuthenticate] == #"Bearer realm="clemap-edge""#)
    }

    @Test func theComparisonLooksAtEveryByte() {
        let a = Array(token.utf8)
        #expect(TokenRule.constantTimeEqual(a, a))
        #expect(!TokenRule.constantTimeEqual(a, a.dropLast() + [UInt8(ascii: "0")]))
        #expect(!TokenRule.constantTimeEqual(a, Array(a.dropLast())), "a prefix is not the token")
        #expect(!TokenRule.constantTimeEqual(Array(a.dropLast()), a))
        #expect(!TokenRule.constantTimeEqual([], a) && TokenRule.constantTimeEqual([], []))
        // Lengths 256 apart agree in their low byte; they still differ.
        #expect(!TokenRule.constantTimeEqual(Array(repeating: 0, count: 256), []))
    }
}
