// SPDX-License-Identifier: Apache-2.0

import Foundation
import MeterTesting
import Testing

/// `clemap-edge calibrate` as a user runs it: against the simulator, writing a real config.ini.
@Suite struct CalibrateCommandTests {
    /// A board 3 % low on L1's current: the gain step finds it, --write stores it with a backup, and a
    /// check afterwards reads within 0.05 %.
    @Test func gainWriteThenCheck() async throws {
        let dir = try TempDir(prefix: "calibrate")
        defer { dir.remove() }
        let original = try String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)
        let config = try dir.write("config.ini", original)
        let board = """
            {"phases": [{"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}, {"voltage_v": 230, "current_a": 10}],
             "front_end": {"current_gain": [0.97, 0.98520, 0.99012], "voltage_gain": [0.99806, 1.00194, 1.00009],
                           "current_phase_deg": [-4.0331, -3.4815, -3.2386]}}
            """
        let scenario = try dir.write("board.json", board)
        let dry = try await runCLI(["calibrate", "gain", "--config", config, "--simulate", "--scenario", scenario,
                                    "--voltage", "230", "--current", "10", "--seconds", "2", "--phase", "a"])
        expectExit(dry, 0)
        #expect(dry.stdout.contains("calib_aigain 2069224 →"), "\(dry)")
        #expect(dry.stdout.contains("nothing written"))
        #expect(try String(contentsOfFile: config, encoding: .utf8) == original)

        let written = try await runCLI(["calibrate", "gain", "--config", config, "--simulate", "--scenario", scenario,
                                        "--voltage", "230", "--current", "10", "--seconds", "2", "--phase", "a", "--write", "--json"])
        expectExit(written, 0)
        let json = try JSONSerialization.jsonObject(with: Data(written.stdout.utf8)) as? [String: Any]
        #expect(json?["written"] as? Bool == true)
        let backup = try #require(json?["backup"] as? String)
        #expect(try String(contentsOfFile: backup, encoding: .utf8) == original)
        let now = try String(contentsOfFile: config, encoding: .utf8)
        let changed = zip(original.split(separator: "\n"), now.split(separator: "\n")).filter { $0 != $1 }.map { String($0.1) }
        #expect(changed.count == 2 && changed.allSatisfy { $0.hasPrefix("calib_aigain = ") || $0.hasPrefix("calib_avgain = ") }, "\(changed)")

        let check = try await runCLI(["calibrate", "check", "--config", config, "--simulate", "--scenario", scenario,
                                      "--voltage", "230", "--current", "10", "--seconds", "2", "--phase", "a", "--json"])
        expectExit(check, 0)
        let report = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
        let phase = try #require((report?["phases"] as? [[String: Any]])?.first)
        #expect(abs(phase["i_err_pct"] as? Double ?? 99) < 0.05, "\(check)")
    }

    @Test func writeToAReadOnlyConfigChangesNothing() async throws {
        let dir = try TempDir(prefix: "calibrate-ro")
        defer { dir.remove() }
        let original = try String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)
        let config = try dir.write("config.ini", original)
        chmod(config, 0o444)
        let result = try await runCLI(["calibrate", "gain", "--config", config, "--simulate", "--voltage", "230", "--current", "10",
                                       "--seconds", "1", "--write"])
        expectExit(result, 2)
        #expect(result.stderr.contains(config) && result.stderr.contains("read-only"), "\(result)")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == original)
        #expect(try dir.listing() == ["config.ini"])
    }

    @Test func writeToAMissingConfigSaysWhich() async throws {
        let result = try await runCLI(["calibrate", "gain", "--config", "/nonexistent/config.ini", "--simulate",
                                       "--voltage", "230", "--current", "10", "--write"])
        expectExit(result, 2)
        #expect(result.stderr.contains("/nonexistent/config.ini"))
    }

    @Test func unsuitableReferencesAreRefused() async throws {
        let beyond = try await runCLI(["calibrate", "gain", "--config", "calibration/config.ini", "--simulate",
                                       "--voltage", "230", "--current", "120", "--seconds", "1"])
        expectExit(beyond, 1)
        #expect(beyond.stderr.contains("beyond the current sensor"), "\(beyond)")
        let dir = try TempDir(prefix: "calibrate-noload")
        defer { dir.remove() }
        let noLoad = try dir.write("noload.json", try scenarioJSON(current: 0))
        let missing = try await runCLI(["calibrate", "gain", "--config", "calibration/config.ini", "--simulate", "--scenario", noLoad,
                                        "--voltage", "230", "--current", "10", "--seconds", "1"])
        expectExit(missing, 1)
        #expect(missing.stderr.contains("no load connected"), "\(missing)")
    }

    @Test func showPrintsRegistersAndPlainWords() async throws {
        let result = try await runCLI(["calibrate", "show", "--config", "calibration/config.ini"])
        expectExit(result, 0)
        #expect(result.stdout.contains("calib_aigain = 2069224   +1.542 % current gain"))
        #expect(result.stdout.contains("calib_aphcal0 = -63482710   −4.033° phase compensation"))
    }
}
