// SPDX-License-Identifier: Apache-2.0
//
// Runs the built `clemap-edge` executable as a child process, the way a user or a service would.

import Foundation
import MeterTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Locating the executable

/// Why the executable under test could not be found.
struct BinaryNotFound: Error, CustomStringConvertible, Sendable {
    let searched: [String]
    var description: String {
        "the built `clemap-edge` executable was not found next to the test bundle; looked in:\n  "
            + searched.joined(separator: "\n  ")
            + "\nBuild it first (`swift build --scratch-path <dir>`, then `swift test --scratch-path <dir>`): "
            + "the CLI tests run the real executable and never skip."
    }
}

enum CLIBinary {
    static let name = "clemap-edge"

    /// The `clemap-edge` executable of the same build as this test bundle.
    ///
    /// The test bundle lives in `<scratch>/<triple>/debug/clemap-edgePackageTests.xctest` (Linux: an executable;
    /// macOS: a bundle whose executable is `…/Contents/MacOS/…`), and SwiftPM puts `clemap-edge` in that same
    /// `debug` folder. So walk up from the running test executable until a folder holds an executable file
    /// named `clemap-edge`. This works for the default `.build` and for any `--scratch-path`/`--build-path`.
    /// The walk stops at the repository root, so a stray binary elsewhere is never picked up.
    static let location: Result<URL, BinaryNotFound> = {
        let fileManager = FileManager.default
        let cwd = URL(fileURLWithPath: fileManager.currentDirectoryPath, isDirectory: true)
        var starts: [URL] = []
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        if let argument0 = ProcessInfo.processInfo.arguments.first, !argument0.isEmpty {
            starts.append(URL(fileURLWithPath: argument0, relativeTo: cwd))
        }
        starts.append(Bundle.main.bundleURL)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { starts.append(bundle.bundleURL) }

        let root = URL(fileURLWithPath: Fixtures.repositoryRoot, isDirectory: true).standardizedFileURL
            .resolvingSymlinksInPath().path
        var searched: [String] = []
        for start in starts {
            var directory = start.standardizedFileURL.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<8 {
                let path = directory.path
                if path == root || path == "/" || path.isEmpty { break }
                let candidate = directory.appendingPathComponent(name)
                if !searched.contains(candidate.path) { searched.append(candidate.path) }
                var isDirectory: ObjCBool = false
                if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   fileManager.isExecutableFile(atPath: candidate.path) {
                    return .success(candidate)
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return .failure(BinaryNotFound(searched: searched))
    }()

    static func url() throws -> URL { try location.get() }
}

// MARK: - Running it

/// What one run of the executable did.
struct CLIResult: CustomStringConvertible, Sendable {
    var arguments: [String]
    var directory: String
    /// The exit status, or the signal number if it was killed by one (see `signalled`).
    var exitCode: Int32
    var signalled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    /// Non-empty lines of standard output.
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    var description: String {
        """
        `clemap-edge \(arguments.joined(separator: " "))` in \(directory) → \
        \(timedOut ? "TIMED OUT, killed" : signalled ? "killed by signal \(exitCode)" : "exit \(exitCode)") \
        after \(String(format: "%.1f", seconds)) s
        --- stdout ---
        \(stdout)
        --- stderr ---
        \(stderr)
        """
    }
}

/// Runs `clemap-edge` with `arguments` in `directory` (default: the repository root, so paths like
/// `calibration/config.ini` work as in the README). Output goes to files in a private folder (no pipe can
/// fill up and block the child); a child still running after `timeout` seconds is killed and reported.
func runCLI(_ arguments: [String], in directory: String = Fixtures.repositoryRoot,
            timeout: Double = 60) async throws -> CLIResult {
    let binary = try CLIBinary.url()
    let outputs = try TempDir(prefix: "clitests-out")
    defer { outputs.remove() }
    let stdoutURL = outputs.url.appendingPathComponent("stdout")
    let stderrURL = outputs.url.appendingPathComponent("stderr")
    try Data().write(to: stdoutURL)
    try Data().write(to: stderrURL)
    let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    defer { try? stdoutHandle.close(); try? stderrHandle.close() }

    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle

    let clock = ContinuousClock()
    let started = clock.now
    try process.run()
    var timedOut = false
    while process.isRunning {
        if clock.now - started > .seconds(timeout) {
            timedOut = true
            process.terminate()
            try? await Task.sleep(for: .seconds(2))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            break
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
    process.waitUntilExit()
    let elapsed = clock.now - started
    let (s, attoseconds) = elapsed.components

    func text(_ url: URL) -> String {
        let data = (try? Data(contentsOf: url)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
    return CLIResult(arguments: arguments, directory: directory, exitCode: process.terminationStatus,
                     signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                     stdout: text(stdoutURL), stderr: text(stderrURL),
                     seconds: Double(s) + Double(attoseconds) * 1e-18)
}

/// Fails the current test unless the run finished by itself with `code`.
func expectExit(_ result: CLIResult, _ code: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!result.timedOut, "the command hung\n\(result)", sourceLocation: sourceLocation)
    #expect(!result.signalled && result.exitCode == code, "expected exit \(code)\n\(result)",
            sourceLocation: sourceLocation)
}

// MARK: - Files

/// A fresh folder under the system's temporary directory.
struct TempDir: Sendable {
    let url: URL
    var path: String { url.path }

    init(prefix: String = "clitests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` inside the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file.path
    }

    /// The names in the folder, recursively, sorted.
    func listing() throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        return enumerator.compactMap { $0 as? String }.sorted()
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Scenario JSON for the simulator: the same voltage, current and angle on all three phases,
/// with optional `faults` (see Sources/ADE9000Sim/Scenario.swift).
func scenarioJSON(voltage: Double = 230, current: Double = 10, angleDeg: Double = 0, phases: Int = 3,
                  faults: [String: Any]? = nil) throws -> String {
    let phase: [String: Any] = ["voltage_v": voltage, "current_a": current, "angle_deg": angleDeg]
    var object: [String: Any] = ["frequency_hz": 50, "phases": Array(repeating: phase, count: phases)]
    if let faults { object["faults"] = faults }
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

// MARK: - Readings

/// One JSON line of `read --json`, parsed.
struct JSONReading {
    let object: [String: Any]
    let line: String

    init(line: String) throws {
        self.line = line
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let object = parsed as? [String: Any] else { throw NotAnObject(line: line) }
        self.object = object
    }

    struct NotAnObject: Error, CustomStringConvertible {
        let line: String
        var description: String { "not a JSON object: \(line)" }
    }

    /// The number under `key`, or nil if absent or not a number.
    subscript(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }

    /// Keys every reading must have.
    static let requiredKeys: [String] = ["time", "freq"]
        + (1...3).flatMap { n in ["v", "i", "p", "q", "s", "pf"].map { "l\(n)_\($0)" } }
}

/// Parses every stdout line as a reading; records an issue for each line that is not a JSON object.
func readings(of result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) -> [JSONReading] {
    result.stdoutLines.compactMap { line in
        do { return try JSONReading(line: line) } catch {
            Issue.record("stdout line is not a JSON object (\(error)): \(line)\n\(result)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// `actual` within `percent` % of `expected`.
func within(_ actual: Double?, _ expected: Double, percent: Double) -> Bool {
    guard let actual else { return false }
    return abs(actual - expected) <= abs(expected) * percent / 100
}

/// The shipped config, relative to the repository root (the default working directory of ``runCLI``).
let shippedConfig = "calibration/config.ini"

struct ConfigWithoutHTTPError: Error, CustomStringConvertible {
    var description: String { "calibration/config.ini has no [HTTP] section with an `enabled = true` line" }
}

/// The shipped config.ini's text with `[HTTP] enabled = false`: tests that run the service side by side must not all
/// start the API on port 4000 (the API is tested as a process, integration/process/test_http_*.py).
func shippedConfigWithoutHTTP() throws -> String {
    let text = try String(contentsOfFile: Fixtures.repositoryRoot + "/" + shippedConfig, encoding: .utf8)
    guard let section = text.range(of: "\n[HTTP]\n"),
          let line = text.range(of: "\nenabled = true\n", range: section.upperBound..<text.endIndex) else {
        throw ConfigWithoutHTTPError()
    }
    return text.replacingCharacters(in: line, with: "\nenabled = false\n")
}

/// A simulated hour of `home-day` stored by `clemap-edge run` (1000x, [HTTP] off) in `dir`: its database and config.
func simulatedHour(in dir: TempDir, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (db: String, config: String) {
    let db = dir.path + "/meter.db"
    let config = try dir.write("config.ini", try shippedConfigWithoutHTTP())
    let run = try await runCLI(["run", "--simulate", "--config", config, "--scenario", "scenarios/home-day.json",
                                "--sim-speed", "1000", "--sim-duration", "3600", "--db", db])
    expectExit(run, 0, sourceLocation: sourceLocation)
    return (db, config)
}
