// SPDX-License-Identifier: Apache-2.0
//
// Runs the built `clemap-edge` executable, as Tests/CLITests/CLIRunner.swift does: found next to the test
// bundle, run as a child process with output to files.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum GPIOCLI {
    /// `clemap-edge` of the same build: walk up from the test executable (at most 8 folders, not past the repository).
    static let binary: URL? = {
        let root = URL(fileURLWithPath: Fixture.repositoryRoot).standardizedFileURL.resolvingSymlinksInPath().path
        var starts: [URL] = []
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { starts.append(bundle.bundleURL) }
        if let argument0 = ProcessInfo.processInfo.arguments.first { starts.append(URL(fileURLWithPath: argument0)) }
        for start in starts {
            var directory = start.standardizedFileURL.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<8 {
                if directory.path == root || directory.path == "/" { break }
                let candidate = directory.appendingPathComponent("clemap-edge")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }()

    struct Result: CustomStringConvertible {
        var arguments: [String]
        var exitCode: Int32
        var stdout: String
        var stderr: String
        var description: String {
            "`clemap-edge \(arguments.joined(separator: " "))` → exit \(exitCode)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
        }
    }

    /// Runs the executable in the repository root; kills it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 60) async throws -> Result {
        let binary = try #require(binary, "the built clemap-edge was not found next to the test bundle; build it first")
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("gpio-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
        let out = outputs.appendingPathComponent("stdout"), err = outputs.appendingPathComponent("stderr")
        try Data().write(to: out)
        try Data().write(to: err)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Fixture.repositoryRoot)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        let started = Date()
        while process.isRunning {
            if Date().timeIntervalSince(started) > timeout { process.terminate() }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return Result(arguments: arguments, exitCode: process.terminationStatus,
                      stdout: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
    }
}

private let noGPIOChips = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
    .allSatisfy { !$0.hasPrefix("gpiochip") }

@Suite("CLI: gpio-selftest and output (the built executable)")
struct GPIOCLITests {
    let config = "calibration/config.ini"

    @Test("gpio-selftest --simulate passes every check and exits 0")
    func selftestSimulated() async throws {
        let result = try await GPIOCLI.run(["gpio-selftest", "--config", config, "--simulate", "--json"])
        #expect(result.exitCode == 0, "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        #expect(object["passed"] as? Bool == true)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == 11, "\(result)")
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true })
        #expect((object["libgpiod"] as? [String: Any])?["api"] as? Int == 1 || (object["libgpiod"] as? [String: Any])?["api"] as? Int == 2)
    }

    @Test("gpio-selftest --simulate --interactive plays a bouncing press and prints the table")
    func selftestInteractive() async throws {
        let result = try await GPIOCLI.run(["gpio-selftest", "--config", config, "--simulate", "--interactive"])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("reset button press    pass    short press (0.300 s)"), "\(result)")
        #expect(result.stdout.contains("gpio-selftest: all 12 checks passed"), "\(result)")
        #expect(result.stderr.contains("Press and release the reset button (GPIO 7)"), "\(result)")
    }

    @Test("gpio-selftest without a chip exits 1, naming the labels and how to grant access",
          .enabled(if: noGPIOChips, "this machine has /dev/gpiochip*"))
    func selftestNoChip() async throws {
        let result = try await GPIOCLI.run(["gpio-selftest", "--config", config])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stdout.contains("chip   FAIL"), "\(result)")
        for needle in ["pinctrl-bcm2835, pinctrl-bcm2711 or pinctrl-rp1", "no /dev/gpiochip*", "Fix:",
                       "sudo usermod -aG gpio $USER", "udev", "--simulate"] {
            #expect(result.stderr.contains(needle), "missing '\(needle)'\n\(result)")
        }
    }

    @Test("output on, then status in a new process: the state survived; off again")
    func outputPersists() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path + "/outputs.state"
        let common = ["--config", config, "--simulate", "--state-file", file]

        let status0 = try await GPIOCLI.run(["output", "a", "status"] + common)
        #expect(status0.exitCode == 0 && status0.stdout.hasPrefix("output A (GPIO 21): off"), "\(status0)")
        let on = try await GPIOCLI.run(["output", "a", "on"] + common)
        #expect(on.exitCode == 0 && on.stdout.contains("output A (GPIO 21): on") && on.stdout.contains("line reads 1"), "\(on)")
        #expect(folder.read("outputs.state")?.contains("a=on\nb=off\n") == true)
        let status = try await GPIOCLI.run(["output", "A", "status", "--json"] + common)
        #expect(status.exitCode == 0, "\(status)")
        // One JSON document a line, keys sorted (JSONOutput).
        #expect(status.stdout == "{\"gpio\":21,\"level\":1,\"output\":\"a\",\"state\":\"on\",\"state_file\":\"\(file)\"}\n", "\(status)")
        let off = try await GPIOCLI.run(["output", "a", "off"] + common)
        #expect(off.exitCode == 0 && off.stdout.contains(": off"), "\(off)")
        #expect(folder.read("outputs.state")?.contains("a=off\n") == true)
        #expect(folder.listing() == ["outputs.state"])
    }

    @Test("output: a bad channel or action is a usage error (2); an output that is not fitted is a config error (2)")
    func outputUsage() async throws {
        let bad = try await GPIOCLI.run(["output", "c", "on", "--config", config, "--simulate"])
        #expect(bad.exitCode == 2, "\(bad)")
        let badAction = try await GPIOCLI.run(["output", "a", "toggle", "--config", config, "--simulate"])
        #expect(badAction.exitCode == 2, "\(badAction)")

        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let text = try String(contentsOfFile: Fixture.repositoryRoot + "/" + config, encoding: .utf8)
            .replacingOccurrences(of: "output_pin_setup = ab", with: "output_pin_setup = a")
        try folder.write("config.ini", text)
        let notFitted = try await GPIOCLI.run(["output", "b", "on", "--config", folder.path + "/config.ini", "--simulate",
                                               "--state-file", folder.path + "/outputs.state"])
        #expect(notFitted.exitCode == 2, "\(notFitted)")
        #expect(notFitted.stderr.contains("output B: not fitted: [GPIO_SERVICE] output_pin_setup = a. Fix:"), "\(notFitted)")
        #expect(folder.read("outputs.state") == nil)
    }

    @Test("output without a chip exits 1 and stores nothing", .enabled(if: noGPIOChips, "this machine has /dev/gpiochip*"))
    func outputNoChip() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let result = try await GPIOCLI.run(["output", "a", "on", "--config", config, "--state-file", folder.path + "/outputs.state"])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stderr.contains("pinctrl-rp1"), "\(result)")
        #expect(folder.listing().isEmpty)
    }
}
