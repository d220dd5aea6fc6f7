// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import MeterReadings
@testable import MeterStore
import Synchronization
import MeterTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func bytes(of path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

/// True when the file at `path` holds exactly `expected` (nil: no file). A Bool, so a failure does not dump the bytes.
func holds(_ path: String, _ expected: [UInt8]?) -> Bool { bytes(of: path) == expected }

func write(_ bytes: [UInt8], to path: String) {
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
}

// MARK: - Rows

/// A row whose every field differs and is exactly representable, derived from `k`.
func makeRow(time: Int64, k: Double = 1, flags: RowFlags = []) -> MinuteRow {
    let phases = (0..<3).map { p -> Reading.PhaseValues in
        let b = k + Double(p)
        return .init(v: 230 + b / 8, i: 1.5 + b / 4, p: 100 * b + 0.5, q: -20 * b - 0.25, s: 110 * b + 0.75,
                     pf: 0.5 + b / 64)
    }
    let energy = (0..<3).map { p in
        MinuteRow.PhaseEnergy(whImport: 1.25 * (k + 1) + Double(p), whExport: 0.125 * Double(p),
                              varh: -0.25 * (k + 1), vah: 2 * (k + 1) + Double(p) / 2)
    }
    return MinuteRow(time: time, durationSeconds: 60, phases: phases, freq: 50 + k / 1024, energy: energy,
                     samples: 60, flags: flags, temperature: 40 + k / 2, inputB: Int(k) % 2)
}

/// Sum of the rows' energy per phase, added in row order (as SQLite does).
func energySum(_ rows: [MinuteRow]) -> [MinuteRow.PhaseEnergy] {
    (0..<3).map { p in
        rows.reduce(MinuteRow.PhaseEnergy.zero) { sum, row in
            let e = row.energy[p]
            return .init(whImport: sum.whImport + e.whImport, whExport: sum.whExport + e.whExport,
                         varh: sum.varh + e.varh, vah: sum.vah + e.vah)
        }
    }
}

// MARK: - Logging

/// Logs warnings and worse to stderr, so passing tests stay quiet.
var quietLogger: Logger {
    var logger = Logger(label: "store-test")
    logger.logLevel = .warning
    return logger
}

// MARK: - Processes

struct ProcessResult {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs `arguments` (the first is looked up in PATH) and waits for it.
func run(_ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                         errors: String(decoding: err, as: UTF8.self))
}

/// True when `command -v <name>` finds the program.
func installed(_ name: String) -> Bool {
    (try? run(["sh", "-c", "command -v \(name)"]))?.status == 0
}

// MARK: - A real read-only filesystem

/// A tmpfs mounted on a temporary folder, remountable read-only. Needs root (CAP_SYS_ADMIN); root bypasses file
/// permissions, but not a read-only mount.
final class TmpfsMount {
    let folder = TemporaryFolder()
    var path: String { folder.path }

    /// Root, `mount` present, and a trial mount works.
    static let isPossible: Bool = {
        guard geteuid() == 0, installed("mount") else { return false }
        guard let trial = try? TmpfsMount() else { return false }
        _ = trial
        return true
    }()

    struct Failed: Error, CustomStringConvertible { var description: String }

    init() throws {
        try mount(["-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", folder.path])
    }

    func remount(readOnly: Bool) throws {
        try mount(["-o", readOnly ? "remount,ro" : "remount,rw", folder.path])
    }

    private func mount(_ arguments: [String]) throws {
        let result = try run(["mount"] + arguments)
        guard result.status == 0 else { throw Failed(description: "mount \(arguments): \(result.errors)") }
    }

    deinit { _ = try? run(["umount", folder.path]) }
}
