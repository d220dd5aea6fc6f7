// SPDX-License-Identifier: Apache-2.0

/// `[MQTT]`: live values, every stored minute and Home Assistant discovery to an MQTT broker (libmosquitto).
///
/// Off by default. The defaults follow from `[INFO] hw_serial`: client id `clemap-edge-<hw_serial>`, topics under
/// `clemap/<hw_serial>`. The password is never logged, printed or put in an error message, nor in ``description``.
public struct MQTTSettings: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `enabled`: `true` or `false`, default `false`.
    public var enabled: Bool
    /// `host`: the broker's name or IP address, default `127.0.0.1`.
    public var host: String
    /// `port`: 1…65535, default 1883, or 8883 with `tls = true`.
    public var port: Int
    /// `tls`: `true` for MQTT over TLS (the broker's certificate and name are always verified), default `false`.
    public var tls: Bool
    /// `ca_file`: a PEM bundle to verify the broker's certificate with; nil: the system's (`/etc/ssl/certs`).
    public var caFile: String?
    /// `username`: nil for an anonymous connection.
    public var username: String?
    /// `password`: needs `username`. Never logged or printed.
    public var password: String?
    /// `client_id`: default `clemap-edge-<hw_serial>`.
    public var clientID: String
    /// `base_topic`: default `clemap/<hw_serial>`; `<base>/state`, `<base>/minute`, `<base>/energy`, `<base>/status`, …
    public var baseTopic: String
    /// `publish_interval_sec`: seconds of the meter's clock between live states, 1…86400, default 10.
    public var publishIntervalSeconds: Int
    /// `discovery`: publish Home Assistant discovery configs (retained), default `true`.
    public var discovery: Bool
    /// `discovery_prefix`: Home Assistant's discovery prefix, default `homeassistant`.
    public var discoveryPrefix: String
    /// `commands`: accept `ON`/`OFF` on `<base>/output/{a|b}/set`, default `false`.
    public var commands: Bool
    /// `[INFO] hw_serial`, or nil: the device's serial number in discovery.
    public var serial: String?

    public init(enabled: Bool = false, host: String = "127.0.0.1", port: Int? = nil, tls: Bool = false, caFile: String? = nil,
                username: String? = nil, password: String? = nil, clientID: String? = nil, baseTopic: String? = nil,
                publishIntervalSeconds: Int = 10, discovery: Bool = true, discoveryPrefix: String = "homeassistant",
                commands: Bool = false, serial: String? = nil) {
        self.enabled = enabled; self.host = host; self.port = port ?? (tls ? 8883 : 1883); self.tls = tls; self.caFile = caFile
        self.username = username; self.password = password
        self.clientID = clientID ?? "clemap-edge-\(serial ?? "unknown")"
        self.baseTopic = baseTopic ?? "clemap/\(serial ?? "unknown")"
        self.publishIntervalSeconds = publishIntervalSeconds; self.discovery = discovery; self.discoveryPrefix = discoveryPrefix
        self.commands = commands; self.serial = serial
    }

    /// Home Assistant's id of this meter (discovery's `node_id`, the prefix of every `unique_id`): `clemap_<hw_serial>`,
    /// or the client id without a serial, reduced to the characters a discovery topic level may hold (`A-Za-z0-9_-`).
    public var deviceID: String {
        let source = serial.map { "clemap_\($0)" } ?? clientID
        return String(source.unicodeScalars.map { s -> Character in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_" || s == "-") ? Character(s) : "_"
        })
    }

    /// True when `text` can be a topic to publish to: UTF-8 without NUL, no wildcards (`+`, `#`), no empty level, not
    /// starting with `$` (reserved for the broker) and without a leading or trailing `/`.
    public static func isPublishTopic(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 32_767, !text.hasPrefix("$"), !text.hasPrefix("/"), !text.hasSuffix("/") else { return false }
        return !text.contains("//") && !text.unicodeScalars.contains { $0 == "+" || $0 == "#" || $0.value == 0 || $0.properties.generalCategory == .control }
    }

    /// True for a broker host: a name or an IPv4/IPv6 address, no scheme, port, user or path.
    public static func isHost(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253 && text.unicodeScalars.allSatisfy { s in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "-.:_".unicodeScalars.contains(s))
        }
    }

    /// One line for `config check` and the start log; the password shows only as `set`.
    public var summary: String {
        guard enabled else { return "mqtt: off" }
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "mqtt: on, \(tls ? "mqtts" : "mqtt")://\(host):\(port) as \(clientID)"
            + (username.map { ", user \($0)\(password == nil ? "" : " with a password")" } ?? ", anonymous")
            + (tls ? ", broker certificate checked against \(caFile ?? "the system's CAs")" : "")
            + ", topics \(baseTopic)/…, live state every \(publishIntervalSeconds) s, "
            + (discovery ? "Home Assistant discovery under \(discoveryPrefix)/" : "no discovery")
            + ", commands \(commands ? "on (\(baseTopic)/output/a|b/set)" : "off")"
    }

    /// Every value but the password (shown as `set`).
    public var description: String {
        "MQTTSettings(enabled: \(enabled), host: \(host), port: \(port), tls: \(tls), caFile: \(caFile ?? "nil"), "
            + "username: \(username ?? "nil"), password: \(password == nil ? "nil" : "set"), clientID: \(clientID), "
            + "baseTopic: \(baseTopic), publishIntervalSeconds: \(publishIntervalSeconds), discovery: \(discovery), "
            + "discoveryPrefix: \(discoveryPrefix), commands: \(commands), serial: \(serial ?? "nil"))"
    }

    /// As ``description``: `String(reflecting:)` shows no password either.
    public var debugDescription: String { description }
}
