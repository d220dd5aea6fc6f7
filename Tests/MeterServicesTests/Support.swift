// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterReadings
import MeterConfig
import MeterGPIO
import MeterApp
import MeterClock
import MeterServices
import MeterStore
import MeterTesting
import S3Client
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The whole service on a virtual clock: simulated chip, driver, meter, sampler, storage, real SQLite file.
struct ServiceRig {
    let clock: VirtualClock
    let scenario: Scenario
    let folder: TemporaryFolder
    var dbPath: String { folder.path + "/meter.db" }

    /// - Parameter folder: where the database goes; a new one by default, an earlier rig's to start again on its file.
    init(scenario: Scenario = .balanced(), clock: VirtualClock, folder: TemporaryFolder = TemporaryFolder()) {
        self.clock = clock
        self.scenario = scenario
        self.folder = folder
    }

    /// Runs the service as `clemap-edge run` builds it (``MeterApp``), without GPIO or signal handlers, until
    /// the sampler stops after `seconds` of service time.
    func run(seconds: Double, startOnBoundary: Bool = true) async throws {
        let app = try makeApp(seconds: seconds, startOnBoundary: startOnBoundary)
        try await app.run()
    }

    func makeApp(seconds: Double, startOnBoundary: Bool = true, logger: Logger = quietLogger,
                 configure: (inout MeterConfiguration) -> Void = { _ in },
                 objectStorage: (@Sendable () throws -> any ObjectStorage)? = nil,
                 gpioBackend: (any GPIOBackend)? = nil) throws -> MeterApp {
        var configuration = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        // Tests run side by side: none may take port 4000 (the API is tested as a process, integration/process).
        configuration.http.enabled = false
        configure(&configuration)
        return try MeterApp.build(configuration: configuration, options: MeterAppOptions(
            source: .simulator(scenario), databasePath: dbPath, clock: clock, stopAfter: seconds,
            startOnBoundary: startOnBoundary, gpio: false, handleSignals: false,
            notifier: SystemdNotifier(environment: [:]), stateDirectory: folder.file("state"), objectStorage: objectStorage,
            gpioBackend: gpioBackend), logger: logger)
    }

    func store() throws -> SQLiteReadingStore {
        try SQLiteReadingStore(path: dbPath, logger: quietLogger)
    }
}

/// Logs nothing below critical.
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

extension VirtualClock {
    /// The service tests' clock: monotonic from 100 s, wall at `wall`.
    convenience init(wall: Double, synchronized: Bool = true, events: [Event] = []) {
        self.init(monotonic: 100, wall: wall, synchronized: synchronized, events: events)
    }
}
