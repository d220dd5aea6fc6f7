// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterCore
import MeterServices
import MeterStore
import MeterTesting
import ServiceLifecycleTestKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Service time for tests: it moves only when the service sleeps, jumping straight to the deadline, so a
/// simulated hour takes milliseconds. The wall clock can be made to jump, and to be unsynchronised, at
/// given monotonic moments.
final class VirtualServiceClock: ServiceClock {
    struct Event { var at: Double; var wallJump: Double; var synchronize: Bool? }
    private struct State { var monotonic: Double; var wallOffset: Double; var synchronized: Bool; var events: [Event] }
    private let state: Mutex<State>

    init(wall: Double, synchronized: Bool = true, events: [Event] = []) {
        state = Mutex(State(monotonic: 100, wallOffset: wall - 100, synchronized: synchronized, events: events.sorted { $0.at < $1.at }))
    }

    func monotonic() -> Double { state.withLock { $0.monotonic } }
    func wall() -> Double { state.withLock { $0.monotonic + $0.wallOffset } }
    func isSynchronized() -> Bool { state.withLock { $0.synchronized } }

    func sleep(untilMonotonic deadline: Double) async throws {
        state.withLock { s in
            s.monotonic = max(s.monotonic, deadline)
            while let next = s.events.first, next.at <= s.monotonic {
                s.wallOffset += next.wallJump
                if let sync = next.synchronize { s.synchronized = sync }
                s.events.removeFirst()
            }
        }
        await Task.yield()
        try Task.checkCancellation()
    }

    func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        try await sleep(untilMonotonic: monotonic() + Double(seconds) + Double(attoseconds) * 1e-18)
    }
}

/// The whole service on a virtual clock: simulated chip, driver, meter, sampler, storage, real SQLite file.
struct ServiceRig {
    let clock: VirtualServiceClock
    let chip: SimulatedADE9000
    let folder = TemporaryFolder()
    var dbPath: String { folder.path + "/meter.db" }

    init(scenario: Scenario = .balanced(), clock: VirtualServiceClock) {
        self.clock = clock
        let c = clock
        chip = SimulatedADE9000(scenario: scenario, wall: { c.wall() }, now: { c.monotonic() })
    }

    /// Runs sampler and storage until the sampler stops after `seconds` of service time.
    func run(seconds: Double, startOnBoundary: Bool = true) async throws {
        let configuration = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let c = clock
        let driver = ADE9000Driver(transport: chip, setup: ADE9000Setup(calibration: configuration.calibration), logger: logger,
                                   sleep: { try await c.sleep(for: $0) }, timestamp: { c.monotonic() })
        let meter = Meter(driver: driver, scales: configuration.scales, logger: logger, wallClock: { c.wall() })
        let sampler = SamplingService(meter: meter, clock: clock,
                                      configuration: SamplingConfiguration(startOnBoundary: startOnBoundary, stopAfter: seconds),
                                      logger: logger)
        let path = dbPath, storeLogger = logger
        let storage = StorageService(intervals: sampler.intervals, openStore: { try SQLiteReadingStore(path: path, logger: storeLogger) },
                                     clock: clock, intervalSeconds: 60, retentionSeconds: 14 * 86_400, logger: logger)
        // As in the service group: the sampler stops by itself, then storage is told to shut down.
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await storage.run() }
                try await sampler.run()
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    func store() throws -> SQLiteReadingStore {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try SQLiteReadingStore(path: dbPath, logger: logger)
    }
}
