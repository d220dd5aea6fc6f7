// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A command-line tool the tests run to build their inputs (`/bin/tar` packing an archive), waited for.
public enum Tool {
    /// Runs `path` with `arguments`. - Returns: its exit status.
    public static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
