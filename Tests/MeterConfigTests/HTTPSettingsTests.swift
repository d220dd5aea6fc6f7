// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[HTTP]`: on, on loopback, by default; a bind other machines reach is refused without a token; the token's value
/// is in no message.
@Suite struct HTTPSettingsTests {
    /// The shipped file with `[HTTP]` replaced by `lines` (none: the section removed).
    func configuration(_ lines: [String]?) throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        let text = Fixtures.config(shipped, replacingSection: "HTTP", with: lines)
        return try MeterConfiguration(parsing: text, source: "/etc/clemap-edge/config.ini")
    }

    @Test func theShippedFileAndAnAbsentSectionServeLoopbackOnPort4000() throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        #expect(shipped.http == HTTPSettings(enabled: true, bind: "127.0.0.1", port: 4000, token: nil))
        #expect(shipped.unknownKeys.isEmpty)
        #expect(try configuration(nil).http == HTTPSettings())
        #expect(shipped.summary().contains("http: on, http://127.0.0.1:4000/ (loopback only), no token: reads only"))
    }

    @Test func everyKeyIsRead() throws {
        let token = "0123456789abcdef0123"
        #expect(try configuration(["enabled = true", "bind = ::", "port = 8080", "token = \(token)"]).http
                == HTTPSettings(enabled: true, bind: "::", port: 8080, token: token))
        #expect(try configuration(["enabled = false", "bind = 0.0.0.0"]).http.enabled == false)
        let summary = try configuration(["bind = 0.0.0.0", "token = \(token)"]).summary().joined(separator: "\n")
        #expect(summary.contains("http: on, http://0.0.0.0:4000/ (reachable from the network), token set: every request need it"))
        #expect(!summary.contains(token))
        // Printed or dumped, the settings show whether a token is set, never the token.
        let settings = try configuration(["bind = 0.0.0.0", "token = \(token)"]).http
        var dumped = ""
        dump(settings, to: &dumped)
        #expect("\(settings)".contains("token: set") && !"\(settings)".contains(token) && !dumped.contains(token), "\(dumped)")
    }

    @Test func loopbackIsTheWhole127NetworkAndIPv6Loopback() {
        for address in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] { #expect(HTTPSettings.isLoopback(address), "\(address)") }
        for address in ["0.0.0.0", "::", "192.168.1.10", "127.0.0.256", "10.0.0.1", "fe80::1"] { #expect(!HTTPSettings.isLoopback(address), "\(address)") }
    }

    @Test func aNetworkBindWithoutATokenIsRefusedNamingTheLineAndTheFix() throws {
        do {
            _ = try configuration(["bind = 0.0.0.0"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("/etc/clemap-edge/config.ini:") && text.contains("[HTTP] bind"), "\(text)")
            #expect(text.contains("no token is set") && text.contains("openssl rand -hex 16") && text.contains("bind = 127.0.0.1"), "\(text)")
        }
    }

    @Test func badValuesNameTheKeyButNeverTheToken() throws {
        do {
            _ = try configuration(["bind = my-laptop", "port = 70000", "token = short-secret"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("[HTTP] bind") && text.contains("'my-laptop' is not an IP address"), "\(text)")
            #expect(text.contains("[HTTP] port") && text.contains("1…65535"), "\(text)")
            #expect(text.contains("[HTTP] token") && text.contains("the token is 12 characters") && text.contains("at least 16"), "\(text)")
            #expect(!text.contains("short-secret"), "\(text)")
        }
    }
}
