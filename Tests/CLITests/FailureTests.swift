// SPDX-License-Identifier: Apache-2.0
//
// Failures the user has to act on: no chip on the bus, no SPI device, a bad scenario file.

import Foundation
import Testing

@Suite("clemap-edge read: failures")
struct FailureTests {
    @Test("dead bus: no ADE9000 answered → exit 1 naming the PART_ID read", arguments: [
        ("all_ones", "PART_ID read 0xFFFFFFFF"),
        ("all_zeros", "PART_ID read 0x00000000"),
    ])
    func deadBus(mode: String, expected: String) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let scenario = try dir.write("dead-\(mode).json", scenarioJSON(faults: ["dead_bus": mode]))
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", scenario, "--json"])
        expectExit(result, 1)
        #expect(result.stderr.contains("no ADE9000 answered on simulator (\(expected)"), "\(result)")
        #expect(result.stdout.isEmpty, "no reading should be printed\n\(result)")
    }

    @Test("missing SPI device → exit 1 naming the device, dtparam=spi=on and --simulate")
    func missingDevice() async throws {
        let device = "/dev/spidev9.9"
        try #require(!FileManager.default.fileExists(atPath: device), "\(device) exists on this machine")
        let result = try await runCLI(["read", "--config", shippedConfig, "--device", device])
        expectExit(result, 1)
        for needle in [device, "dtparam=spi=on", "--simulate"] {
            #expect(result.stderr.contains(needle), "stderr should mention \(needle)\n\(result)")
        }
        #expect(result.stdout.isEmpty, "\(result)")
    }

    enum BadScenario: String, CaseIterable, Sendable {
        case invalidJSON, twoPhases, missingFile
    }

    @Test("bad scenario file → exit 2 naming the file", arguments: BadScenario.allCases)
    func badScenario(kind: BadScenario) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path: String
        switch kind {
        case .invalidJSON: path = try dir.write("broken.json", #"{"frequency_hz": 50, "phases": ["#)
        case .twoPhases: path = try dir.write("two-phases.json", scenarioJSON(phases: 2))
        case .missingFile: path = dir.url.appendingPathComponent("absent.json").path
        }
        let result = try await runCLI(["read", "--simulate", "--config", shippedConfig, "--scenario", path])
        expectExit(result, 2)
        #expect(result.stderr.contains(path), "stderr should name \(path)\n\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        if kind == .twoPhases { #expect(result.stderr.contains("phases"), "\(result)") }
    }
}
