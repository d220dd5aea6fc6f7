// SPDX-License-Identifier: Apache-2.0
//
// `clemap-edge read --simulate`: values, formats and the simulator's faults, end to end through the executable.

import Foundation
import MeterTesting
import Testing

@Suite("clemap-edge read --simulate")
struct ReadCommandTests {
    @Test("--json --count 2: two JSON lines with every key; default load 230 V 10 A PF 1 gives 2300 W at 50 Hz")
    func jsonLines() async throws {
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--json",
                                       "--count", "2", "--interval", "0.2"])
        expectExit(result, 0)
        #expect(result.stdout.hasSuffix("\n"), "stdout should end with a newline\n\(result)")
        #expect(result.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 3,
                "stdout should be exactly 2 lines\n\(result)")
        let lines = readings(of: result)
        #expect(lines.count == 2, "expected 2 readings\n\(result)")
        for reading in lines {
            for key in JSONReading.requiredKeys {
                #expect(reading[key] != nil, "key \(key) missing or not a number in \(reading.line)")
            }
            #expect(within(reading["l1_p"], 2300, percent: 0.2), "l1_p: \(reading.line)")
            #expect(abs((reading["freq"] ?? 0) - 50) <= 0.01, "freq: \(reading.line)")
        }
        // Logs go to stderr, never into the data stream.
        #expect(!result.stdout.contains("clemap-edge.read"), "a log line reached stdout\n\(result)")
        #expect(!result.stdout.contains(" info "), "a log line reached stdout\n\(result)")
        #expect(result.stderr.contains("ADE9000 running"), "the start-up log should be on stderr\n\(result)")
    }

    @Test("scenario with the current lagging 60°: P ≈ 1150 W, Q ≈ +1992 var")
    func inductiveLoad() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let scenario = try dir.write("inductive.json", scenarioJSON(angleDeg: 60))
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", scenario, "--json"])
        expectExit(result, 0)
        let lines = readings(of: result)
        #expect(lines.count == 1, "expected 1 reading\n\(result)")
        let q = 2300 * sin(60 * Double.pi / 180) // 1991.86 var
        for reading in lines {
            for n in 1...3 {
                #expect(within(reading["l\(n)_p"], 1150, percent: 0.5), "l\(n)_p ≈ 1150 W: \(reading.line)")
                #expect(within(reading["l\(n)_q"], q, percent: 0.5), "l\(n)_q ≈ +\(q) var: \(reading.line)")
            }
        }
    }

    @Test("scenario with the current leading 30° (angle_deg -30): Q negative")
    func capacitiveLoad() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let scenario = try dir.write("capacitive.json", scenarioJSON(angleDeg: -30))
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", scenario, "--json"])
        expectExit(result, 0)
        let lines = readings(of: result)
        #expect(lines.count == 1, "expected 1 reading\n\(result)")
        for reading in lines {
            for n in 1...3 {
                let q = reading["l\(n)_q"]
                #expect(q != nil && q! < 0, "l\(n)_q should be negative: \(reading.line)")
                #expect(within(q, -1150, percent: 0.5), "l\(n)_q ≈ -1150 var: \(reading.line)")
                #expect(within(reading["l\(n)_p"], 2300 * cos(Double.pi / 6), percent: 0.5), "l\(n)_p: \(reading.line)")
            }
        }
    }

    @Test("without --json: a table with a Hz header and rows L1, L2, L3")
    func humanTable() async throws {
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig])
        expectExit(result, 0)
        #expect(result.stdout.contains("Hz"), "no Hz header\n\(result)")
        let rows = result.stdoutLines.map { $0.trimmingCharacters(in: .whitespaces) }
        for phase in ["L1", "L2", "L3"] {
            #expect(rows.contains { $0.hasPrefix(phase + " ") }, "no \(phase) row\n\(result)")
        }
        #expect(!result.stdout.contains("{"), "the table should not be JSON\n\(result)")
    }

    @Test("scenarios/harmonics-household.json: THD within 0.5 % of the file's amplitudes, angles 120/240; the table shows both")
    func harmonics() async throws {
        let file = "scenarios/harmonics-household.json"
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(filePath: Fixtures.repositoryRoot + "/" + file))) as? [String: Any]
        let phases = try #require(root?["phases"] as? [[String: Any]])
        func thd(_ phase: [String: Any], _ quantity: String) -> Double {
            let list = ((phase["harmonics"] as? [String: Any])?[quantity] as? [[String: Any]]) ?? []
            return list.reduce(0.0) { sum, h in let p = (h["percent"] as? NSNumber)?.doubleValue ?? 0; return sum + p * p }.squareRoot()
        }
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", file, "--json"])
        expectExit(result, 0)
        let reading = try #require(readings(of: result).first, "no reading\n\(result)")
        for (index, phase) in phases.enumerated() {
            let line = "l\(index + 1)"
            #expect(abs((reading["\(line)_vthd"] ?? -1) - thd(phase, "voltage")) <= 0.5, "\(line)_vthd: \(reading.line)")
            #expect(abs((reading["\(line)_ithd"] ?? -1) - thd(phase, "current")) <= 0.5, "\(line)_ithd: \(reading.line)")
            #expect(within(reading["\(line)_vfund"], (phase["voltage_v"] as? NSNumber)?.doubleValue ?? 0, percent: 0.1), "\(line)_vfund: \(reading.line)")
            #expect(within(reading["\(line)_ifund"], (phase["current_a"] as? NSNumber)?.doubleValue ?? 0, percent: 0.2), "\(line)_ifund: \(reading.line)")
        }
        #expect(abs((reading["l2_vangle"] ?? 0) - 120) < 0.05 && abs((reading["l3_vangle"] ?? 0) - 240) < 0.05, "\(reading.line)")

        let table = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", file])
        expectExit(table, 0)
        #expect(table.stdout.contains("THD-V %") && table.stdout.contains("THD-I %") && table.stdout.contains("V angle °"), "\(table)")
        let l2 = table.stdoutLines.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("L2 ") }
        let angle = l2.count == 2 ? Double(l2[1].split(separator: " ").last ?? "") : nil
        #expect(abs((angle ?? 0) - 120) < 0.05, "the second L2 row ends with its angle\n\(table)")
    }

    @Test("crc_error_rate 0.05: no corrupted value reaches a reading")
    func crcErrors() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let scenario = try dir.write("crc.json", scenarioJSON(faults: ["crc_error_rate": 0.05]))
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", scenario,
                                       "--count", "5", "--interval", "0.2", "--json"])
        expectExit(result, 0)
        let lines = readings(of: result)
        #expect(lines.count == 5, "expected 5 readings\n\(result)")
        for reading in lines {
            #expect(within(reading["l1_p"], 2300, percent: 0.2), "l1_p: \(reading.line)")
            for n in 1...3 {
                #expect(within(reading["l\(n)_p"], 2300, percent: 0.2), "l\(n)_p: \(reading.line)")
                #expect(within(reading["l\(n)_v"], 230, percent: 0.2), "l\(n)_v: \(reading.line)")
                #expect(within(reading["l\(n)_i"], 10, percent: 0.2), "l\(n)_i: \(reading.line)")
            }
            #expect(abs((reading["freq"] ?? 0) - 50) <= 0.01, "freq: \(reading.line)")
        }
    }

    @Test("silent chip reset after 2.5 s: every reading still right, and stderr says the chip was set up again")
    func silentReset() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let scenario = try dir.write("reset.json", scenarioJSON(faults: ["silent_reset_after_s": 2.5]))
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", scenario,
                                       "--count", "5", "--interval", "1", "--json"])
        expectExit(result, 0)
        let lines = readings(of: result)
        #expect(lines.count == 5, "expected 5 readings\n\(result)")
        for reading in lines {
            #expect(within(reading["l1_p"], 2300, percent: 0.2), "l1_p: \(reading.line)")
        }
        let stderr = result.stderr.lowercased()
        #expect(stderr.contains("reset") && stderr.contains("set up again"),
                "stderr should say the chip reset and was set up again\n\(result)")
    }
}
