// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MeterApp
import Logging
import MeterReadings
import MeterConfig
#if canImport(Glibc)
import Glibc
#endif

/// `clemap-edge`: open firmware for the CLEMAP energy meter.
@main
struct CLEMAPEdge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clemap-edge",
        abstract: "Open firmware for the CLEMAP energy meter (ADE9000 on a Raspberry Pi).",
        version: MeterApp.version,
        subcommands: [Run.self, Read.self, Calibrate.self, Config.self, GPIOSelftest.self, Output.self, ForecastCommand.self,
                      ExportCommand.self, ModelCommand.self, PQCommand.self])

    /// Exit codes: 0 ok, 1 failure (no chip, bus error), 2 usage or configuration error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigErrors {
            printError(error.description)
            Glibc.exit(2)
        } catch let error as ConfigError {
            printError(error.description)
            Glibc.exit(2)
        } catch let error as CLIError {
            printError(error.description)
            Glibc.exit(error.exitCode)
        } catch {
            // ArgumentParser exits 64 (EX_USAGE) on usage errors; ours is 2. Help and --version exit 0.
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// A failure the user has to act on; `description` says what and how.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    var exitCode: Int32 = 1
}

/// Writes one line to standard error (results go to stdout, everything else here).
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
}
