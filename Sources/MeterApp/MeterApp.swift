// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Forecast
import MeterCalibration
public import Logging
public import MeterClock
public import MeterConfig
public import MeterGPIO
import MeterHAL
import MeterHTTP
import MeterModbus
import MeterMQTT
public import MeterReadings
public import MeterServices
public import MeterStore
public import S3Client
public import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// How to build the service beyond `config.ini`: the command line's choices, and the tests' seams.
public struct MeterAppOptions: Sendable {
    /// Spidev or the simulated chip.
    public var source: MeterSource
    /// The database file; nil: `[DATA_GATHERING_MODULE] db_path`, resolved against the config file's folder.
    public var databasePath: String?
    /// The clock everything runs on; nil: the machine's (``SystemClock``).
    public var clock: (any MeterClock)?
    /// Start on the next interval boundary and stop after this many seconds of the clock (`--sim-duration`).
    public var stopAfter: Double?
    /// Start sampling on an interval boundary (whole first row); set with ``stopAfter``.
    public var startOnBoundary: Bool
    /// Drive the board's GPIO (LED, button, outputs, input B); the simulated chip with a simulator source.
    public var gpio: Bool
    /// Stop on SIGTERM/SIGINT and reload the calibration on SIGHUP. Off in tests (no signal handlers).
    public var handleSignals: Bool
    /// systemd's notify socket and watchdog.
    public var notifier: SystemdNotifier
    /// Where rows go that the database did not take at a stop, besides `<db_path>.spill`; nil: systemd's
    /// `$STATE_DIRECTORY`, else `/var/lib/clemap-edge`, or a folder under `$TMPDIR` for a simulator source.
    public var stateDirectory: String?
    /// The exporter's object store; nil: the S3 store `[CLOUD]` names (tests give a bucket in memory).
    public var objectStorage: (@Sendable () throws -> any ObjectStorage)?
    /// The GPIO chip for the board's lines and the chip's RESET pin; nil opens the simulated chip or libgpiod
    /// as `source` says (tests hand a ``SimulatedGPIO`` to read its lines back).
    public var gpioBackend: (any GPIOBackend)?

    public init(source: MeterSource = .spidev(device: nil), databasePath: String? = nil, clock: (any MeterClock)? = nil,
                stopAfter: Double? = nil, startOnBoundary: Bool? = nil, gpio: Bool = true, handleSignals: Bool = true,
                notifier: SystemdNotifier = SystemdNotifier(), stateDirectory: String? = nil,
                objectStorage: (@Sendable () throws -> any ObjectStorage)? = nil, gpioBackend: (any GPIOBackend)? = nil) {
        self.source = source; self.databasePath = databasePath; self.clock = clock; self.stopAfter = stopAfter
        self.startOnBoundary = startOnBoundary ?? (stopAfter != nil)
        self.gpio = gpio; self.handleSignals = handleSignals; self.notifier = notifier; self.stateDirectory = stateDirectory
        self.objectStorage = objectStorage; self.gpioBackend = gpioBackend
    }

    /// The simulated chip, or spidev.
    public var simulate: Bool { if case .simulator = source { true } else { false } }
}

/// The whole service, built in one place from a configuration: `clemap-edge run` and the tests both call
/// ``build(configuration:options:logger:)`` and then ``run()``.
///
/// Data flows one way: chip → ``Meter`` → ``SamplingService`` → ``LiveHub`` (latest reading, health, readings
/// and final rows) → ``StorageService`` and every feature. Each feature is a `Service` in ``group``, behind its
/// `config.ini` section, reading the hub and the store; adding one is a line in ``build(configuration:options:logger:)``.
public struct MeterApp: Sendable {
    /// The firmware's version (`--version`, `/api/v1/status`, `clemap_build_info`).
    public static let version = "0.1.0"
    /// Every service, in start order (storage first, so it stops last, after the sampler's final row).
    public let group: ServiceGroup
    /// The latest reading, health, and the readings and rows broadcasts.
    public let hub: LiveHub
    /// The meter (driver + scale).
    public let meter: Meter
    /// The sampler (its counters).
    public let sampler: SamplingService
    /// The forecaster, nil when `[FORECAST]` is off: where a new model file is offered
    /// (``ForecastService/offer(stagedFile:source:)``).
    public let forecast: ForecastService?
    /// The database file.
    public let databasePath: String
    /// Opens the store the way the service does (with every feature's migrations), for readers.
    public let openStore: @Sendable () throws -> any ReadingStore
    /// The tables each feature owns, applied when the store opens.
    public let storeSchemas: [StoreSchema]
    private let restart: RestartRequest

    /// Features' tables; one entry per feature (forecaster, exporter, …). Registered whether or not the feature is
    /// on, so that the CLI and a later start find the same file.
    public static let featureSchemas: [StoreSchema] = [ForecastTables.schema, ExportTables.schema, MQTTTables.schema, PQTables.schema]

    /// Where a model fetched from `[CLOUD] model_prefix` is served from: `[FORECAST] model` when it names a file,
    /// else `cloud-model.tar.gz` beside the database. Nil when no model is fetched.
    public static func cloudModelPath(configuration: MeterConfiguration, databasePath: String) -> String? {
        guard configuration.cloud.enabled, !configuration.cloud.modelPrefix.isEmpty, configuration.forecast.enabled else { return nil }
        if let path = configuration.forecast.modelPath { return path }
        let folder = databasePath.lastIndex(of: "/").map { String(databasePath[..<$0]) } ?? "."
        return folder + "/cloud-model.tar.gz"
    }

    /// Builds the service. Nothing runs yet: ``run()`` starts the group.
    /// - Throws: ``MeterAppError`` when the meter's device cannot be opened.
    public static func build(configuration: MeterConfiguration, options: MeterAppOptions, logger: Logger) throws(MeterAppError) -> MeterApp {
        let clock = options.clock ?? SystemClock()
        let hub = LiveHub(startedMonotonic: clock.monotonic(), logger: logger)

        // LED and button are for people: at an accelerated clock they keep real time (polling the button every
        // 10 simulated ms would be 60,000 reads a second at 600x).
        let gpioClock: any MeterClock = (clock as? ScaledClock).map { $0.speed > 1 } == true ? SystemClock() : clock
        // One GPIO chip for the board's lines and the ADE9000's RESET pin; the RESET pin is the meter's, so it is
        // driven even when the board's lines are not (`gpio` off).
        let chipResetPin = configuration.gpio.chipResetPin
        let backend = options.gpioBackend ?? (options.gpio || chipResetPin != nil
            ? BoardSource.openBackend(configuration.gpio, simulate: options.simulate, clock: gpioClock, logger: logger) : nil)
        let board = options.gpio ? backend.map { BoardSource.board(configuration.gpio, backend: $0, simulate: options.simulate, logger: logger) } : nil
        let resetLine = chipResetPin.flatMap { BoardSource.chipResetLine(pin: $0, backend: backend, clock: gpioClock, logger: logger) }
        let meter = try options.source.makeMeter(configuration: configuration, clock: clock, logger: logger, resetLine: resetLine)
        // --simulate: the simulated GPIO line is wired to the simulated chip's RESET pin.
        if let resetLine, let gpio = resetLine.backend as? SimulatedGPIO, let chip = meter.driver.transport as? SimulatedADE9000 {
            gpio.wire(offset: resetLine.offset) { high in chip.resetPin(high: high) }
        }
        let databasePath = options.databasePath ?? configuration.resolvedDBPath
        let interval = Double(configuration.gatheringIntervalSeconds)

        let storeSchemas = featureSchemas
        let storeLogger = logger
        let openStore: @Sendable () throws -> any ReadingStore = {
            try SQLiteReadingStore(path: databasePath, logger: storeLogger, features: storeSchemas)
        }

        var readInput: (@Sendable () -> Int?)?
        if let board, configuration.gpio.inputPinSetup.contains("b") {
            readInput = { @Sendable in try? board.readInput(.b) }
        }

        let sampler = SamplingService(
            meter: meter, clock: clock,
            configuration: SamplingConfiguration(intervalSeconds: interval, startOnBoundary: options.startOnBoundary,
                                                 stopAfter: options.stopAfter),
            hub: hub, notifier: options.notifier, logger: logger, readInput: readInput,
            onStart: { meter in await WiringReport.log(meter: meter, configuration: configuration, logger: logger) })
        let stateDirectory = options.stateDirectory ?? defaultStateDirectory(simulate: options.simulate)
        let storage = StorageService(
            hub: hub, openStore: openStore, clock: clock,
            policy: StoragePolicy(retentionSeconds: Double(configuration.persistenceIntervalSeconds),
                                  claims: configuration.cloud.enabled ? [ExportClaim()] : [],
                                  spill: SpillFile(databasePath: databasePath, stateDirectory: stateDirectory)),
            notifier: options.notifier, logger: logger)

        let restart = RestartRequest()
        // Storage first: it starts first and stops last, after the sampler's final row. The features come next,
        // so they too stop after the sampler and see every row; each is one line, behind its config.ini section.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: storage, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        var forecast: ForecastService?
        var forecastSettings = configuration.forecast
        forecastSettings.modelPath = cloudModelPath(configuration: configuration, databasePath: databasePath) ?? forecastSettings.modelPath
        if configuration.forecast.enabled {
            let settings = forecastSettings
            let service = ForecastService(
                settings: settings, hub: hub, calendar: ForecastCalendar(zoneIdentifier: configuration.timezone ?? "UTC"),
                logger: logger, loadModelFile: settings.modelPath == nil ? nil : KerasServedModel.loader)
            forecast = service
            services.append(.init(service: service))
        }
        if configuration.cloud.enabled {
            let cloud = configuration.cloud
            var context = ExportService.Context(retentionSeconds: Double(configuration.persistenceIntervalSeconds),
                                                openStorage: options.objectStorage ?? { try CloudStorage.open(cloud) })
            if let forecast, let destination = cloudModelPath(configuration: configuration, databasePath: databasePath) {
                context.offerModel = { staged, source in await forecast.offer(stagedFile: staged, source: source) }
                context.modelStaging = destination + ".download"
            }
            services.append(.init(service: ExportService(settings: cloud, context: context, hub: hub, clock: clock, logger: logger)))
        }
        if configuration.http.enabled {
            let api = MeterAPI(hub: hub, clock: clock, settings: configuration.http, version: version, databasePath: databasePath,
                               calendar: ForecastCalendar(zoneIdentifier: configuration.timezone ?? "UTC"), forecast: forecastSettings,
                               exporterEnabled: configuration.cloud.enabled, outputs: board.map { BoardSource.outputs($0, pins: configuration.gpio) })
            services.append(.init(service: HTTPService(api: api, logger: logger)))
        }
        if configuration.modbus.enabled {
            services.append(.init(service: ModbusService(settings: configuration.modbus, hub: hub, clock: clock,
                                                         outputs: board.map { BoardSource.modbusOutputs($0, pins: configuration.gpio) },
                                                         logger: logger)))
        }
        if configuration.mqtt.enabled {
            let context = MQTTService.Context(version: version, model: "NIB v\(configuration.nibVersion) (ADE9000)",
                                              outputs: board.map { BoardSource.mqttOutputs($0, pins: configuration.gpio) })
            services.append(.init(service: MQTTService(settings: configuration.mqtt, context: context, hub: hub, logger: logger)))
        }
        if configuration.powerQuality.enabled {
            // event_poll_ms of real time, and on a clock running --sim-speed times faster that many times more clock time.
            // Above 100x the real interval grows with the speed too: each poll holds the meter for a moment, which at
            // 4000x is seconds of simulated time a snapshot may wait, enough to land a sample past a row's boundary.
            let speed = max(1, (clock as? ScaledClock)?.speed ?? 1)
            let realInterval = Double(configuration.powerQuality.eventPollMs) / 1000 * max(1, speed / 100)
            let chip = PQChipMonitor(interval: realInterval * speed, clock: clock) {
                try await meter.powerQuality(watchingCurrents: $0)
            }
            services.append(.init(service: PowerQualityService(settings: configuration.powerQuality,
                                                               lineFrequencyHz: Double(configuration.lineFrequencyHz), hub: hub,
                                                               chip: chip, logger: logger)))
        }
        services.append(.init(service: sampler, successTerminationBehavior: .gracefullyShutdownGroup))
        if options.handleSignals {
            services.append(.init(service: ConfigReloadService(configuration: configuration, meter: meter, logger: logger)))
        }
        if let board {
            services.append(.init(service: BoardService(board: board, clock: gpioClock, health: hub.health, logger: logger,
                                                        requestRestart: { restart.request() })))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: options.handleSignals ? [.sigterm, .sigint] : [], logger: logger)
        // Below systemd's TimeoutStopSec (30 s).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(20)
        let group = ServiceGroup(configuration: groupConfiguration)
        restart.onRequest { Task { await group.triggerGracefulShutdown() } }
        return MeterApp(group: group, hub: hub, meter: meter, sampler: sampler, forecast: forecast, databasePath: databasePath,
                        openStore: openStore, storeSchemas: storeSchemas, restart: restart)
    }

    /// Runs every service until the sampler stops (`stopAfter`), a signal, or a long press of the reset button.
    /// - Throws: a service's error (e.g. ``StorageStopError`` when rows could be neither stored nor spilled).
    public func run() async throws {
        try await group.run()
    }

    /// A long press of the reset button asked for a clean restart (exit ``ResetButton/restartExitCode``).
    public var restartRequested: Bool { restart.requested }

    /// systemd's `$STATE_DIRECTORY`, else `/var/lib/clemap-edge`; a folder under `$TMPDIR` for the simulator.
    static func defaultStateDirectory(simulate: Bool) -> String {
        if simulate { return BoardSource.simulationFolder() }
        if let value = getenv("STATE_DIRECTORY").map({ String(cString: $0) }), !value.isEmpty {
            return String(value.split(separator: ":").first ?? "")
        }
        return "/var/lib/clemap-edge"
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
