// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterGPIO
import MeterServices

extension CLEMAPEdge {
    /// `clemap-edge run`: the firmware. Samples the meter every second and stores one row per interval.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the meter service: sample every second, store one row a minute in SQLite.",
            discussion: """
                SIGTERM or SIGINT closes the running interval (flagged partial), writes it and closes the database. \
                Under systemd (Type=notify) it sends READY=1 once the chip is set up, WATCHDOG=1 while sampling, and STATUS=.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions

        @Option(help: ArgumentHelp("Database file (default: [DATA_GATHERING_MODULE] db_path, relative to the config file).", valueName: "file"))
        var db: String?

        @Option(help: ArgumentHelp("With --simulate: run the simulated chip and the service clock N times faster than real time.", valueName: "N"))
        var simSpeed: Double?

        @Option(help: ArgumentHelp("With --simulate: start sampling at the next interval boundary and stop after this many simulated seconds.", valueName: "seconds"))
        var simDuration: Double?

        func validate() throws {
            if !source.simulate && (simSpeed != nil || simDuration != nil) {
                throw ValidationError("--sim-speed and --sim-duration need --simulate")
            }
            if let simSpeed, !(simSpeed.isFinite && simSpeed >= 1 && simSpeed <= 10_000) {
                throw ValidationError("--sim-speed must be between 1 and 10000")
            }
            if let simDuration, !(simDuration.isFinite && simDuration > 0) {
                throw ValidationError("--sim-duration must be a positive number of seconds")
            }
        }

        func run() async throws {
            let configuration = try global.loadConfiguration()
            global.bootstrapLogging(configuration.logLevel)
            let logger = Logger(label: "clemap-edge")
            let options = MeterAppOptions(
                source: try source.meterSource(configuration), databasePath: db,
                clock: source.simulate ? ScaledClock(speed: simSpeed ?? 1) : SystemClock(), stopAfter: simDuration)
            let app: MeterApp
            do { app = try MeterApp.build(configuration: configuration, options: options, logger: logger) } catch {
                throw CLIError(description: error.description, exitCode: error.exitCode)
            }
            printError("database: \(app.databasePath)\n  look at it with: sqlite3 \(app.databasePath) 'SELECT time, l1_p, l2_p, l3_p FROM meter_data ORDER BY time DESC LIMIT 10'")
            do {
                try await app.run()
            } catch {
                throw CLIError(description: "\(error)")
            }
            options.notifier.notify("STOPPING=1")
            if app.restartRequested {
                // Everything is written and closed; systemd (Restart=on-failure) starts the service again.
                throw CLIError(description: "restarting on the reset button's long press", exitCode: ResetButton.restartExitCode)
            }
        }
    }
}
