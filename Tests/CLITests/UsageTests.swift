// SPDX-License-Identifier: Apache-2.0
//
// Command-line usage: errors exit 2 on stderr; --help and --version exit 0 on stdout.

import Foundation
import Testing

@Suite("clemap-edge usage")
struct UsageTests {
    /// Each case is otherwise valid (shipped config, --simulate where allowed), so exit 2 can only come from the
    /// usage error itself, not from a missing /etc/clemap-edge/config.ini.
    @Test("usage errors exit 2 with a message on stderr", arguments: [
        ["read", "--simulate", "--config", shippedConfig, "--count", "-1"],
        ["read", "--simulate", "--config", shippedConfig, "--count=-1"],
        ["read", "--config", shippedConfig, "--scenario", "x.json"],
        ["read", "--simulate", "--config", shippedConfig, "--no-such-flag"],
        ["--no-such-flag"],
        ["config", "check", "--config", shippedConfig, "--no-such-flag"],
        ["read", "--simulate", "--config", shippedConfig, "--interval", "0.01"],
    ])
    func usageError(arguments: [String]) async throws {
        let result = try await runCLI(arguments)
        expectExit(result, 2)
        #expect(!result.stderr.isEmpty, "the error should be explained on stderr\n\(result)")
        #expect(result.stdout.isEmpty, "nothing should reach stdout\n\(result)")
        #expect(!result.stderr.contains("no such file"), "exit 2 came from the config, not the usage\n\(result)")
        if arguments.contains("x.json") { #expect(result.stderr.contains("--simulate"), "\(result)") }
        if arguments.contains("--count=-1") { #expect(result.stderr.contains("--count"), "\(result)") }
    }

    @Test("--help exits 0 with usage on stdout", arguments: [["--help"], ["read", "--help"], ["config", "check", "--help"]])
    func help(arguments: [String]) async throws {
        let result = try await runCLI(arguments)
        expectExit(result, 0)
        #expect(result.stdout.contains("USAGE: clemap-edge"), "\(result)")
    }

    @Test("--version exits 0 and prints a version")
    func version() async throws {
        let result = try await runCLI(["--version"])
        expectExit(result, 0)
        let version = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty && version.first!.isNumber, "\(result)")
    }
}
