// SPDX-License-Identifier: Apache-2.0
import FoundationEssentials
public import MeterConfig

/// Home Assistant's MQTT discovery for the meter: one retained config message per entity, all of one device.
///
/// One message per entity (`<prefix>/<component>/<device id>/<object>/config`), the form every Home Assistant
/// since 0.40 reads (device-based discovery, a single message, needs 2024.11). Each config carries the availability
/// topic (`<base>/status`, `online`/`offline`), so every entity goes unavailable when the meter's Will fires.
///
/// - Live sensors read `<base>/state` (the reading's JSON): per phase power, reactive and apparent power, voltage,
///   current, power factor, voltage THD and current THD (%, no device class: Home Assistant has none for distortion),
///   the frequency and the neutral current, `state_class: measurement`. A `null` (no power factor without load)
///   renders as `None`, which Home Assistant shows as unknown.
/// - Energy sensors read `<base>/energy` (the store's lifetime totals): import and export per phase and in total,
///   `device_class: energy`, `state_class: total_increasing`, kWh (the JSON holds Wh; the template divides). The
///   totals count committed rows only, so a restart or `kill -9` never publishes a smaller value (a smaller value
///   would be taken by Home Assistant as a new meter cycle, home-assistant/core#66725).
/// - Outputs A/B (the fitted ones): `switch` with a command topic when `[MQTT] commands = true`, else a read-only
///   `binary_sensor` (a Home Assistant switch requires a command topic). The component not in use gets an empty
///   retained config, which removes a stale entity.
public struct HomeAssistantDiscovery: Sendable {
    /// A message to publish (retained): a config, or an empty payload that removes one.
    public struct Message: Sendable, Hashable {
        public var topic: String
        public var payload: [UInt8]
    }

    /// One sensor: its object id (the JSON key it reads), name, classes and unit.
    public struct Sensor: Sendable, Hashable {
        public var key: String
        public var name: String
        /// Nil where Home Assistant has no class for the quantity (THD): the unit alone then says what it is.
        public var deviceClass: String?
        public var unit: String?
        public var precision: Int
        /// On `<base>/energy` (lifetime totals, kWh, total_increasing); else on `<base>/state`.
        public var energy: Bool
    }

    /// Every sensor, in the order Home Assistant lists them.
    public static let sensors: [Sensor] = {
        var sensors: [Sensor] = []
        for line in ["l1", "l2", "l3"] {
            let n = line.uppercased()
            sensors += [
                Sensor(key: "\(line)_p", name: "\(n) power", deviceClass: "power", unit: "W", precision: 0, energy: false),
                Sensor(key: "\(line)_q", name: "\(n) reactive power", deviceClass: "reactive_power", unit: "var", precision: 0, energy: false),
                Sensor(key: "\(line)_s", name: "\(n) apparent power", deviceClass: "apparent_power", unit: "VA", precision: 0, energy: false),
                Sensor(key: "\(line)_v", name: "\(n) voltage", deviceClass: "voltage", unit: "V", precision: 1, energy: false),
                Sensor(key: "\(line)_i", name: "\(n) current", deviceClass: "current", unit: "A", precision: 2, energy: false),
                Sensor(key: "\(line)_pf", name: "\(n) power factor", deviceClass: "power_factor", unit: nil, precision: 2, energy: false),
                Sensor(key: "\(line)_vthd", name: "\(n) voltage THD", deviceClass: nil, unit: "%", precision: 1, energy: false),
                Sensor(key: "\(line)_ithd", name: "\(n) current THD", deviceClass: nil, unit: "%", precision: 1, energy: false),
            ]
        }
        sensors.append(Sensor(key: "freq", name: "Frequency", deviceClass: "frequency", unit: "Hz", precision: 2, energy: false))
        // The vector sum of the phase currents (ISUMRMS): what flows back on the neutral conductor.
        sensors.append(Sensor(key: "n_i", name: "Neutral current", deviceClass: "current", unit: "A", precision: 2, energy: false))
        for line in ["l1", "l2", "l3", "total"] {
            let n = line == "total" ? "" : line.uppercased() + " "
            sensors += [
                Sensor(key: "\(line)_wh_imp", name: "\(n)energy import", deviceClass: "energy", unit: "kWh", precision: 3, energy: true),
                Sensor(key: "\(line)_wh_exp", name: "\(n)energy export", deviceClass: "energy", unit: "kWh", precision: 3, energy: true),
            ]
        }
        return sensors.map { s in var s = s; s.name = s.name.prefix(1).uppercased() + s.name.dropFirst(); return s }
    }()

    public let settings: MQTTSettings
    public let topics: MQTTTopics
    /// The firmware's version (`sw_version`).
    public let version: String
    /// The device's model, e.g. `NIB v3 (ADE9000)`.
    public let model: String
    /// The fitted outputs.
    public let outputs: [MQTTOutputs.Output]

    public init(settings: MQTTSettings, version: String, model: String, outputs: [MQTTOutputs.Output]) {
        self.settings = settings; topics = MQTTTopics(settings: settings); self.version = version; self.model = model
        self.outputs = outputs
    }

    /// The retained messages to publish on every connection (and when Home Assistant announces itself): the configs
    /// with `discovery = true`, else empty payloads for every config this device may have published before.
    public func messages() throws -> [Message] {
        guard settings.discovery else { return Self.allObjects.map { Message(topic: topics.discoveryConfig(component: $0.component, object: $0.object), payload: []) } }
        var messages = try Self.sensors.map { sensor in
            Message(topic: topics.discoveryConfig(component: "sensor", object: sensor.key), payload: try MQTTPayloads.json(config(sensor)))
        }
        for output in MQTTOutputs.Output.allCases {
            let object = "output_\(output.rawValue)"
            let used = outputs.contains(output) ? (settings.commands ? "switch" : "binary_sensor") : nil
            for component in ["switch", "binary_sensor"] {
                let topic = topics.discoveryConfig(component: component, object: object)
                messages.append(Message(topic: topic, payload: component == used ? try MQTTPayloads.json(config(output)) : []))
            }
        }
        return messages
    }

    /// Every (component, object) this device may publish a config for.
    static let allObjects: [(component: String, object: String)] =
        sensors.map { ("sensor", $0.key) } + MQTTOutputs.Output.allCases.flatMap { o in [("switch", "output_\(o.rawValue)"), ("binary_sensor", "output_\(o.rawValue)")] }

    // MARK: - The config documents

    /// `device`: what ties the entities into one device of Home Assistant's device registry.
    struct Device: Encodable, Hashable {
        var identifiers: [String]
        var name: String
        var manufacturer: String
        var model: String
        var swVersion: String
        var serialNumber: String?
        enum CodingKeys: String, CodingKey {
            case identifiers, name, manufacturer, model, swVersion = "sw_version", serialNumber = "serial_number"
        }
    }

    /// `origin`: the software that published the config (Home Assistant logs it with discovery problems).
    struct Origin: Encodable, Hashable {
        var name: String
        var swVersion: String
        enum CodingKeys: String, CodingKey { case name, swVersion = "sw_version" }
    }

    /// One entity's config; nil members are left out.
    struct Config: Encodable, Hashable {
        var name: String
        var uniqueID: String
        var stateTopic: String
        var valueTemplate: String?
        var deviceClass: String?
        var stateClass: String?
        var unitOfMeasurement: String?
        var suggestedDisplayPrecision: Int?
        var commandTopic: String?
        var payloadOn: String?
        var payloadOff: String?
        var stateOn: String?
        var stateOff: String?
        var optimistic: Bool?
        var qos: Int?
        var availabilityTopic: String
        var payloadAvailable = "online"
        var payloadNotAvailable = "offline"
        var device: Device
        var origin: Origin

        enum CodingKeys: String, CodingKey {
            case name, uniqueID = "unique_id", stateTopic = "state_topic", valueTemplate = "value_template"
            case deviceClass = "device_class", stateClass = "state_class", unitOfMeasurement = "unit_of_measurement"
            case suggestedDisplayPrecision = "suggested_display_precision", commandTopic = "command_topic"
            case payloadOn = "payload_on", payloadOff = "payload_off", stateOn = "state_on", stateOff = "state_off"
            case optimistic, qos, availabilityTopic = "availability_topic", payloadAvailable = "payload_available"
            case payloadNotAvailable = "payload_not_available", device, origin
        }
    }

    var device: Device {
        Device(identifiers: [settings.deviceID], name: "CLEMAP \(settings.serial ?? settings.clientID)", manufacturer: "CLEMAP",
               model: model, swVersion: version, serialNumber: settings.serial)
    }

    var origin: Origin { Origin(name: "clemap-edge", swVersion: version) }

    func config(_ sensor: Sensor) -> Config {
        Config(name: sensor.name, uniqueID: "\(settings.deviceID)_\(sensor.key)",
               stateTopic: sensor.energy ? topics.energy : topics.state,
               valueTemplate: sensor.energy ? "{{ value_json.\(sensor.key) / 1000 }}" : "{{ value_json.\(sensor.key) }}",
               deviceClass: sensor.deviceClass, stateClass: sensor.energy ? "total_increasing" : "measurement",
               unitOfMeasurement: sensor.unit, suggestedDisplayPrecision: sensor.precision,
               availabilityTopic: topics.status, device: device, origin: origin)
    }

    func config(_ output: MQTTOutputs.Output) -> Config {
        var config = Config(name: "Output \(output.rawValue.uppercased())", uniqueID: "\(settings.deviceID)_output_\(output.rawValue)",
                            stateTopic: topics.outputState(output), payloadOn: "ON", payloadOff: "OFF",
                            availabilityTopic: topics.status, device: device, origin: origin)
        if settings.commands {
            config.commandTopic = topics.outputSet(output)
            config.stateOn = "ON"; config.stateOff = "OFF"
            config.optimistic = false
            config.qos = 1
        }
        return config
    }
}
