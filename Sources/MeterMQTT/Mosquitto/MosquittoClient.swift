// SPDX-License-Identifier: Apache-2.0
internal import CMosquitto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What libmosquitto's callbacks report, collected while ``MosquittoClient/loop(timeoutMilliseconds:)`` runs and
/// handed out by ``MosquittoClient/drainEvents()``.
enum MosquittoEvent: Sendable, Equatable {
    /// CONNACK: 0 accepted, else the broker's refusal (`mosquitto_connack_string`).
    case connected(code: Int32)
    /// The connection ended; 0 when we asked for it.
    case disconnected(code: Int32)
    /// A QoS 1 message was acknowledged (PUBACK), or a QoS 0 message written.
    case published(mid: Int32)
    /// A message on a subscribed topic.
    case message(topic: String, payload: [UInt8])
}

/// A libmosquitto call that failed: the call, its result code in words, and errno when the code is `MOSQ_ERR_ERRNO`.
struct MosquittoError: Error, CustomStringConvertible, Sendable {
    var call: String
    var code: Int32
    var detail: String

    init(_ call: String, code: Int32, errno: Int32 = 0) {
        self.call = call; self.code = code
        if code == Int32(MOSQ_ERR_ERRNO.rawValue), errno != 0 {
            detail = String(cString: strerror(errno))
        } else if code == Int32(MOSQ_ERR_EAI.rawValue) {
            detail = "the host name could not be resolved"
        } else {
            detail = String(cString: mosquitto_strerror(code))
        }
    }

    /// True when the broker refused us (credentials, authorisation): retrying soon will not help.
    var isRefusal: Bool {
        code == Int32(MOSQ_ERR_CONN_REFUSED.rawValue) || code == Int32(MOSQ_ERR_AUTH.rawValue) || code == Int32(MOSQ_ERR_ACL_DENIED.rawValue)
    }

    var description: String { "\(call): \(detail)" }
}

/// One libmosquitto client handle (`struct mosquitto *`), in "threaded, own loop" mode (`mosquitto_threaded_set`):
/// one thread calls ``connect(host:port:keepalive:)``, ``reconnect()``, ``loop(timeoutMilliseconds:)`` and
/// ``drainEvents()``; ``publish(topic:payload:qos:retain:)`` may be called from any thread (libmosquitto queues the
/// packet under its own lock and wakes the loop through its socket pair).
///
/// The one file that imports `CMosquitto`. Each method names the C call it maps to.
final class MosquittoClient: @unchecked Sendable {
    /// `mosquitto_lib_init`, once per process.
    private static let initialised: Bool = { mosquitto_lib_init() == Int32(MOSQ_ERR_SUCCESS.rawValue) }()

    /// Where the callbacks put their events; libmosquitto calls them on the loop's thread, the lock covers a callback
    /// that a publish from another thread might trigger.
    private final class Sink: Sendable {
        let events = Mutex<[MosquittoEvent]>([])
        func add(_ event: MosquittoEvent) { events.withLock { $0.append(event) } }
        static func from(_ pointer: UnsafeMutableRawPointer?) -> Sink? {
            pointer.map { Unmanaged<Sink>.fromOpaque($0).takeUnretainedValue() }
        }
    }

    private let handle: OpaquePointer
    private let sink = Sink()

    /// `mosquitto_new(id, clean_session: true, obj)` with MQTT 3.1.1 and the callbacks set.
    /// - Throws: ``MosquittoError`` when the library cannot make a handle (out of memory, a client id it refuses).
    init(clientID: String) throws(MosquittoError) {
        guard Self.initialised else { throw MosquittoError("mosquitto_lib_init", code: Int32(MOSQ_ERR_UNKNOWN.rawValue)) }
        let object = Unmanaged.passUnretained(sink).toOpaque()
        errno = 0
        guard let handle = mosquitto_new(clientID, true, object) else {
            throw MosquittoError("mosquitto_new", code: Int32(MOSQ_ERR_ERRNO.rawValue), errno: errno)
        }
        self.handle = handle
        _ = mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, cmosquitto_protocol_v311())
        _ = mosquitto_threaded_set(handle, true)
        mosquitto_connect_callback_set(handle) { _, object, code in Sink.from(object)?.add(.connected(code: code)) }
        mosquitto_disconnect_callback_set(handle) { _, object, code in Sink.from(object)?.add(.disconnected(code: code)) }
        mosquitto_publish_callback_set(handle) { _, object, mid in Sink.from(object)?.add(.published(mid: mid)) }
        mosquitto_message_callback_set(handle) { _, object, message in
            guard let message, let topic = message.pointee.topic else { return }
            let count = Int(max(0, message.pointee.payloadlen))
            let payload = count == 0 || message.pointee.payload == nil ? [] :
                Array(UnsafeRawBufferPointer(start: message.pointee.payload, count: count))
            Sink.from(object)?.add(.message(topic: String(cString: topic), payload: payload))
        }
    }

    /// `mosquitto_destroy`.
    deinit { mosquitto_destroy(handle) }

    private func check(_ call: String, _ code: Int32) throws(MosquittoError) {
        guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else { throw MosquittoError(call, code: code, errno: errno) }
    }

    /// `mosquitto_will_set`: what the broker publishes when the connection ends without a DISCONNECT.
    func setWill(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) {
        try check("mosquitto_will_set", mosquitto_will_set(handle, topic, Int32(payload.count), payload, qos, retain))
    }

    /// `mosquitto_username_pw_set`.
    func setCredentials(username: String, password: String?) throws(MosquittoError) {
        try check("mosquitto_username_pw_set", mosquitto_username_pw_set(handle, username, password))
    }

    /// `mosquitto_tls_set(cafile, capath, nil, nil, nil)`: TLS with the broker's certificate verified against `caFile`,
    /// or the certificates in `caPath`; the host name is checked too (libmosquitto's default, never turned off here).
    func setTLS(caFile: String?, caPath: String?) throws(MosquittoError) {
        try check("mosquitto_tls_set", mosquitto_tls_set(handle, caFile, caPath, nil, nil, nil))
    }

    /// `mosquitto_connect`: resolves `host`, opens the TCP (and TLS) connection and sends CONNECT; blocks for as long
    /// as the kernel's TCP connect takes (immediate for a refused or local connection). CONNACK arrives as
    /// ``MosquittoEvent/connected(code:)`` through ``loop(timeoutMilliseconds:)``.
    func connect(host: String, port: Int, keepalive: Int) throws(MosquittoError) {
        errno = 0
        let code = mosquitto_connect(handle, host, Int32(port), Int32(keepalive))
        try check("mosquitto_connect", code)
    }

    /// `mosquitto_reconnect`: the same broker again. Unacknowledged QoS 1 messages stay queued and are sent again
    /// after CONNACK.
    func reconnect() throws(MosquittoError) {
        errno = 0
        try check("mosquitto_reconnect", mosquitto_reconnect(handle))
    }

    /// `mosquitto_loop(timeout, 1)`: waits up to `timeoutMilliseconds` for the socket (or a publish from another
    /// thread), reads and writes what is due, sends keep-alive pings. Throws when the connection is gone.
    func loop(timeoutMilliseconds: Int) throws(MosquittoError) {
        errno = 0
        try check("mosquitto_loop", mosquitto_loop(handle, Int32(timeoutMilliseconds), 1))
    }

    /// `mosquitto_publish`. Returns the message id; a QoS 1 message refused with `MOSQ_ERR_NO_CONN` is queued all the
    /// same (libmosquitto sends it after the next CONNACK), so that result is returned as a mid too.
    /// - Throws: ``MosquittoError`` for anything else (a QoS 0 message without a connection is dropped).
    @discardableResult
    func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) -> Int32 {
        var mid: Int32 = 0
        let code = payload.withUnsafeBytes { bytes in
            mosquitto_publish(handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
        }
        if code == Int32(MOSQ_ERR_NO_CONN.rawValue), qos > 0 { return mid }
        try check("mosquitto_publish", code)
        return mid
    }

    /// `mosquitto_subscribe`.
    func subscribe(_ pattern: String, qos: Int32) throws(MosquittoError) {
        try check("mosquitto_subscribe", mosquitto_subscribe(handle, nil, pattern, qos))
    }

    /// `mosquitto_disconnect`: a clean DISCONNECT (the broker then discards the Will).
    func disconnect() {
        _ = mosquitto_disconnect(handle)
    }

    /// `mosquitto_connack_string`: a CONNACK refusal in words.
    static func refusal(_ code: Int32) -> String { String(cString: mosquitto_connack_string(code)) }

    /// The events since the last call, in order.
    func drainEvents() -> [MosquittoEvent] {
        sink.events.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
    }

    /// `mosquitto_lib_version`: e.g. `2.0.11`.
    static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
