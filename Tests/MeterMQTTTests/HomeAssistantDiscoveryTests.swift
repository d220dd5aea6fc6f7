// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterMQTT
import MeterReadings
import MeterTesting
import Testing

/// Home Assistant discovery: one device, every sensor with the keys Home Assistant needs, energy as
/// total_increasing kWh from the lifetime totals, outputs as switches only with commands.
@Suite struct HomeAssistantDiscoveryTests {
    let settings = MQTTSettings(enabled: true, serial: "SE05000551")

    func configs(_ settings: MQTTSettings, outputs: [MQTTOutputs.Output] = [.a, .b]) throws -> [String: [String: Any]] {
        var configs: [String: [String: Any]] = [:]
        for message in try HomeAssistantDiscovery(settings: settings, version: "0.1.0", model: "NIB v3 (ADE9000)", outputs: outputs).messages()
        where !message.payload.isEmpty {
            configs[message.topic] = try object(message.payload)
        }
        return configs
    }

    @Test func everySensorCarriesWhatHomeAssistantNeeds() throws {
        let configs = try configs(settings)
        var expected: [(key: String, deviceClass: String?, unit: String?, topic: String)] = []
        for line in ["l1", "l2", "l3"] {
            expected += [("\(line)_p", "power", "W", "state"), ("\(line)_q", "reactive_power", "var", "state"),
                         ("\(line)_s", "apparent_power", "VA", "state"), ("\(line)_v", "voltage", "V", "state"),
                         ("\(line)_i", "current", "A", "state"), ("\(line)_pf", "power_factor", nil, "state"),
                         ("\(line)_vthd", nil, "%", "state"), ("\(line)_ithd", nil, "%", "state")]
        }
        expected.append(("freq", "frequency", "Hz", "state"))
        expected.append(("n_i", "current", "A", "state"))
        for line in ["l1", "l2", "l3", "total"] {
            expected += [("\(line)_wh_imp", "energy", "kWh", "energy"), ("\(line)_wh_exp", "energy", "kWh", "energy")]
        }
        #expect(HomeAssistantDiscovery.sensors.map(\.key) == expected.map(\.key))
        var names = Set<String>()
        for sensor in expected {
            let topic = "homeassistant/sensor/clemap_SE05000551/\(sensor.key)/config"
            let c = try #require(configs[topic], "\(topic)")
            let name = try #require(c["name"] as? String)
            names.insert(name)
            #expect(c["unique_id"] as? String == "clemap_SE05000551_\(sensor.key)")
            #expect(c["state_topic"] as? String == "clemap/SE05000551/\(sensor.topic)")
            #expect(c["device_class"] as? String == sensor.deviceClass)
            #expect(c["state_class"] as? String == (sensor.topic == "energy" ? "total_increasing" : "measurement"))
            #expect(c["unit_of_measurement"] as? String == sensor.unit)
            #expect(c["value_template"] as? String == (sensor.topic == "energy" ? "{{ value_json.\(sensor.key) / 1000 }}" : "{{ value_json.\(sensor.key) }}"))
            #expect(c["availability_topic"] as? String == "clemap/SE05000551/status")
            #expect(c["payload_available"] as? String == "online" && c["payload_not_available"] as? String == "offline")
            #expect(c["suggested_display_precision"] is Int)
            let device = try #require(c["device"] as? [String: Any])
            #expect(device["identifiers"] as? [String] == ["clemap_SE05000551"])
            #expect(device["name"] as? String == "CLEMAP SE05000551" && device["manufacturer"] as? String == "CLEMAP")
            #expect(device["model"] as? String == "NIB v3 (ADE9000)" && device["sw_version"] as? String == "0.1.0")
            #expect(device["serial_number"] as? String == "SE05000551")
            #expect((c["origin"] as? [String: Any])?["name"] as? String == "clemap-edge")
            // A sensor has no command topic, and nothing is sent as null.
            #expect(c["command_topic"] == nil && !c.values.contains { $0 is NSNull })
        }
        #expect(names.count == expected.count, "names are distinct")
        #expect(configs["homeassistant/sensor/clemap_SE05000551/l1_p/config"]?["name"] as? String == "L1 power")
        #expect(configs["homeassistant/sensor/clemap_SE05000551/total_wh_imp/config"]?["name"] as? String == "Energy import")
    }

    @Test func distortionAndTheNeutralCurrentReadKeysTheStateCarries() throws {
        let configs = try configs(settings)
        for line in ["l1", "l2", "l3"] {
            for (quantity, name) in [("vthd", "voltage THD"), ("ithd", "current THD")] {
                let key = "\(line)_\(quantity)"
                let c = try #require(configs["homeassistant/sensor/clemap_SE05000551/\(key)/config"], "\(key)")
                #expect(c["name"] as? String == "\(line.uppercased()) \(name)")
                #expect(c["unit_of_measurement"] as? String == "%" && c["state_class"] as? String == "measurement")
                // Home Assistant has no device class for distortion; a wrong one (power_factor takes %) would mislabel it.
                #expect(c["device_class"] == nil)
                #expect(c["state_topic"] as? String == "clemap/SE05000551/state")
                #expect(c["value_template"] as? String == "{{ value_json.\(key) }}")
                #expect(c["unique_id"] as? String == "clemap_SE05000551_\(key)" && c["suggested_display_precision"] as? Int == 1)
            }
        }
        let neutral = try #require(configs["homeassistant/sensor/clemap_SE05000551/n_i/config"])
        #expect(neutral["name"] as? String == "Neutral current" && neutral["device_class"] as? String == "current")
        #expect(neutral["unit_of_measurement"] as? String == "A" && neutral["state_topic"] as? String == "clemap/SE05000551/state")
        #expect(neutral["value_template"] as? String == "{{ value_json.n_i }}" && neutral["state_class"] as? String == "measurement")

        // Every live sensor reads a key of the state the meter publishes (a reading as the driver makes it: with the
        // neutral current and the harmonics, which every snapshot reads).
        let phase = Reading.PhaseValues(v: 230, i: 5, p: 1100, q: 200, s: 1150, pf: 0.96)
        let reading = Reading(time: 1_796_550_214, freq: 50, phases: [phase, phase, phase], neutralCurrent: 0.42,
                              harmonics: Array(repeating: .init(vthd: 2.4, ithd: 31.5, vfund: 229.9, ifund: 4.8), count: 3),
                              voltageAngles: .init(l2: 120, l3: 240))
        let state = try object(try MQTTPayloads.state(reading))
        for sensor in HomeAssistantDiscovery.sensors where !sensor.energy {
            #expect(state[sensor.key] is NSNumber, "\(sensor.key) is not in <base>/state")
        }
        #expect(state["l2_vthd"] as? Double == 2.4 && state["n_i"] as? Double == 0.42)
    }

    @Test func outputsAreSwitchesWithCommandsAndReadOnlyWithout() throws {
        var commands = settings
        commands.commands = true
        let messages = try HomeAssistantDiscovery(settings: commands, version: "0.1.0", model: "m", outputs: [.a]).messages()
        let byTopic = Dictionary(uniqueKeysWithValues: messages.map { ($0.topic, $0.payload) })
        let switchA = try object(try #require(byTopic["homeassistant/switch/clemap_SE05000551/output_a/config"]))
        #expect(switchA["command_topic"] as? String == "clemap/SE05000551/output/a/set")
        #expect(switchA["state_topic"] as? String == "clemap/SE05000551/output/a/state")
        #expect(switchA["payload_on"] as? String == "ON" && switchA["payload_off"] as? String == "OFF")
        #expect(switchA["state_on"] as? String == "ON" && switchA["state_off"] as? String == "OFF")
        #expect(switchA["unique_id"] as? String == "clemap_SE05000551_output_a" && switchA["optimistic"] as? Bool == false)
        #expect(switchA["availability_topic"] as? String == "clemap/SE05000551/status")
        // The component not used, and the output not fitted, are removed (an empty retained config).
        #expect(byTopic["homeassistant/binary_sensor/clemap_SE05000551/output_a/config"] == [])
        #expect(byTopic["homeassistant/switch/clemap_SE05000551/output_b/config"] == [])
        #expect(byTopic["homeassistant/binary_sensor/clemap_SE05000551/output_b/config"] == [])

        let readOnly = try configs(settings, outputs: [.a, .b])
        for output in ["a", "b"] {
            let sensor = try #require(readOnly["homeassistant/binary_sensor/clemap_SE05000551/output_\(output)/config"])
            #expect(sensor["command_topic"] == nil && sensor["state_topic"] as? String == "clemap/SE05000551/output/\(output)/state")
            #expect(sensor["payload_on"] as? String == "ON" && sensor["payload_off"] as? String == "OFF")
            #expect(readOnly["homeassistant/switch/clemap_SE05000551/output_\(output)/config"] == nil)
        }
    }

    @Test func discoveryOffRemovesEveryConfigThisDeviceMayHavePublished() throws {
        var off = settings
        off.discovery = false
        let messages = try HomeAssistantDiscovery(settings: off, version: "0.1.0", model: "m", outputs: [.a, .b]).messages()
        #expect(messages.count == HomeAssistantDiscovery.sensors.count + 4)
        #expect(messages.allSatisfy { $0.payload.isEmpty && $0.topic.hasPrefix("homeassistant/") && $0.topic.hasSuffix("/config") })
    }

    @Test func topicsFollowTheSettings() throws {
        let custom = MQTTSettings(enabled: true, baseTopic: "home/meter", discoveryPrefix: "ha", serial: "X1")
        let topics = MQTTTopics(settings: custom)
        #expect(topics.state == "home/meter/state" && topics.minute == "home/meter/minute" && topics.energy == "home/meter/energy")
        #expect(topics.status == "home/meter/status" && topics.homeAssistantStatus == "ha/status")
        #expect(topics.outputSetPattern == "home/meter/output/+/set")
        #expect(topics.output(commandTopic: "home/meter/output/b/set") == .b && topics.output(commandTopic: "home/meter/output/c/set") == nil)
        #expect(topics.discoveryConfig(component: "sensor", object: "l1_p") == "ha/sensor/clemap_X1/l1_p/config")
        let configs = try configs(custom)
        #expect(configs["ha/sensor/clemap_X1/freq/config"]?["state_topic"] as? String == "home/meter/state")
    }
}

/// The README's example config is what the builder publishes (a doc that drifted from the code would mislead).
@Suite struct DiscoveryReadmeTests {
    @Test func theReadmeExampleIsTheBuildersOutput() throws {
        let readme = try String(contentsOfFile: Fixtures.repositoryRoot + "/README.md", encoding: .utf8)
        let marker = "homeassistant/sensor/clemap_SE05000551/total_wh_imp/config`:\n\n```json\n"
        let start = try #require(readme.range(of: marker)).upperBound
        let end = try #require(readme.range(of: "\n```", range: start..<readme.endIndex)).lowerBound
        let documented = try #require(JSONSerialization.jsonObject(with: Data(readme[start..<end].utf8)) as? NSDictionary)
        let discovery = HomeAssistantDiscovery(settings: MQTTSettings(enabled: true, serial: "SE05000551"), version: "0.1.0",
                                               model: "NIB v3 (ADE9000)", outputs: [.a, .b])
        let message = try #require(try discovery.messages().first { $0.topic == "homeassistant/sensor/clemap_SE05000551/total_wh_imp/config" })
        let built = try #require(JSONSerialization.jsonObject(with: Data(message.payload)) as? NSDictionary)
        #expect(documented == built)
    }
}
