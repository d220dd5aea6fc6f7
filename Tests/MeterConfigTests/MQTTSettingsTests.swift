// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[MQTT]`: off by default, defaults from `[INFO] hw_serial`, every key read, bad values refused naming the line and
/// the fix, and the password in no message.
@Suite struct MQTTSettingsTests {
    /// The shipped file with `[MQTT]` replaced by `lines` (none: the section removed), and `[INFO] hw_serial` set
    /// (nil: the line removed).
    func configuration(_ lines: [String]?, serial: String? = "SE05000551", source: String = "/etc/clemap-edge/config.ini") throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        let text = Fixtures.config(shipped, replacingSection: "MQTT", with: lines, serial: .some(serial))
        return try MeterConfiguration(parsing: text, source: source)
    }

    func errors(_ lines: [String], serial: String? = "SE05000551") -> String {
        do {
            _ = try configuration(lines, serial: serial)
            Issue.record("accepted: \(lines)")
            return ""
        } catch {
            return error.description
        }
    }

    @Test func theShippedFileAndAnAbsentSectionLeaveMQTTOffWithDocumentedDefaults() throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        #expect(shipped.mqtt == MQTTSettings(serial: "SIMULATED"))
        #expect(shipped.unknownKeys.isEmpty)
        #expect(shipped.summary().contains("mqtt: off"))
        let absent = try configuration(nil).mqtt
        #expect(absent == MQTTSettings(serial: "SE05000551"))
        #expect(absent.enabled == false && absent.host == "127.0.0.1" && absent.port == 1883 && !absent.tls)
        #expect(absent.clientID == "clemap-edge-SE05000551" && absent.baseTopic == "clemap/SE05000551")
        #expect(absent.publishIntervalSeconds == 10 && absent.discovery && absent.discoveryPrefix == "homeassistant" && !absent.commands)
        #expect(absent.deviceID == "clemap_SE05000551")
    }

    @Test func everyKeyIsRead() throws {
        let settings = try configuration([
            "enabled = true", "host = broker.lan", "port = 1884", "tls = false", "username = meter", "password = s3cr3t pass",
            "client_id = meter-7", "base_topic = home/energy/meter7", "publish_interval_sec = 1", "discovery = false",
            "discovery_prefix = ha", "commands = true",
        ]).mqtt
        #expect(settings == MQTTSettings(enabled: true, host: "broker.lan", port: 1884, username: "meter", password: "s3cr3t pass",
                                         clientID: "meter-7", baseTopic: "home/energy/meter7", publishIntervalSeconds: 1,
                                         discovery: false, discoveryPrefix: "ha", commands: true, serial: "SE05000551"))
        let summary = try configuration(["enabled = true", "username = meter", "password = s3cr3t"]).summary().joined(separator: "\n")
        #expect(summary.contains("mqtt: on, mqtt://127.0.0.1:1883 as clemap-edge-SE05000551, user meter with a password, topics clemap/SE05000551/…"))
        #expect(!summary.contains("s3cr3t"))
    }

    @Test func tlsMovesTheDefaultPortAndTakesACAFileBesideTheConfig() throws {
        #expect(try configuration(["tls = true"]).mqtt.port == 8883)
        #expect(try configuration(["tls = true", "port ="]).mqtt.port == 8883)
        #expect(try configuration(["tls = true", "port = 18883"]).mqtt.port == 18883)
        let folder = TemporaryFolder()
        let ca = folder.path + "/ca.pem"
        _ = FileManager.default.createFile(atPath: ca, contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        let settings = try configuration(["enabled = true", "tls = true", "ca_file = ca.pem"], source: folder.path + "/config.ini").mqtt
        #expect(settings.tls && settings.caFile == ca && settings.port == 8883)
        #expect(settings.summary.contains("mqtts://127.0.0.1:8883") && settings.summary.contains("checked against \(ca)"))
    }

    @Test func badValuesNameTheLineTheKeyAndTheFix() {
        let text = errors(["enabled = maybe", "host = mqtt://broker:1883", "port = 0", "publish_interval_sec = 0",
                           "base_topic = clemap/+/x", "discovery_prefix = /homeassistant", "client_id = my meter"])
        #expect(text.contains("/etc/clemap-edge/config.ini:"), "\(text)")
        #expect(text.contains("[MQTT] enabled") && text.contains("'maybe' is not true or false"), "\(text)")
        #expect(text.contains("[MQTT] host") && text.contains("no mqtt://, port or path"), "\(text)")
        #expect(text.contains("[MQTT] port") && text.contains("1…65535"), "\(text)")
        #expect(text.contains("[MQTT] publish_interval_sec") && text.contains("1…86400"), "\(text)")
        #expect(text.contains("[MQTT] base_topic") && text.contains("no + or #"), "\(text)")
        #expect(text.contains("[MQTT] discovery_prefix") && text.contains("no leading or trailing /"), "\(text)")
        #expect(text.contains("[MQTT] client_id") && text.contains("printable ASCII without spaces"), "\(text)")
        #expect(errors(["base_topic = a//b"]).contains("no empty level (//)"))
        #expect(errors(["base_topic = $SYS/x"]).contains("not starting with $"))
    }

    @Test func theDefaultsNeedAUsableSerialWhenEnabled() throws {
        let missing = errors(["enabled = true"], serial: nil)
        #expect(missing.contains("[INFO] hw_serial") && missing.contains("not set") && missing.contains("set [MQTT] base_topic and client_id"), "\(missing)")
        #expect(errors(["enabled = true"], serial: "SE/0551").contains("'SE/0551', not usable in a topic level"))
        // Off, or with both given, the serial does not matter.
        #expect(try configuration(["enabled = false"], serial: nil).mqtt.enabled == false)
        let named = try configuration(["enabled = true", "base_topic = meters/kitchen", "client_id = kitchen"], serial: nil).mqtt
        #expect(named.baseTopic == "meters/kitchen" && named.clientID == "kitchen" && named.deviceID == "kitchen")
    }

    @Test func thePasswordIsInNoMessageNorDescription() throws {
        let text = errors(["password = hunter2-secret"])
        #expect(text.contains("[MQTT] password") && text.contains("without a username") && text.contains("set username ="), "\(text)")
        #expect(!text.contains("hunter2"), "\(text)")
        let settings = try configuration(["enabled = true", "username = u", "password = hunter2-secret"]).mqtt
        #expect(settings.password == "hunter2-secret")
        for shown in ["\(settings)", String(reflecting: settings), settings.summary] {
            #expect(!shown.contains("hunter2"), "\(shown)")
        }
    }

    @Test func aCAFileWithoutTLSIsAConflict() {
        let text = errors(["ca_file = /etc/ssl/certs/ca.pem"])
        #expect(text.contains("[MQTT] ca_file") && text.contains("tls = false") && text.contains("set tls = true"), "\(text)")
        let unreadable = errors(["enabled = true", "tls = true", "ca_file = /nonexistent/ca.pem"])
        #expect(unreadable.contains("cannot be read") && unreadable.contains("PEM"), "\(unreadable)")
    }

    @Test(arguments: [
        ("clemap/SE05000551", true), ("a", true), ("home/energy/meter-7", true), ("ünïcode/ok", true),
        ("", false), ("/a", false), ("a/", false), ("a//b", false), ("a/+/b", false), ("a/#", false), ("$SYS/a", false),
    ])
    func publishTopics(_ topic: String, _ valid: Bool) {
        #expect(MQTTSettings.isPublishTopic(topic) == valid)
    }

    @Test func theDeviceIDKeepsWhatADiscoveryTopicLevelMayHold() {
        #expect(MQTTSettings(serial: "SE05000551").deviceID == "clemap_SE05000551")
        #expect(MQTTSettings(serial: "SE.0551 x").deviceID == "clemap_SE_0551_x")
        #expect(MQTTSettings(clientID: "kitchen meter").deviceID == "kitchen_meter")
    }
}
