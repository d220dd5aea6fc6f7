// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterGPIO

extension CLEMAPEdge {
    /// `clemap-edge output a|b on|off|status`: switch a relay output and store the state, or show it.
    struct Output: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch relay output A or B on or off, or show it. The state survives restarts.",
            discussion: """
                on/off stores the desired state in the state file (atomically: temp file, fsync, rename), then \
                drives the line. The service applies the stored states when it starts; outputs with nothing \
                stored start off. status prints the stored state and drives the line to it (as a start would) \
                to read it back. The state file is \(OutputStateFile.defaultPath) unless --state-file names \
                another; with --simulate it defaults to $TMPDIR/clemap-edge-sim/outputs.state. While the \
                service runs it holds the lines: the state is stored, but applied only at its next start. \
                Exits 0 on success, 1 if the chip, the line or the state file fails, 2 if the output is not \
                fitted (output_pin_setup) or the config is bad.
                """)

        enum Channel: String, ExpressibleByArgument, CaseIterable {
            case a, b
            init?(argument: String) { self.init(rawValue: argument.lowercased()) }
            var output: OutputChannel { self == .a ? .a : .b }
        }

        enum Action: String, ExpressibleByArgument, CaseIterable {
            case on, off, status
            init?(argument: String) { self.init(rawValue: argument.lowercased()) }
        }

        @Argument(help: "The output: a or b.")
        var channel: Channel

        @Argument(help: "on, off or status.")
        var action: Action

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Use a simulated GPIO chip (the state file is still real).")
        var simulate = false

        @Option(help: ArgumentHelp("The output state file (default: \(OutputStateFile.defaultPath)).", valueName: "file"))
        var stateFile: String?

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            let configuration = try global.loadConfiguration()
            global.bootstrapLogging(configuration.logLevel)
            let logger = Logger(label: "clemap-edge.output")
            let output = channel.output
            let function: GPIOFunction = output == .a ? .outputA : .outputB
            let file = BoardSource.stateFile(path: stateFile, simulate: simulate)

            // Not fitted is a configuration problem: exit 2, before touching the chip or the file.
            let offset: Int
            do { offset = try configuration.gpio.fittedOffset(function) } catch { throw CLIError(description: "\(error)", exitCode: 2) }
            if simulate { printError("simulated GPIO; state file: \(file.path)") }

            let backend: any GPIOBackend
            do {
                backend = try BoardSource.open(configuration.gpio, simulate: simulate, clock: SystemClock())
            } catch {
                throw CLIError(description: "\(error)")
            }
            let board = BoardIO(configuration: configuration.gpio, backend: backend, stateFile: file, logger: logger)
            defer { board.close() }

            let stored: Bool
            do {
                switch action {
                case .on, .off:
                    try board.setOutput(output, on: action == .on)
                    stored = action == .on
                case .status:
                    stored = try board.storedOutputs()[output]
                }
            } catch {
                throw CLIError(description: "\(error)")
            }

            var level: Bool?
            var note: String?
            do {
                try board.request(function)
                level = try board.readOutput(output)
            } catch {
                note = "\(error)"
            }
            let state = stored ? "on" : "off"
            if json {
                struct Result: Encodable { let output: String; let gpio: Int; let state: String; let level: Int?; let state_file: String }
                print(JSONOutput.line(Result(output: output.rawValue, gpio: offset, state: state, level: level.map { $0 ? 1 : 0 },
                                             state_file: file.path)))
            } else {
                let readBack = level.map { "line reads \($0 ? 1 : 0)" } ?? "line not read"
                print("\(output) (GPIO \(offset)): \(state) (stored in \(file.path); \(readBack))")
            }
            if let note {
                // status of a line the running service holds is not a failure: the stored state is the answer.
                let message = action == .status
                    ? "note: the line could not be read: \(note)"
                    : "\(output): '\(state)' is stored in \(file.path) but not applied: \(note)"
                if action == .status { printError(message) } else { throw CLIError(description: message) }
            }
        }
    }
}
