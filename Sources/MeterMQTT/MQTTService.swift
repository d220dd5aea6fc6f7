// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterConfig
import MeterReadings
public import MeterServices
import PowerQuality
public import ServiceLifecycle
import Synchronization

/// MQTT in the service, behind `[MQTT]`: the live state every `publish_interval_sec`, every stored minute, the
/// lifetime energy, each power-quality event, availability (`online`, `offline` as the Last Will and on a clean
/// stop), Home Assistant discovery and, with `commands = true`, the outputs. Topics: ``MQTTTopics``.
///
/// It reads the hub only: readings (a small buffer of its own, newest kept) for the state, rows as a signal that a
/// minute is about to be stored, power-quality events as they end; the minutes themselves come from the database
/// (``MinuteOutbox``). The broker connection lives on a thread of its own (``MQTTSession``), so a slow, absent or
/// misbehaving broker never holds up sampling or storage, and no broker error ends the service.
public final class MQTTService: Service {
    /// What MQTT needs beyond `[MQTT]`.
    public struct Context: Sendable {
        /// The firmware's version, for discovery's `sw_version`.
        public var version: String
        /// The device's model in discovery, e.g. `NIB v3 (ADE9000)`.
        public var model: String
        /// The board's outputs; nil without GPIO.
        public var outputs: MQTTOutputs?

        public init(version: String, model: String, outputs: MQTTOutputs?) {
            self.version = version; self.model = model; self.outputs = outputs
        }
    }

    private let settings: MQTTSettings
    private let session: MQTTSession
    private let readings: AsyncStream<Reading>
    private let rows: AsyncStream<MinuteRow>
    private let events: AsyncStream<PQEvent>
    private let logger: Logger

    public init(settings: MQTTSettings, context: Context, hub: LiveHub, logger: Logger) {
        self.settings = settings; self.logger = logger
        let discovery = HomeAssistantDiscovery(settings: settings, version: context.version, model: context.model,
                                               outputs: context.outputs?.fitted ?? [])
        session = MQTTSession(configuration: .init(settings: settings, discovery: discovery, outputs: context.outputs), hub: hub, logger: logger)
        // Readings: only the newest matters (the state is not queued). Rows: a signal each, a day of them.
        readings = hub.readings.subscribe("mqtt", buffer: .newest(4))
        rows = hub.rows.subscribe("mqtt", buffer: .newest(1440))
        // Events: rare, each handed on at once; the buffer only covers a burst (a flickering supply: dips on three
        // phases every few cycles) while this task is not scheduled.
        events = hub.events.subscribe("mqtt", buffer: .newest(256))
    }

    /// Messages handed to the broker so far: live states, minutes, power-quality events, and the rest (status,
    /// discovery, energy, outputs).
    public var published: (state: Int, minutes: Int, events: Int, other: Int) {
        (session.counters.state.load(ordering: .relaxed), session.counters.minutes.load(ordering: .relaxed),
         session.counters.events.load(ordering: .relaxed), session.counters.other.load(ordering: .relaxed))
    }

    /// True while connected to the broker.
    public var isConnected: Bool { session.isConnected }

    public func run() async throws {
        session.start()
        let interval = Double(settings.publishIntervalSeconds)
        let readings = self.readings, rows = self.rows, events = self.events, session = self.session
        // Until the sampler stops (it stops before this service: the streams end), then a last delivery.
        let lastRow = await withTaskGroup(of: Int64?.self) { group in
            group.addTask {
                var last = -Double.infinity, since = 0
                let every = max(1, Int(interval))
                for await reading in readings {
                    // On the meter's clock: a state every `interval` seconds of it (accelerated with --sim-speed).
                    // Readings come once a second, each stamped at its bus transfer (a few ms late, more under
                    // --sim-speed): every `interval`-th reading, or half a second early by the clock after a gap.
                    since += 1
                    guard since >= every || reading.time - last >= interval - 0.5 || reading.time < last else { continue }
                    last = reading.time; since = 0
                    if let payload = try? MQTTPayloads.state(reading) { session.publishState(payload) }
                }
                return nil
            }
            group.addTask {
                var last: Int64?
                for await row in rows {
                    last = row.time
                    session.rowBroadcast(row.time)
                }
                return last
            }
            group.addTask {
                for await event in events {
                    if let payload = try? MQTTPayloads.pqEvent(event) { session.publishEvent(payload) }
                }
                return nil
            }
            var last: Int64?
            for await value in group { last = value ?? last }
            return last
        }
        // The stop's final row is stored by now or in a moment: deliver it, then `offline` and disconnect.
        await session.stop(drainThrough: lastRow, timeout: 3)
    }
}
