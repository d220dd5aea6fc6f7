// SPDX-License-Identifier: Apache-2.0

import ADE9000
import Synchronization
public import Logging
public import MeterClock
public import MeterReadings
public import ServiceLifecycle

/// How the sampler runs.
public struct SamplingConfiguration: Sendable {
    /// Seconds per stored row (`gathering_interval_sec`).
    public var intervalSeconds: Double
    /// Seconds between snapshots.
    public var samplePeriod: Double
    /// Read the die temperature every this many snapshots.
    public var temperatureEvery: Int
    /// After this many snapshots in a row failed, set the chip up again.
    public var reinitialiseAfterFailures: Int
    /// Wait for the next interval boundary before the first snapshot, so every row is whole.
    public var startOnBoundary: Bool
    /// Stop after this many seconds of service monotonic time from the first snapshot (`--sim-duration`);
    /// nil runs until stopped.
    public var stopAfter: Double?

    public init(intervalSeconds: Double = 60, samplePeriod: Double = 1, temperatureEvery: Int = 10,
                reinitialiseAfterFailures: Int = 10, startOnBoundary: Bool = false, stopAfter: Double? = nil) {
        self.intervalSeconds = intervalSeconds; self.samplePeriod = samplePeriod; self.temperatureEvery = temperatureEvery
        self.reinitialiseAfterFailures = reinitialiseAfterFailures; self.startOnBoundary = startOnBoundary
        self.stopAfter = stopAfter
    }
}

/// Samples the meter on a fixed monotonic grid (whole wall seconds), folds the snapshots into interval
/// rows, makes them final (``RowFinalizer``) and publishes readings and rows on the ``LiveHub``.
///
/// Deadlines are absolute (`start + k · period`), so the loop never drifts; a late tick skips the ticks
/// it missed instead of bunching up. Publishing never waits (see ``Broadcast``), so no consumer can slow
/// the grid. A failing snapshot marks the interval and is retried at the next tick; the chip is set up
/// again after repeated failures. On graceful shutdown the running interval is closed as partial, the
/// held rows are finished, and the hub's streams end, so the storage writes the last row and stops.
public final class SamplingService: Service {
    private let meter: Meter
    private let clock: any MeterClock
    private let configuration: SamplingConfiguration
    private let hub: LiveHub
    private let notifier: SystemdNotifier
    private let logger: Logger
    /// Successful snapshots, for the stop log.
    private let samples = Counter()
    private let onStart: (@Sendable (Meter) async -> Void)?
    private let readInput: (@Sendable () -> Int?)?

    /// - Parameters:
    ///   - meter: a meter whose driver runs on `clock` (it stamps the readings).
    ///   - hub: where readings, rows and health go.
    ///   - onStart: runs once the chip is set up, before sampling (the service's wiring checks).
    ///   - readInput: GPIO input B, read when an interval closes (`input_b`); nil without GPIO.
    public init(meter: Meter, clock: any MeterClock, configuration: SamplingConfiguration, hub: LiveHub,
                notifier: SystemdNotifier = SystemdNotifier(environment: [:]), logger: Logger,
                readInput: (@Sendable () -> Int?)? = nil, onStart: (@Sendable (Meter) async -> Void)? = nil) {
        self.meter = meter; self.clock = clock; self.configuration = configuration; self.hub = hub
        self.notifier = notifier; self.logger = logger; self.onStart = onStart; self.readInput = readInput
    }

    /// Snapshots taken so far.
    public var samplesTaken: Int { samples.value }

    public func run() async throws {
        defer { hub.finish() }
        let identity = try await meter.start()
        hub.health.set(.starting, false)
        await onStart?(meter)
        notifier.notify("READY=1\nSTATUS=sampling the ADE9000")
        logger.info("sampling", metadata: [
            "chip.part_id": "0x\(String(identity.partID, radix: 16))",
            "interval.seconds": "\(configuration.intervalSeconds)", "sample.period": "\(configuration.samplePeriod)",
        ])

        let (finalAggregator, finalFinalizer, stopBoundary) = await cancelWhenGracefulShutdown { await self.sample() }
        var aggregator = finalAggregator, finalizer = finalFinalizer
        // Stopped by --sim-duration: an interval begun at the stop boundary lies outside the run asked for.
        if var last = aggregator.finish(), stopBoundary.map({ last.monotonicStart < $0 - 1e-6 }) ?? true {
            last.row.inputB = readInput?()
            for row in finalizer.finalize(last, clock: clock) { hub.publish(row) }
        }
        for row in finalizer.finish(clock: clock) { hub.publish(row) }
        let statistics = await meter.driver.statistics
        logger.info("sampling stopped", metadata: [
            "samples": "\(samplesTaken)", "spi.transactions": "\(statistics.transactions)",
            "spi.transfers": "\(statistics.transfers)", "spi.crc_mismatches": "\(statistics.crcMismatches)",
            "chip.reinitialisations": "\(statistics.reinitialisations)", "pq.polls": "\(statistics.eventPolls)",
            "pq.poll_transactions": "\(statistics.eventPollTransactions)", "pq.poll_transfers": "\(statistics.eventPollTransfers)",
        ])
    }

    /// The sampling loop; returns the aggregator with the running interval and the finalizer with the rows it
    /// holds when cancelled or done, and the monotonic stop boundary when it stopped because
    /// ``SamplingConfiguration/stopAfter`` was reached.
    private func sample() async -> (IntervalAggregator, RowFinalizer, Double?) {
        var aggregator = IntervalAggregator(length: configuration.intervalSeconds, samplePeriod: configuration.samplePeriod)
        var finalizer = RowFinalizer(intervalSeconds: configuration.intervalSeconds, logger: logger)
        let period = configuration.samplePeriod
        // Put ticks on whole wall seconds, so a tick falls right on each interval boundary.
        let wall = clock.wall(), now = clock.monotonic()
        let grid = configuration.startOnBoundary ? configuration.intervalSeconds : period
        var origin = now + ((wall / grid).rounded(.up) * grid - wall)
        // Room for the baseline a few periods ahead, so a late wake-up (at --sim-speed 600 a 2 ms hiccup is
        // over a simulated second) still lands before the boundary.
        let lead = 5 * period
        if configuration.startOnBoundary, origin - lead < now { origin += grid }
        let stopAt = configuration.stopAfter.map { origin + $0 }
        var tick = 0.0, failures = 0, lastWatchdog = -Double.infinity
        if configuration.startOnBoundary {
            // A baseline just before the boundary, so the first interval has all its energy.
            if (try? await clock.sleep(untilMonotonic: origin - lead)) != nil,
               let reading = try? await meter.reading(includeEnergy: true, includeTemperature: false) {
                aggregator.prime(MeterSample(reading, wallSynchronized: clock.isSynchronized()))
            }
        }

        while !Task.isCancelled {
            do { try await clock.sleep(untilMonotonic: origin + tick * period) } catch { break }
            let before = clock.monotonic()
            do {
                // Stamped by the driver at its bus transfer, where the chip's counters were read.
                let reading = try await meter.reading(
                    includeEnergy: true, includeTemperature: Int(tick) % max(1, configuration.temperatureEvery) == 0)
                if failures > 0 {
                    logger.notice("meter answers again", metadata: ["failed.snapshots": "\(failures)"])
                    failures = 0
                }
                samples.increment()
                let statistics = await meter.driver.statistics
                hub.counters.update {
                    $0.snapshots += 1
                    $0.spiCRCErrors = statistics.crcMismatches
                    $0.chipReinitialisations = statistics.reinitialisations
                }
                let synchronized = clock.isSynchronized()
                hub.health.set(.clockUnsynchronised, !synchronized)
                hub.health.set(.meterFault, false)
                hub.health.set(.chipUnresponsive, false)
                hub.publish(reading)
                for var interval in aggregator.add(MeterSample(reading, wallSynchronized: synchronized)) {
                    interval.row.inputB = readInput?()
                    for row in finalizer.finalize(interval, clock: clock) { hub.publish(row) }
                }
                if let every = notifier.watchdogInterval, reading.monotonic - lastWatchdog >= every / 2 {
                    notifier.notify("WATCHDOG=1")
                    lastWatchdog = reading.monotonic
                }
            } catch {
                failures += 1
                hub.counters.update { $0.snapshotFailures += 1 }
                hub.health.set(.meterFault, true)
                aggregator.flagOpenInterval(.missedSamples)
                if failures == 1 {
                    logger.error("snapshot failed; retrying every sample", metadata: ["error": "\(error)"])
                }
                // Wedged, and no RESET pin to pulse: say so once, on the LED and in the log, and keep trying.
                let unresponsive = ADE9000Error.Code.unresponsive ~= error
                if unresponsive, !hub.health.current.contains(.chipUnresponsive) {
                    let fix = (error as? ADE9000Error)?.remedy ?? ADE9000Driver.unresponsiveRemedy
                    logger.error("the ADE9000 stopped answering and the firmware cannot reset it; fix: \(fix)",
                                 metadata: ["error": "\(error)"])
                }
                hub.health.set(.chipUnresponsive, unresponsive)
                if failures % max(1, configuration.reinitialiseAfterFailures) == 0 {
                    logger.warning("setting the metering chip up again", metadata: ["failed.snapshots": "\(failures)"])
                    _ = try? await meter.start()
                }
            }
            if let stopAt, before >= stopAt - 1e-9 { return (aggregator, finalizer, stopAt) }
            // Next tick; skip ticks already past instead of bunching up.
            let elapsed = (clock.monotonic() - origin) / period
            tick = max(tick + 1, elapsed.rounded(.up))
        }
        return (aggregator, finalizer, nil)
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
