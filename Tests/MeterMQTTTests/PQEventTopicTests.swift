// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
@testable import MeterMQTT
import MeterServices
import PowerQuality
import Testing

/// `<base>/pq_event` against a real mosquitto on loopback: each event the power-quality service publishes on the hub
/// reaches the broker as the JSON `GET /api/v1/pq/events` answers, and is not retained.
@Suite(.serialized) struct PQEventTopicTests {
    static let dip = PQEvent(startMs: 1_796_545_815_250, endMs: 1_796_545_815_370, phase: 2, kind: .dip, extreme: 161.24)
    static let sequence = PQEvent(startMs: 1_796_545_700_000, endMs: 1_796_545_760_000, phase: 0, kind: .phaseSequence, extreme: nil)

    @Test func payloadIsTheEventsJSONWithSortedKeys() throws {
        let text = String(decoding: try MQTTPayloads.pqEvent(Self.dip), as: UTF8.self)
        #expect(text == #"{"duration_ms":120,"end_ms":1796545815370,"extreme":161.24,"kind":"dip","phase":2,"start_ms":1796545815250}"#)
        let sequence = try object(try MQTTPayloads.pqEvent(Self.sequence))
        #expect(sequence["extreme"] is NSNull && sequence["kind"] as? String == "phase-sequence" && sequence["phase"] as? Int == 0)
        #expect(MQTTTopics(settings: MQTTSettings(enabled: true, baseTopic: "home/meter")).pqEvent == "home/meter/pq_event")
    }

    @Test func anEventOnTheHubArrivesOnPQEventAndIsNotRetained() async throws {
        let broker = try MosquittoBroker(logPackets: true)
        let settings = MQTTSettings(enabled: true, port: broker.port, discovery: false, serial: "SE05000551")
        let topic = "clemap/SE05000551/pq_event"
        let subscriber = try await MQTTSubscriber(port: broker.port, pattern: "clemap/SE05000551/#")
        let hub = LiveHub(logger: quietLogger)
        let service = MQTTService(settings: settings, context: .init(version: "0.1.0", model: "NIB v3 (ADE9000)", outputs: nil),
                                  hub: hub, logger: quietLogger)
        let running = Task { try await service.run() }

        // `online` on <base>/status: the meter is connected and the subscription is in place.
        let online = try await subscriber.wait { $0.topic == "clemap/SE05000551/status" && $0.text == "online" }
        try #require(online != nil, "the meter never said online: \(broker.log.suffix(800))")
        hub.events.publish(Self.dip)
        hub.events.publish(Self.sequence)
        _ = try await subscriber.wait { $0.topic == topic && $0.payload == (try? MQTTPayloads.pqEvent(Self.sequence)) }

        let events = subscriber.messages.filter { $0.topic == topic }
        #expect(events.map(\.payload) == [try MQTTPayloads.pqEvent(Self.dip), try MQTTPayloads.pqEvent(Self.sequence)],
                "\(events.map(\.text))")
        let dip = try object(try #require(events.first).payload)
        #expect(dip["start_ms"] as? Int64 == 1_796_545_815_250 && dip["end_ms"] as? Int64 == 1_796_545_815_370)
        #expect(dip["duration_ms"] as? Int == 120 && dip["phase"] as? Int == 2 && dip["kind"] as? String == "dip")
        #expect(dip["extreme"] as? Double == 161.24)
        #expect(try JSONDecoder().decode(PQEvent.self, from: Data(events[1].payload)) == Self.sequence)
        // As the broker received them: QoS 1, retain flag clear (`q1, r0`), one PUBLISH per event.
        let received = broker.log.split(separator: "\n").filter {
            $0.contains("Received PUBLISH from clemap-edge-SE05000551") && $0.contains("'\(topic)'")
        }
        #expect(received.count == 2 && received.allSatisfy { $0.contains("q1, r0") }, "\(received)")

        // Not retained: a client that subscribes now gets nothing on the topic (a retained message would come at once),
        // while the retained status comes, which shows its subscription is in place.
        let late = try await MQTTSubscriber(port: broker.port, pattern: "clemap/SE05000551/#")
        #expect(try await late.wait(timeout: 3) { $0.topic == "clemap/SE05000551/status" } != nil)
        _ = try await late.wait(timeout: 0.5) { _ in false }
        #expect(!late.messages.contains { $0.topic == topic }, "\(late.messages.map(\.topic))")

        hub.finish()
        try await running.value
        #expect(service.published.events == 2)
        // Up to the meter's clean stop (ARC may end a value's life at its last use).
        withExtendedLifetime(broker) {}
    }

    @Test func anEventWhileTheBrokerIsAwayIsDeliveredOnceItIsBack() async throws {
        // The port is free: nothing listens until the broker starts there, after the event.
        var broker: MosquittoBroker? = try MosquittoBroker()
        let port = try #require(broker?.port)
        broker = nil
        let hub = LiveHub(logger: quietLogger)
        let settings = MQTTSettings(enabled: true, port: port, discovery: false, serial: "SE05000552")
        let service = MQTTService(settings: settings, context: .init(version: "0.1.0", model: "m", outputs: nil), hub: hub, logger: quietLogger)
        let running = Task { try await service.run() }
        // The connection's thread has its client (the first attempt, refused, is behind it).
        try await Task.sleep(for: .milliseconds(200))
        #expect(!service.isConnected)
        hub.events.publish(Self.dip)

        broker = try MosquittoBroker(port: port)
        // A subscriber before the meter's next attempt (1 s ± 20 % after the first): the broker keeps no message for a
        // client that was not subscribed when it came.
        let subscriber = try await MQTTSubscriber(port: port, pattern: "clemap/SE05000552/#")
        let event = try await subscriber.wait(timeout: 15) { $0.topic == "clemap/SE05000552/pq_event" }
        #expect(event?.payload == (try MQTTPayloads.pqEvent(Self.dip)), "\(broker?.log.suffix(800) ?? "")")
        hub.finish()
        try await running.value
        withExtendedLifetime(broker) {}
    }
}
