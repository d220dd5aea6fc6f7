// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import MeterReadings
import MeterGPIO
import MeterApp
import MeterConfig
import MeterClock
#if canImport(Glibc)
import Glibc
#endif

extension CLEMAPEdge {
    /// `clemap-edge gpio-selftest`: request every configured line, play the LED patterns, toggle the outputs,
    /// read the inputs and the button; a pass/fail table, exit 0 only if every check passes.
    struct GPIOSelftest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gpio-selftest",
            abstract: "Check the GPIO: chip, status LED, outputs A/B, inputs, reset button.",
            discussion: """
                Opens the GPIO chip ([GPIO_SERVICE] gpio_chip, else the chip labelled \
                \(GPIOChipRequest.headerLabels.joined(separator: ", "))), requests every configured line, plays \
                each status LED pattern (about 12 s), switches each fitted output on and off and reads it back \
                (the relays click), then leaves it in its stored state, reads the inputs and the idle button. \
                With --interactive it asks for a press of the reset button. Stop the service first \
                (`sudo systemctl stop clemap-edge`): it holds the lines. Exits 0 if every check passes, \
                1 if one fails or there is no chip, 2 for a bad config file.
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Use a simulated GPIO chip (instant, no hardware).")
        var simulate = false

        @Flag(help: "Also ask for a press of the reset button.")
        var interactive = false

        @Option(help: ArgumentHelp("With --interactive: seconds to wait for the press.", valueName: "seconds"))
        var timeout = 15.0

        @Option(help: ArgumentHelp("The output state file the outputs are restored from (default: \(OutputStateFile.defaultPath)).",
                                   valueName: "file"))
        var stateFile: String?

        @Flag(help: "Print one JSON document instead of the table.")
        var json = false

        func validate() throws {
            guard timeout.isFinite, timeout >= 1, timeout <= 600 else { throw ValidationError("--timeout must be 1…600 seconds") }
        }

        func run() async throws {
            let configuration = try global.loadConfiguration()
            global.bootstrapLogging(configuration.logLevel)
            let logger = Logger(label: "clemap-edge.gpio")
            let clock: any MeterClock = simulate ? VirtualClock(monotonic: 0) : SystemClock()

            var checks: [GPIOSelftestCheck] = []
            let backend: any GPIOBackend
            do {
                backend = try BoardSource.open(configuration.gpio, simulate: simulate, clock: clock)
            } catch {
                checks.append(GPIOSelftestCheck(name: "chip", passed: false, detail: "\(error.subject): \(error.detail)"))
                print(SelftestReport.render(checks, chip: nil, json: json))
                throw CLIError(description: "\(error)")
            }
            checks.append(GPIOSelftestCheck(name: "chip", passed: true, detail: backend.chip.description))
            let board = BoardIO(configuration: configuration.gpio, backend: backend,
                                stateFile: BoardSource.stateFile(path: stateFile, simulate: simulate), logger: logger)
            defer { board.close() }

            let simulated = backend as? SimulatedGPIO
            let button = configuration.gpio.resetButtonPin
            let runner = GPIOSelftestRunner(board: board, clock: clock, logger: logger)
            checks += await runner.run(interactiveTimeout: interactive ? timeout : nil) { message in
                printError(message)
                if let simulated {
                    // A 0.3 s press with contact bounce on both edges, 0.5 s after the prompt.
                    let t = clock.monotonic() + 0.5
                    simulated.scheduleInput(offset: button, [
                        (t, false), (t + 0.004, true), (t + 0.008, false),
                        (t + 0.3, true), (t + 0.303, false), (t + 0.306, true),
                    ])
                    printError("(simulated: the button is pressed for 0.3 s, with contact bounce)")
                }
            }
            print(SelftestReport.render(checks, chip: backend.chip, json: json))
            let failed = checks.filter { !$0.passed }.count
            if failed > 0 {
                throw CLIError(description: "gpio-selftest: \(failed) of \(checks.count) checks failed. "
                               + "Fix: see the failed rows above")
            }
        }
    }
}

/// The self-test's table and JSON.
enum SelftestReport {
    static func render(_ checks: [GPIOSelftestCheck], chip: GPIOChipInfo?, json: Bool) -> String {
        let passed = checks.allSatisfy(\.passed)
        if json {
            struct Library: Encodable { let version: String; let api: Int }
            struct Chip: Encodable { let path, name, label: String; let lines: Int; let simulated: Bool }
            struct Check: Encodable { let name: String; let passed: Bool; let detail: String }
            struct Report: Encodable { let passed: Bool; let libgpiod: Library; let chip: Chip?; let checks: [Check] }
            let library = BoardSource.library
            return JSONOutput.line(Report(
                passed: passed, libgpiod: Library(version: library.version, api: library.api),
                chip: chip.map { Chip(path: $0.path, name: $0.name, label: $0.label, lines: $0.lineCount, simulated: $0.api == nil) },
                checks: checks.map { Check(name: $0.name, passed: $0.passed, detail: $0.detail) }))
        }
        let width = max(5, checks.map(\.name.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var lines = [pad("CHECK", width) + "RESULT  DETAIL"]
        for check in checks {
            lines.append(pad(check.name, width) + pad(check.passed ? "pass" : "FAIL", 8) + check.detail)
        }
        let failed = checks.filter { !$0.passed }.count
        lines.append(passed ? "gpio-selftest: all \(checks.count) checks passed"
                            : "gpio-selftest: \(failed) of \(checks.count) checks FAILED")
        return lines.joined(separator: "\n")
    }
}
