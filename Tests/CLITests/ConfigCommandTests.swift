// SPDX-License-Identifier: Apache-2.0
//
// `config check` on the shipped file, and broken config.ini files: exit 2 with `file:line [SECTION] key`,
// and the file is never rewritten nor anything created next to it.

import Foundation
import MeterTesting
import Testing

@Suite("clemap-edge config")
struct ConfigCommandTests {
    @Test("config check of the shipped config.ini: valid, energy constants match the CLEMAP convention")
    func checkShipped() async throws {
        let result = try await runCLI(["config", "check", "--config", shippedConfig])
        expectExit(result, 0)
        #expect(result.stdout.contains("valid"), "\(result)")
        #expect(result.stdout.contains("matches the CLEMAP convention"), "\(result)")
    }

    /// A copy of the shipped config in a fresh temp folder with one line changed by `edit`.
    struct BrokenConfig {
        let dir: TempDir
        let path: String
        let bytes: Data
        let lines: [String]

        init(edit: (inout [String]) -> Void) throws {
            dir = try TempDir(prefix: "clitests-config")
            let shipped = try String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)
            var lines = shipped.components(separatedBy: "\n")
            edit(&lines)
            self.lines = lines
            path = try dir.write("config.ini", lines.joined(separator: "\n"))
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        }

        /// 1-based number of the line starting with `prefix`.
        func line(startingWith prefix: String) -> Int? {
            lines.firstIndex { $0.hasPrefix(prefix) }.map { $0 + 1 }
        }

        /// Runs `config check` (absolute path) and `read --simulate` (relative path, cwd = the temp folder);
        /// both must exit 2, leave the file's bytes alone and create nothing. Returns (result, path as passed).
        func runBoth(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [(CLIResult, String)] {
            var results: [(CLIResult, String)] = []
            for (arguments, shown) in [(["config", "check", "--config", path], path),
                                       (["read", "--simulate", "--config", "config.ini", "--json"], "config.ini")] {
                let result = try await runCLI(arguments, in: dir.path)
                expectExit(result, 2, sourceLocation: sourceLocation)
                #expect(result.stdout.isEmpty, "nothing should reach stdout\n\(result)", sourceLocation: sourceLocation)
                let after = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(after == bytes, "the config file was modified\n\(result)", sourceLocation: sourceLocation)
                #expect(try dir.listing() == ["config.ini"], "files appeared beside the config\n\(result)",
                        sourceLocation: sourceLocation)
                results.append((result, shown))
            }
            return results
        }
    }

    @Test("config.ini without calib_bvgain → exit 2 naming the file, [METER_SERVICE] and calib_bvgain")
    func missingKey() async throws {
        let config = try BrokenConfig { lines in lines.removeAll { $0.hasPrefix("calib_bvgain") } }
        defer { config.dir.remove() }
        #expect(config.line(startingWith: "calib_bvgain") == nil)
        for (result, shown) in try await config.runBoth() {
            for needle in [shown + ":", "[METER_SERVICE]", "calib_bvgain", "Fix:"] {
                #expect(result.stderr.contains(needle), "stderr should contain \(needle)\n\(result)")
            }
        }
    }

    @Test("calib_aigain = 2069224x → exit 2 with <path>:<line> [METER_SERVICE] calib_aigain and the value")
    func notANumber() async throws {
        let config = try BrokenConfig { lines in
            if let i = lines.firstIndex(where: { $0.hasPrefix("calib_aigain") }) { lines[i] = "calib_aigain = 2069224x" }
        }
        defer { config.dir.remove() }
        let line = try #require(config.line(startingWith: "calib_aigain = 2069224x"))
        for (result, shown) in try await config.runBoth() {
            let subject = "\(shown):\(line) [METER_SERVICE] calib_aigain"
            #expect(result.stderr.contains(subject), "stderr should contain \(subject)\n\(result)")
            #expect(result.stderr.contains("2069224x"), "\(result)")
        }
    }

    @Test("calib_avgain = 999999999 (gain out of range) → exit 2 naming the key and its line")
    func gainOutOfRange() async throws {
        let config = try BrokenConfig { lines in
            if let i = lines.firstIndex(where: { $0.hasPrefix("calib_avgain") }) { lines[i] = "calib_avgain = 999999999" }
        }
        defer { config.dir.remove() }
        let line = try #require(config.line(startingWith: "calib_avgain = 999999999"))
        for (result, shown) in try await config.runBoth() {
            let subject = "\(shown):\(line) [METER_SERVICE] calib_avgain"
            #expect(result.stderr.contains(subject), "stderr should contain \(subject)\n\(result)")
            #expect(result.stderr.contains("999999999"), "\(result)")
        }
    }
}
