// SPDX-License-Identifier: Apache-2.0
import Foundation
@testable import MeterMQTT
import MeterTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real mosquitto on a free 127.0.0.1 port with a generated config, as `integration/process/mqttbroker.py` starts
/// one for the process tests; killed when the value goes away.
///
/// SIGKILL, not SIGTERM: Foundation's `Process` spawns from a libdispatch worker thread, whose blocked signals
/// (SIGTERM, SIGINT, SIGHUP among them) the child inherits, so mosquitto would never see a SIGTERM and
/// `waitUntilExit` would wait for ever. The broker keeps nothing on disk (`persistence false`).
final class MosquittoBroker {
    static let executable = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let folder = TemporaryFolder(prefix: "clemap-edge-broker")
    let port: Int
    private let process = Process()

    /// - Parameters:
    ///   - port: where to listen; nil: a free port (the port of a broker stopped before, to start it again).
    ///   - logPackets: log every packet (`log_type debug`): each PUBLISH received with its QoS and retain flag.
    /// - Throws: when mosquitto is not installed (`apt-get install mosquitto`) or does not listen within 10 s.
    init(port: Int? = nil, logPackets: Bool = false) throws {
        guard let executable = Self.executable else {
            throw BrokerError("mosquitto not found in /usr/sbin or /usr/bin: apt-get install mosquitto")
        }
        self.port = try port ?? Self.freePort()
        let config = folder.write("mosquitto.conf", """
            listener \(self.port) 127.0.0.1
            allow_anonymous true
            persistence false
            log_dest file \(folder.file("mosquitto.log"))
            log_type error
            log_type warning
            log_type notice
            connection_messages true

            """
            // Started as root, mosquitto would switch to the user `mosquitto`, who cannot write the test's folder.
            + (geteuid() == 0 ? "user root\n" : "") + (logPackets ? "log_type debug\n" : ""))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", config]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(self.port) {
            guard process.isRunning, Date() < deadline else {
                throw BrokerError("mosquitto did not listen on 127.0.0.1:\(self.port): \(log.suffix(800))")
            }
            usleep(20_000)
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var log: String { (try? String(contentsOfFile: folder.file("mosquitto.log"), encoding: .utf8)) ?? "" }

    struct BrokerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A port the kernel has just handed out for 127.0.0.1 (bound to 0, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BrokerError("bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// True when a TCP connection to 127.0.0.1:`port` is accepted.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A subscriber on the broker through the meter's own libmosquitto client, its loop run by the test.
final class MQTTSubscriber {
    struct Message: Equatable {
        var topic: String
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
    }

    private let client: MosquittoClient
    private(set) var messages: [Message] = []

    /// Connects and subscribes to `pattern` (QoS 1); retained messages under it arrive first.
    init(port: Int, pattern: String, clientID: String = "test-subscriber-\(UInt32.random(in: 0...UInt32.max))") async throws {
        client = try MosquittoClient(clientID: clientID)
        try client.connect(host: "127.0.0.1", port: port, keepalive: 30)
        var connected = false
        let deadline = Date().addingTimeInterval(10)
        while !connected {
            guard Date() < deadline else { throw MosquittoBroker.BrokerError("the subscriber got no CONNACK within 10 s") }
            try client.loop(timeoutMilliseconds: 10)
            connected = client.drainEvents().contains(.connected(code: 0))
            await Task.yield()
        }
        try client.subscribe(pattern, qos: 1)
    }

    deinit { client.disconnect() }

    /// Runs the client's loop until a message satisfies `condition` or `timeout` seconds pass; returns it, or nil.
    func wait(timeout: Double = 10, for condition: (Message) -> Bool) async throws -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = 0
        while true {
            for message in messages[seen...] where condition(message) { return message }
            seen = messages.count
            guard Date() < deadline else { return nil }
            try await receive(milliseconds: 20)
        }
    }

    /// Runs the client's loop for about `milliseconds`, keeping what arrives.
    func receive(milliseconds: Int) async throws {
        try client.loop(timeoutMilliseconds: 10)
        for case .message(let topic, let payload) in client.drainEvents() {
            messages.append(Message(topic: topic, payload: payload))
        }
        try await Task.sleep(for: .milliseconds(max(0, milliseconds - 10)))
    }
}
