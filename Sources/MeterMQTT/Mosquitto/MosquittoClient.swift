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
        } else if case .success(let library) = LibMosquitto.shared, let text = library.strerror(code) {
            detail = String(cString: text)
        } else {
            detail = "error \(code)"
        }
    }

    init(_ call: String, code: Int32, detail: String) {
        self.call = call; self.code = code; self.detail = detail
    }

    /// True when the broker refused us (credentials, authorisation): retrying soon will not help.
    var isRefusal: Bool {
        code == Int32(MOSQ_ERR_CONN_REFUSED.rawValue) || code == Int32(MOSQ_ERR_AUTH.rawValue) || code == Int32(MOSQ_ERR_ACL_DENIED.rawValue)
    }

    /// True for a TLS failure (a certificate not signed by the CA given, a name that does not match, no TLS there).
    var isTLS: Bool { code == Int32(MOSQ_ERR_TLS.rawValue) || code == Int32(MOSQ_ERR_TLS_HANDSHAKE.rawValue) }

    var description: String { "\(call): \(detail)" }
}

/// libmosquitto (`libmosquitto.so.1`, Debian libmosquitto1), loaded on first use with `dlopen`, its functions taken
/// with `dlsym`: the types and constants of `<mosquitto.h>` come from `CMosquitto`, no call is linked.
///
/// Why not linked: libmosquitto brings OpenSSL (libssl, libcrypto), whose start-up costs about 2 MiB resident in every
/// start of the binary (measured: `clemap-edge --version`, 19.3 MiB without, 21.4 MiB linked), a meter with MQTT off
/// (the default) and every CLI command included. The exporter's libcurl is loaded the same way (Sources/CCurl).
struct LibMosquitto: @unchecked Sendable {
    typealias Client = OpaquePointer
    typealias Object = UnsafeMutableRawPointer
    typealias OnCode = @convention(c) (Client?, Object?, Int32) -> Void
    typealias OnMessage = @convention(c) (Client?, Object?, UnsafePointer<mosquitto_message>?) -> Void
    typealias Password = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, Object?) -> Int32

    let libInit: @convention(c) () -> Int32
    let libVersion: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    let new: @convention(c) (UnsafePointer<CChar>?, Bool, Object?) -> Client?
    let destroy: @convention(c) (Client?) -> Void
    let intOption: @convention(c) (Client?, mosq_opt_t, Int32) -> Int32
    let threadedSet: @convention(c) (Client?, Bool) -> Int32
    let connectCallbackSet: @convention(c) (Client?, OnCode?) -> Void
    let disconnectCallbackSet: @convention(c) (Client?, OnCode?) -> Void
    let publishCallbackSet: @convention(c) (Client?, OnCode?) -> Void
    let messageCallbackSet: @convention(c) (Client?, OnMessage?) -> Void
    let willSet: @convention(c) (Client?, UnsafePointer<CChar>?, Int32, UnsafeRawPointer?, Int32, Bool) -> Int32
    let usernamePasswordSet: @convention(c) (Client?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    let tlsSet: @convention(c) (Client?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Password?) -> Int32
    let connect: @convention(c) (Client?, UnsafePointer<CChar>?, Int32, Int32) -> Int32
    let loop: @convention(c) (Client?, Int32, Int32) -> Int32
    let publish: @convention(c) (Client?, UnsafeMutablePointer<Int32>?, UnsafePointer<CChar>?, Int32, UnsafeRawPointer?, Int32, Bool) -> Int32
    let subscribe: @convention(c) (Client?, UnsafeMutablePointer<Int32>?, UnsafePointer<CChar>?, Int32) -> Int32
    let disconnect: @convention(c) (Client?) -> Int32
    let strerror: @convention(c) (Int32) -> UnsafePointer<CChar>?
    let connackString: @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// The library, loaded and initialised (`mosquitto_lib_init`) once per process; or why it cannot be.
    static let shared: Result<LibMosquitto, MosquittoError> = load()

    private static func load() -> Result<LibMosquitto, MosquittoError> {
        let name = "libmosquitto.so.1"
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(MosquittoError("dlopen", code: Int32(MOSQ_ERR_NOT_SUPPORTED.rawValue),
                                           detail: "\(why); install it: apt-get install libmosquitto1"))
        }
        func symbol<T>(_ name: String) throws(MosquittoError) -> T {
            guard let pointer = dlsym(handle, name) else {
                throw MosquittoError("dlsym", code: Int32(MOSQ_ERR_NOT_SUPPORTED.rawValue), detail: "\(name) is not in libmosquitto.so.1 (version 2.0 or later needed)")
            }
            return unsafeBitCast(pointer, to: T.self)
        }
        do {
            let library = LibMosquitto(
                libInit: try symbol("mosquitto_lib_init"), libVersion: try symbol("mosquitto_lib_version"),
                new: try symbol("mosquitto_new"), destroy: try symbol("mosquitto_destroy"),
                intOption: try symbol("mosquitto_int_option"), threadedSet: try symbol("mosquitto_threaded_set"),
                connectCallbackSet: try symbol("mosquitto_connect_callback_set"),
                disconnectCallbackSet: try symbol("mosquitto_disconnect_callback_set"),
                publishCallbackSet: try symbol("mosquitto_publish_callback_set"),
                messageCallbackSet: try symbol("mosquitto_message_callback_set"),
                willSet: try symbol("mosquitto_will_set"), usernamePasswordSet: try symbol("mosquitto_username_pw_set"),
                tlsSet: try symbol("mosquitto_tls_set"), connect: try symbol("mosquitto_connect"), loop: try symbol("mosquitto_loop"),
                publish: try symbol("mosquitto_publish"), subscribe: try symbol("mosquitto_subscribe"),
                disconnect: try symbol("mosquitto_disconnect"), strerror: try symbol("mosquitto_strerror"),
                connackString: try symbol("mosquitto_connack_string"))
            let code = library.libInit()
            guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
                return .failure(MosquittoError("mosquitto_lib_init", code: code, detail: "error \(code)"))
            }
            return .success(library)
        } catch {
            return .failure(error)
        }
    }
}

/// One libmosquitto client handle (`struct mosquitto *`), in "threaded, own loop" mode (`mosquitto_threaded_set`):
/// one thread calls ``connect(host:port:keepalive:)``, ``reconnect()``, ``loop(timeoutMilliseconds:)`` and
/// ``drainEvents()``; ``publish(topic:payload:qos:retain:)`` may be called from any thread (libmosquitto queues the
/// packet under its own lock and wakes the loop through its socket pair).
///
/// The one file that imports `CMosquitto`. Each method names the C call it maps to (through ``LibMosquitto``).
final class MosquittoClient: @unchecked Sendable {
    /// Where the callbacks put their events; libmosquitto calls them on the loop's thread, the lock covers a callback
    /// that a publish from another thread might trigger.
    private final class Sink: Sendable {
        let events = Mutex<[MosquittoEvent]>([])
        func add(_ event: MosquittoEvent) { events.withLock { $0.append(event) } }
        static func from(_ pointer: UnsafeMutableRawPointer?) -> Sink? {
            pointer.map { Unmanaged<Sink>.fromOpaque($0).takeUnretainedValue() }
        }
    }

    private let library: LibMosquitto
    private let handle: OpaquePointer
    private let sink = Sink()

    /// `mosquitto_new(id, clean_session: true, obj)` with MQTT 3.1.1 and the callbacks set.
    /// - Throws: ``MosquittoError`` when the library cannot make a handle (out of memory, a client id it refuses).
    init(clientID: String) throws(MosquittoError) {
        let library = try LibMosquitto.shared.get()
        let object = Unmanaged.passUnretained(sink).toOpaque()
        errno = 0
        guard let handle = library.new(clientID, true, object) else {
            throw MosquittoError("mosquitto_new", code: Int32(MOSQ_ERR_ERRNO.rawValue), errno: errno)
        }
        self.library = library
        self.handle = handle
        _ = library.intOption(handle, MOSQ_OPT_PROTOCOL_VERSION, cmosquitto_protocol_v311())
        _ = library.threadedSet(handle, true)
        library.connectCallbackSet(handle) { _, object, code in Sink.from(object)?.add(.connected(code: code)) }
        library.disconnectCallbackSet(handle) { _, object, code in Sink.from(object)?.add(.disconnected(code: code)) }
        library.publishCallbackSet(handle) { _, object, mid in Sink.from(object)?.add(.published(mid: mid)) }
        library.messageCallbackSet(handle) { _, object, message in
            guard let message, let topic = message.pointee.topic else { return }
            let count = Int(max(0, message.pointee.payloadlen))
            let payload = count == 0 || message.pointee.payload == nil ? [] :
                Array(UnsafeRawBufferPointer(start: message.pointee.payload, count: count))
            Sink.from(object)?.add(.message(topic: String(cString: topic), payload: payload))
        }
    }

    /// `mosquitto_destroy`.
    deinit { library.destroy(handle) }

    private func check(_ call: String, _ code: Int32) throws(MosquittoError) {
        guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else { throw MosquittoError(call, code: code, errno: errno) }
    }

    /// `mosquitto_will_set`: what the broker publishes when the connection ends without a DISCONNECT.
    func setWill(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) {
        try check("mosquitto_will_set", library.willSet(handle, topic, Int32(payload.count), payload, qos, retain))
    }

    /// `mosquitto_username_pw_set`.
    func setCredentials(username: String, password: String?) throws(MosquittoError) {
        try check("mosquitto_username_pw_set", library.usernamePasswordSet(handle, username, password))
    }

    /// `mosquitto_tls_set(cafile, capath, nil, nil, nil)`: TLS with the broker's certificate verified against `caFile`,
    /// or the certificates in `caPath`; the host name is checked too (libmosquitto's default, never turned off here).
    func setTLS(caFile: String?, caPath: String?) throws(MosquittoError) {
        try check("mosquitto_tls_set", library.tlsSet(handle, caFile, caPath, nil, nil, nil))
    }

    /// `mosquitto_connect`: resolves `host`, opens the TCP (and TLS) connection and sends CONNECT; blocks for as long
    /// as the kernel's TCP connect takes (immediate for a refused or local connection). CONNACK arrives as
    /// ``MosquittoEvent/connected(code:)`` through ``loop(timeoutMilliseconds:)``.
    func connect(host: String, port: Int, keepalive: Int) throws(MosquittoError) {
        errno = 0
        let code = library.connect(handle, host, Int32(port), Int32(keepalive))
        try check("mosquitto_connect", code)
    }

    /// `mosquitto_loop(timeout, 1)`: waits up to `timeoutMilliseconds` for the socket (or a publish from another
    /// thread), reads and writes what is due, sends keep-alive pings. Throws when the connection is gone.
    func loop(timeoutMilliseconds: Int) throws(MosquittoError) {
        errno = 0
        try check("mosquitto_loop", library.loop(handle, Int32(timeoutMilliseconds), 1))
    }

    /// `mosquitto_publish`. Returns the message id; a QoS 1 message refused with `MOSQ_ERR_NO_CONN` is queued all the
    /// same (libmosquitto sends it after the next CONNACK), so that result is returned as a mid too.
    /// - Throws: ``MosquittoError`` for anything else (a QoS 0 message without a connection is dropped).
    @discardableResult
    func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) -> Int32 {
        var mid: Int32 = 0
        let code = payload.withUnsafeBytes { bytes in
            library.publish(handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
        }
        if code == Int32(MOSQ_ERR_NO_CONN.rawValue), qos > 0 { return mid }
        try check("mosquitto_publish", code)
        return mid
    }

    /// `mosquitto_subscribe`.
    func subscribe(_ pattern: String, qos: Int32) throws(MosquittoError) {
        try check("mosquitto_subscribe", library.subscribe(handle, nil, pattern, qos))
    }

    /// `mosquitto_disconnect`: a clean DISCONNECT (the broker then discards the Will).
    func disconnect() {
        _ = library.disconnect(handle)
    }

    /// `mosquitto_connack_string`: a CONNACK refusal in words.
    func refusal(_ code: Int32) -> String { library.connackString(code).map { String(cString: $0) } ?? "CONNACK \(code)" }

    /// The events since the last call, in order.
    func drainEvents() -> [MosquittoEvent] {
        sink.events.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
    }

    /// `mosquitto_lib_version`: e.g. `2.0.11`.
    var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = library.libVersion(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
