// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterConfig
import MeterReadings
import MeterStore
import PowerQuality
public import ServiceLifecycle

/// `[POWER_QUALITY]`: events from the chip's half-cycle engine and the live readings into `pq_event`.
///
/// Two sources, one event each: the chip's dip, swell, overcurrent and zero-crossing detectors, polled every
/// `event_poll_ms` (``PQChipMonitor``, ``PQChipEventDecoder``: dips, swells, interruptions, overcurrent to the half
/// cycle), and the hub's readings (its own bounded buffer: falling behind loses its own oldest readings, never slows
/// sampling) for frequency deviations and a swapped phase sequence (``PQEventTracker``; interruptions too when there is
/// no chip monitor). Each event is logged when it starts and stored when it ends, or when the service stops (ended
/// then). Writes are a row per event, rare, through the shared store.
public struct PowerQualityService: Service, CustomStringConvertible {
    private let settings: PowerQualitySettings
    private let lineFrequencyHz: Double
    private let hub: LiveHub
    private let readings: AsyncStream<Reading>
    private let logger: Logger
    private let chip: PQChipMonitor?

    /// - Parameter chip: polls the chip's detectors; nil: events from the readings only.
    public init(settings: PowerQualitySettings, lineFrequencyHz: Double, hub: LiveHub, chip: PQChipMonitor? = nil, logger: Logger) {
        self.settings = settings; self.lineFrequencyHz = lineFrequencyHz; self.hub = hub; self.chip = chip; self.logger = logger
        readings = hub.readings.subscribe("power-quality", buffer: .newest(120))
    }

    public var description: String { "MeterServices.PowerQualityService" }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if let chip {
                group.addTask {
                    let decoder = PQChipEventDecoder(
                        nominalVoltage: settings.nominalVoltage, interruptionPercent: settings.interruptionThresholdPercent,
                        dipThresholdPercent: settings.dipThresholdPercent, swellThresholdPercent: settings.swellThresholdPercent,
                        dipHalfCycles: settings.dipHalfCycles, swellHalfCycles: settings.swellHalfCycles,
                        overcurrentAmperes: settings.overcurrentAmperes, lineFrequency: lineFrequencyHz)
                    let open = await chip.run(decoder: decoder, logger: logger) { started, finished in
                        self.log(started)
                        self.store(finished, stopping: false)
                    }
                    self.store(open, stopping: true)
                }
            }
            await followReadings()
            // The sampler stopped: so does the chip's monitor (its last poll ends what is still open).
            group.cancelAll()
        }
        // The stream ends with the sampler, which then shuts the group down: returning first would look like a failure.
        try? await gracefulShutdown()
    }

    private func followReadings() async {
        var tracker = PQEventTracker(nominalVoltage: settings.nominalVoltage, nominalFrequency: lineFrequencyHz,
                                     interruptionPercent: settings.interruptionThresholdPercent,
                                     frequencyTolerancePercent: settings.frequencyTolerancePercent, tracksInterruptions: chip == nil)
        // Until the sampler stops (it stops before this service: the stream ends).
        for await reading in readings {
            let swapped = reading.voltageAngles.flatMap { PQObservation.swapped(l2Angle: $0.l2, l3Angle: $0.l3) }
            let observation = PQObservation(timeMs: Int64((reading.time * 1000).rounded()), voltage: reading.phases.map(\.v),
                                            frequency: reading.freq, sequenceSwapped: swapped)
            let (started, finished) = tracker.observe(observation)
            log(started)
            store(finished, stopping: false)
        }
        store(tracker.close(), stopping: true)
    }

    private func log(_ started: [PQEvent]) {
        for event in started {
            // A dip's kind is settled at its end (below interruption_threshold_pct it is an interruption): say how deep so far.
            let sofar = Self.extremeText(event).isEmpty ? "" : Self.extremeText(event) + " so far"
            logger.warning("power quality: \(Self.describe(event)) started\(sofar)", metadata: Self.metadata(event))
        }
    }

    private func store(_ events: [PQEvent], stopping: Bool) {
        guard !events.isEmpty else { return }
        for event in events {
            let how = stopping ? "still going on at the stop, stored as ending there, after" : "ended after"
            var metadata = Self.metadata(event)
            metadata["pq.duration_ms"] = "\(event.durationMs)"
            logger.notice("power quality: \(Self.describe(event)) \(how) \(event.durationMs) ms\(Self.extremeText(event))", metadata: metadata)
        }
        defer { for event in events { hub.events.publish(event) } }
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

    /// ", lowest 161.2 V" and the like.
    static func extremeText(_ event: PQEvent) -> String {
        guard let extreme = event.extreme else { return "" }
        let value = (extreme * 10).rounded() / 10
        switch event.kind {
        case .dip, .interruption: return ", lowest \(value) V"
        case .swell: return ", highest \(value) V"
        case .overcurrent: return ", highest \(value) A"
        case .frequencyDeviation: return ", furthest \((extreme * 1000).rounded() / 1000) Hz"
        case .phaseSequence: return ""
        }
    }

    static func metadata(_ event: PQEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["pq.kind": "\(event.kind.rawValue)", "pq.phase": "\(event.phase)", "pq.start_ms": "\(event.startMs)"]
        if let extreme = event.extreme { metadata["pq.extreme"] = "\(extreme)" }
        return metadata
    }
}
