// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import ADE9000
import MeterCalibration
import MeterCore
import MeterServices
import MeterStore
import ServiceLifecycle
import UnixSignals

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
            let clock: any ServiceClock = source.simulate ? ScaledServiceClock(speed: simSpeed ?? 1) : SystemServiceClock()
            // The simulated chip lives on the service clock, and so do the driver's waits.
            var simulatedSeconds: (@Sendable () -> Double)?
            var simulatedSleep: (@Sendable (Duration) async throws -> Void)?
            if source.simulate {
                simulatedSeconds = { @Sendable in clock.monotonic() }
                simulatedSleep = { @Sendable duration in
                    let (seconds, attoseconds) = duration.components
                    try await clock.sleep(untilMonotonic: clock.monotonic() + Double(seconds) + Double(attoseconds) * 1e-18)
                }
            }
            let meter = try MeterFactory.makeMeter(
                configuration: configuration, source: source, logger: logger,
                simulatedSeconds: simulatedSeconds, wallClock: { clock.wall() }, sleep: simulatedSleep,
                timestamp: { clock.monotonic() })
            let dbPath = db ?? configuration.resolvedDBPath
            printError("database: \(dbPath)\n  look at it with: sqlite3 \(dbPath) 'SELECT time, l1_p, l2_p, l3_p FROM meter_data ORDER BY time DESC LIMIT 10'")

            let notifier = SystemdNotifier()
            let sampler = SamplingService(
                meter: meter, clock: clock,
                configuration: SamplingConfiguration(intervalSeconds: Double(configuration.gatheringIntervalSeconds),
                                                     startOnBoundary: simDuration != nil, stopAfter: simDuration),
                notifier: notifier, logger: logger,
                onStart: { meter in await WiringReport.log(meter: meter, configuration: configuration, logger: logger) })
            let storeLogger = logger
            let storage = StorageService(
                intervals: sampler.intervals, openStore: { try SQLiteReadingStore(path: dbPath, logger: storeLogger) },
                clock: clock, intervalSeconds: Double(configuration.gatheringIntervalSeconds),
                retentionSeconds: Double(configuration.persistenceIntervalSeconds), notifier: notifier, logger: logger)
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    // Storage first: it starts first and stops last, after the sampler's final row.
                    .init(service: storage, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: sampler, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: ConfigReloadService(configuration: configuration, meter: meter, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            // Below systemd's TimeoutStopSec (30 s).
            groupConfiguration.maximumGracefulShutdownDuration = Duration.seconds(20)
            do {
                try await ServiceGroup(configuration: groupConfiguration).run()
            } catch {
                throw CLIError(description: "\(error)")
            }
            notifier.notify("STOPPING=1")
        }
    }
}

/// The wiring checks of `calibrate check`, logged once when the service starts.
enum WiringReport {
    static func log(meter: Meter, configuration: MeterConfiguration, logger: Logger) async {
        do {
            let reading = try await meter.reading(includeEnergy: false, includeTemperature: false)
            var angles: [Double] = []
            for register in [Register.ANGL_VA_VB, .ANGL_VB_VC, .ANGL_VA_VC] {
                angles.append(ZeroCrossingAngle.degrees(UInt16(truncatingIfNeeded: try await meter.driver.read(register)), lineFrequency: reading.freq))
            }
            let input = WiringCheck.Input(voltage: reading.phases.map(\.v), current: reading.phases.map(\.i),
                                          power: reading.phases.map(\.p), voltageAngles: angles, frequency: reading.freq)
            let findings = WiringCheck.findings(input, nominalFrequency: Double(configuration.lineFrequencyHz),
                                                currentRating: configuration.currentSensorRating, expectCurrent: false)
            if findings.isEmpty { logger.info("wiring checks: no findings") }
            for finding in findings { logger.warning("wiring check: \(finding)") }
        } catch {
            logger.warning("wiring checks skipped: the first reading failed", metadata: ["error": "\(error)"])
        }
    }
}
