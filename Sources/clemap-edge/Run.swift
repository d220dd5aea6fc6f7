// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Logging
import ADE9000
import MeterCalibration
import MeterCore
import MeterGPIO
import Synchronization
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
            let health = ServiceHealth()
            // LED and button are for people: at --sim-speed N they keep real time (polling the button every
            // 10 simulated ms would be 60,000 reads a second at 600x).
            let gpioClock: any GPIOClock = (simSpeed ?? 1) > 1 ? SystemGPIOClock() : ServiceGPIOClock(clock)
            let board = Self.openBoard(configuration: configuration, simulate: source.simulate, clock: gpioClock, logger: logger)
            var readInput: (@Sendable () -> Int?)?
            if let board, configuration.gpio.inputPinSetup.contains("b") {
                readInput = { @Sendable in try? board.readInput(.b) }
            }
            let sampler = SamplingService(
                meter: meter, clock: clock,
                configuration: SamplingConfiguration(intervalSeconds: Double(configuration.gatheringIntervalSeconds),
                                                     startOnBoundary: simDuration != nil, stopAfter: simDuration),
                notifier: notifier, logger: logger, health: health, readInput: readInput,
                onStart: { meter in await WiringReport.log(meter: meter, configuration: configuration, logger: logger) })
            let storeLogger = logger
            let storage = StorageService(
                intervals: sampler.intervals, openStore: { try SQLiteReadingStore(path: dbPath, logger: storeLogger) },
                clock: clock, intervalSeconds: Double(configuration.gatheringIntervalSeconds),
                retentionSeconds: Double(configuration.persistenceIntervalSeconds), notifier: notifier, logger: logger,
                health: health)
            let restart = RestartRequest()
            var boardServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
            if let board {
                boardServices.append(.init(service: BoardService(board: board, clock: gpioClock, health: health, logger: logger,
                                                                 requestRestart: { restart.request() })))
            }
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    // Storage first: it starts first and stops last, after the sampler's final row.
                    .init(service: storage, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: sampler, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: ConfigReloadService(configuration: configuration, meter: meter, logger: logger)),
                ] + boardServices,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            // Below systemd's TimeoutStopSec (30 s).
            groupConfiguration.maximumGracefulShutdownDuration = Duration.seconds(20)
            let group = ServiceGroup(configuration: groupConfiguration)
            restart.onRequest { Task { await group.triggerGracefulShutdown() } }
            do {
                try await group.run()
            } catch {
                throw CLIError(description: "\(error)")
            }
            notifier.notify("STOPPING=1")
            if restart.requested {
                // Everything is written and closed; systemd (Restart=on-failure) starts the service again.
                throw CLIError(description: "restarting on the reset button's long press", exitCode: ResetButton.restartExitCode)
            }
        }

        /// The board's GPIO (simulated with --simulate). A missing chip does not stop metering: the
        /// service runs without LED, button and outputs and says so once.
        static func openBoard(configuration: MeterConfiguration, simulate: Bool, clock: any GPIOClock, logger: Logger) -> BoardIO? {
            do {
                let backend = try GPIOFactory.open(configuration.gpio, simulate: simulate, clock: clock)
                return BoardIO(configuration: configuration.gpio, backend: backend,
                               stateFile: GPIOFactory.stateFile(path: nil, simulate: simulate), logger: logger)
            } catch {
                logger.error("GPIO unavailable; metering continues without LED, button and outputs", metadata: ["error": "\(error)"])
                return nil
            }
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

/// A long press of the reset button asks for a clean restart: the group shuts down gracefully, then the
/// process exits with the restart code.
final class RestartRequest: Sendable {
    private let state = Mutex<(requested: Bool, action: (@Sendable () -> Void)?)>((false, nil))
    func onRequest(_ action: @escaping @Sendable () -> Void) { state.withLock { $0.action = action } }
    func request() {
        let action = state.withLock { s -> (@Sendable () -> Void)? in s.requested = true; return s.action }
        action?()
    }
    var requested: Bool { state.withLock { $0.requested } }
}
