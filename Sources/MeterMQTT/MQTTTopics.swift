// SPDX-License-Identifier: Apache-2.0
public import MeterConfig

/// Every topic the meter publishes to or listens on, from `[MQTT] base_topic` and `discovery_prefix`.
///
/// | topic | what | QoS | retained |
/// |---|---|---|---|
/// | `<base>/status` | `online`; `offline` as the Last Will and on a clean stop | 1 | yes |
/// | `<base>/state` | the newest reading, as `clemap-edge read --json`, every `publish_interval_sec` | 0 | no |
/// | `<base>/minute` | every row stored in `meter_data`, as the table's columns | 1 | no |
/// | `<base>/energy` | lifetime energy per phase and in total (Wh), after each stored row | 1 | yes |
/// | `<base>/pq_event` | each power-quality event when it ends, as a row of `GET /api/v1/pq/events` | 1 | no |
/// | `<base>/output/a/state`, `…/b/state` | `ON` / `OFF` | 1 | yes |
/// | `<base>/output/a/set`, `…/b/set` | commands `ON` / `OFF`, listened to with `commands = true` | 1 | |
/// | `<discovery_prefix>/<component>/<device id>/<object>/config` | Home Assistant discovery | 1 | yes |
/// | `<discovery_prefix>/status` | Home Assistant's birth message: discovery is sent again on `online` | | |
public struct MQTTTopics: Sendable, Hashable {
    public let base: String
    public let discoveryPrefix: String
    public let deviceID: String

    public init(settings: MQTTSettings) {
        base = settings.baseTopic; discoveryPrefix = settings.discoveryPrefix; deviceID = settings.deviceID
    }

    public var status: String { base + "/status" }
    public var state: String { base + "/state" }
    public var minute: String { base + "/minute" }
    public var energy: String { base + "/energy" }
    public var pqEvent: String { base + "/pq_event" }
    public func outputState(_ output: MQTTOutputs.Output) -> String { base + "/output/\(output.rawValue)/state" }
    public func outputSet(_ output: MQTTOutputs.Output) -> String { base + "/output/\(output.rawValue)/set" }
    /// What the service subscribes to for commands.
    public var outputSetPattern: String { base + "/output/+/set" }
    /// Home Assistant's birth and last will (`online` / `offline`).
    public var homeAssistantStatus: String { discoveryPrefix + "/status" }

    /// `<prefix>/<component>/<device id>/<object>/config`.
    public func discoveryConfig(component: String, object: String) -> String {
        "\(discoveryPrefix)/\(component)/\(deviceID)/\(object)/config"
    }

    /// The output a command topic is for, nil for any other topic.
    public func output(commandTopic topic: String) -> MQTTOutputs.Output? {
        MQTTOutputs.Output.allCases.first { outputSet($0) == topic }
    }
}

/// The board's relay outputs as MQTT switches them: built by the app from the GPIO board (as the HTTP API's are).
public struct MQTTOutputs: Sendable {
    /// Output `a` or `b` (`[GPIO_SERVICE] output_pin_setup`).
    public enum Output: String, Sendable, CaseIterable, Hashable { case a, b }

    /// Switches an output and stores the state (as `clemap-edge output`); throws with a sentence when it cannot.
    public var set: @Sendable (Output, Bool) throws -> Void
    /// The stored state; nil when it cannot be read.
    public var state: @Sendable (Output) -> Bool?
    /// The fitted outputs.
    public var fitted: [Output]

    public init(set: @escaping @Sendable (Output, Bool) throws -> Void, state: @escaping @Sendable (Output) -> Bool?, fitted: [Output]) {
        self.set = set; self.state = state; self.fitted = fitted
    }
}
