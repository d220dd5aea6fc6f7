// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterConfig
import MeterReadings
import MeterStore
import PowerQuality
public import ServiceLifecycle

/// `[POWER_QUALITY]`: events from the live readings into `pq_event`.
///
/// It reads the hub's readings (its own bounded buffer: falling behind loses its own oldest readings, never slows
/// sampling), tracks interruptions, frequency deviations and a swapped phase sequence (``PQEventTracker``), logs each
/// event when it starts, and stores it when it ends, or when the service stops (ended then). Writes are a row per
/// event, rare, through the shared store.
public struct PowerQualityService: Service, CustomStringConvertible {
    private let settings: PowerQualitySettings
    private let lineFrequencyHz: Double
    private let hub: LiveHub
    private let readings: AsyncStream<Reading>
    private let logger: Logger

    public init(settings: PowerQualitySettings, lineFrequencyHz: Double, hub: LiveHub, logger: Logger) {
        self.settings = settings; self.lineFrequencyHz = lineFrequencyHz; self.hub = hub; self.logger = logger
        readings = hub.readings.subscribe("power-quality", buffer: .newest(120))
    }

    public var description: String { "MeterServices.PowerQualityService" }

    public func run() async throws {
        var tracker = PQEventTracker(nominalVoltage: settings.nominalVoltage, nominalFrequency: lineFrequencyHz,
                                     interruptionPercent: settings.interruptionThresholdPercent,
                                     frequencyTolerancePercent: settings.frequencyTolerancePercent)
        // Until the sampler stops (it stops before this service: the stream ends).
        for await reading in readings {
            let swapped = reading.voltageAngles.flatMap { PQObservation.swapped(l2Angle: $0.l2, l3Angle: $0.l3) }
            let observation = PQObservation(timeMs: Int64((reading.time * 1000).rounded()), voltage: reading.phases.map(\.v),
                                            frequency: reading.freq, sequenceSwapped: swapped)
            let (started, finished) = tracker.observe(observation)
            for event in started {
                logger.warning("power quality: \(Self.describe(event)) started", metadata: Self.metadata(event))
            }
            store(finished, stopping: false)
        }
        store(tracker.close(), stopping: true)
        // The stream ends with the sampler, which then shuts the group down: returning first would look like a failure.
        try? await gracefulShutdown()
    }

    private func store(_ events: [PQEvent], stopping: Bool) {
        guard !events.isEmpty else { return }
        for event in events {
            let how = stopping ? "still going on at the stop, stored as ending there, after" : "ended after"
            logger.notice("power quality: \(Self.describe(event)) \(how) \(event.durationMs) ms", metadata: Self.metadata(event))
        }
        guard let store = hub.store.current else {
            logger.error("power quality: no database to store \(events.count) event(s) in", metadata: ["pq.events": "\(events.count)"])
            return
        }
        do {
            try store.write("cannot store power-quality events") { db throws(StoreError) in
                for event in events { try PQTables.insert(event, in: db) }
            }
        } catch {
            logger.error("power quality: \(error)", metadata: ["pq.events": "\(events.count)"])
        }
    }

    static func describe(_ event: PQEvent) -> String {
        switch event.kind {
        case .phaseSequence: "phase sequence reversed (L1 → L3 → L2): two phases are swapped, e.g. L2 and L3"
        case .frequencyDeviation: "frequency deviation"
        default: "\(event.kind.rawValue) on L\(event.phase)"
        }
    }

    static func metadata(_ event: PQEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["pq.kind": "\(event.kind.rawValue)", "pq.phase": "\(event.phase)", "pq.start_ms": "\(event.startMs)"]
        if let extreme = event.extreme { metadata["pq.extreme"] = "\(extreme)" }
        return metadata
    }
}
