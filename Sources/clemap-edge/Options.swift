// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import ADE9000Sim
import MeterApp
import MeterClock
import MeterReadings
import MeterConfig

/// Flags every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The meter's config.ini.", valueName: "file"))
    var config: String = "/etc/clemap-edge/config.ini"

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: [LOGGING] level).", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// Loads the configuration; a bad file throws ``ConfigErrors`` (exit 2).
    func loadConfiguration() throws -> MeterConfiguration {
        try MeterConfiguration.load(path: config)
    }

    /// Logs go to stderr; results to stdout.
    func bootstrapLogging(_ level: Logger.Level) {
        let chosen = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}


/// Where readings come from.
struct MeterSourceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SPI device of the ADE9000 (default: [METER_SERVICE] spi_device, else /dev/spidev0.0).", valueName: "path"))
    var device: String?

    @Flag(name: .long, help: "Read a simulated ADE9000 instead of the hardware.")
    var simulate = false

    @Option(name: .long, help: ArgumentHelp("Scenario JSON for the simulator (see scenarios/README.md).", valueName: "file"))
    var scenario: String?

    /// A scenario built by a command rather than read from a file (calibrate --simulate).
    var inlineScenario: Scenario?

    enum CodingKeys: String, CodingKey { case device, simulate, scenario }

    func validate() throws {
        if scenario != nil && !simulate { throw ValidationError("--scenario needs --simulate") }
        if simulate && device != nil { throw ValidationError("--device and --simulate exclude each other") }
    }

    /// The source these options name; a scenario file that cannot be read is a usage error (exit 2).
    func meterSource(_ configuration: MeterConfiguration) throws -> MeterSource {
        guard simulate else { return .spidev(device: device) }
        if let inlineScenario { return .simulator(inlineScenario) }
        if let scenario {
            do { return .simulator(try Scenario.load(path: scenario)) } catch { throw CLIError(description: "\(error)", exitCode: 2) }
        }
        return .simulator(.balanced(voltage: 230, current: 10, angle: 0, frequency: Double(configuration.lineFrequencyHz)))
    }

    /// The meter these options name, on `clock`.
    func makeMeter(_ configuration: MeterConfiguration, clock: any MeterClock = SystemClock(), logger: Logger) throws -> Meter {
        let source = try meterSource(configuration)
        do { return try source.makeMeter(configuration: configuration, clock: clock, logger: logger) } catch {
            throw CLIError(description: error.description, exitCode: error.exitCode)
        }
    }
}
