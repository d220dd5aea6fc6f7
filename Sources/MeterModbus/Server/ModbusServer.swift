// SPDX-License-Identifier: Apache-2.0

internal import CModbus
public import Logging
public import MeterConfig
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not listen: names `[MODBUS]` and what to do.
public struct ModbusError: Error, CustomStringConvertible, Sendable {
    public let subject: String
    public let detail: String
    public let remedy: String
    public var description: String { "\(subject): \(detail). Fix: \(remedy)" }
}

/// The Modbus TCP server: libmodbus frames requests and replies; sockets and threads are its own.
///
/// One thread accepts; each connection gets a thread of its own (a 256 KiB stack), so a slow or hostile client
/// stalls only itself and never the Swift concurrency pool the sampler runs on. The limits that bound what a client
/// can hold:
/// - at most `max_clients` connections; one more is accepted and closed at once;
/// - a connection without a request for `idle_timeout_sec` is closed;
/// - a request must arrive whole: more than ``byteTimeoutMicroseconds`` between two of its bytes (half a frame, then
///   silence) closes the connection (libmodbus's byte timeout);
/// - a reply that cannot be sent within ``sendTimeoutSeconds`` (a client that stops reading) closes it.
/// Answers come from ``ModbusResponder``, which reads only the live hub and a cache of the store's totals.
///
/// Thread-safe: ``start()`` and ``stop()`` may be called from any thread; each connection's libmodbus context is
/// used by its thread alone (libmodbus contexts are not thread-safe).
public final class ModbusServer: Sendable {
    /// What the server has done since it started.
    public struct Statistics: Sendable, Hashable {
        public var connectionsAccepted = 0
        /// Closed at once: `max_clients` connections were open.
        public var connectionsRefused = 0
        /// Closed after `idle_timeout_sec` without a request.
        public var connectionsIdleClosed = 0
        /// Closed because a request stopped half-way, was malformed, or a reply could not be sent.
        public var connectionsDropped = 0
        public var requests = 0
        /// Exception responses, by code.
        public var exceptions: [UInt8: Int] = [:]
        public init() {}
    }

    /// Microseconds allowed between two bytes of one request (libmodbus's byte timeout; its default too).
    public static let byteTimeoutMicroseconds: UInt32 = 500_000
    /// Seconds a reply may take to be sent (SO_SNDTIMEO).
    public static let sendTimeoutSeconds = 5
    /// Stack of each connection's thread.
    static let stackSize = 256 * 1024

    private struct State {
        var listener: Int32 = -1
        var port = 0
        var stopping = false
        var acceptThread: pthread_t?
        var clients: Set<Int32> = []
        var statistics = Statistics()
        /// Refusals not yet logged (logged at most every 10 s, not once per connection).
        var refusalsUnlogged = 0
        var refusalLoggedAt = 0.0
    }

    public let settings: ModbusSettings
    private let responder: ModbusResponder
    private let logger: Logger
    private let state = Mutex(State())

    public init(responder: ModbusResponder, logger: Logger) {
        self.settings = responder.settings; self.responder = responder; self.logger = logger
    }

    /// The port it listens on (the kernel's choice when `port` was 0), 0 when not listening.
    public var port: Int { state.withLock { $0.listener >= 0 ? $0.port : 0 } }
    public var isListening: Bool { state.withLock { $0.listener >= 0 } }
    public var statistics: Statistics { state.withLock { $0.statistics } }
    /// Connections open now.
    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// Binds and listens on `bind`:`port`, and starts accepting on a thread of its own.
    /// - Throws: ``ModbusError`` naming `[MODBUS] bind`/`port` when the address cannot be bound (taken, not on this machine).
    public func start() throws(ModbusError) {
        let address = settings.bind.contains(":") ? "[\(settings.bind)]:\(settings.port)" : "\(settings.bind):\(settings.port)"
        guard let context = modbus_new_tcp_pi(settings.bind, "\(settings.port)") else {
            throw ModbusError(subject: "[MODBUS] bind", detail: "libmodbus refused '\(settings.bind)' port \(settings.port)",
                              remedy: "write an IP address, e.g. bind = 127.0.0.1")
        }
        defer { modbus_free(context) } // the listening socket is returned, not kept in the context
        let listener = modbus_tcp_pi_listen(context, 128)
        guard listener >= 0 else {
            let code = errno
            throw ModbusError(subject: "[MODBUS] port \(settings.port)", detail: "cannot listen on \(address): \(String(cString: strerror(code)))",
                              remedy: code == EADDRINUSE ? "another process holds the port: set [MODBUS] port to a free one (CLEMAP's is 5020), or stop the other process"
                                  : "set [MODBUS] bind to an address of this machine (127.0.0.1, 0.0.0.0 or ::), or [MODBUS] enabled = false")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let port = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        } == 0 ? Self.port(of: bound) : settings.port
        state.withLock { $0.listener = listener; $0.port = port; $0.stopping = false }
        guard let thread = PosixThread.start(stackSize: Self.stackSize, detached: false, { [self] in acceptLoop(listener) }) else {
            state.withLock { $0.listener = -1 }
            close(listener)
            throw ModbusError(subject: "[MODBUS]", detail: "no thread could be started to accept connections", remedy: "lower [MODBUS] max_clients; check the service's task limit")
        }
        state.withLock { $0.acceptThread = thread }
    }

    /// Stops accepting, closes every connection and waits (up to `timeoutSeconds`) for their threads to end.
    public func stop(timeoutSeconds: Double = 3) {
        let (thread, listener) = state.withLock { s -> (pthread_t?, Int32) in
            s.stopping = true
            for client in s.clients { shutdown(client, Int32(SHUT_RDWR)) }
            defer { s.acceptThread = nil }
            return (s.acceptThread, s.listener)
        }
        if let thread { PosixThread.join(thread) }
        if listener >= 0 {
            close(listener)
            state.withLock { $0.listener = -1 }
        }
        var waited = 0.0
        while clientCount > 0, waited < timeoutSeconds {
            usleep(10_000)
            waited += 0.01
        }
    }

    // MARK: Accepting

    private func acceptLoop(_ listener: Int32) {
        while !state.withLock({ $0.stopping }) {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EMFILE || errno == ENFILE { usleep(100_000) } // out of descriptors: let connections close
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard admit(client) else {
                close(client)
                continue
            }
            Self.configure(client)
            if PosixThread.start(stackSize: Self.stackSize, detached: true, { [self] in serve(client) }) == nil {
                release(client, dropped: true)
            }
        }
    }

    /// Registers a new connection, or refuses it (the limit, or a descriptor `select` inside libmodbus cannot take).
    private func admit(_ client: Int32) -> Bool {
        let (admitted, logRefusals) = state.withLock { s -> (Bool, Int) in
            guard !s.stopping, s.clients.count < settings.maxClients, client < FD_SETSIZE else {
                s.statistics.connectionsRefused += 1
                s.refusalsUnlogged += 1
                let now = Self.now()
                guard now - s.refusalLoggedAt >= 10 else { return (false, 0) }
                s.refusalLoggedAt = now
                defer { s.refusalsUnlogged = 0 }
                return (false, s.refusalsUnlogged)
            }
            s.clients.insert(client)
            s.statistics.connectionsAccepted += 1
            return (true, 0)
        }
        if logRefusals > 0 {
            logger.warning("Modbus TCP: connections refused, \(settings.maxClients) already open", metadata: [
                "modbus.refused": "\(logRefusals)", "fix": "raise [MODBUS] max_clients, or find the client that opens so many",
            ])
        }
        return admitted
    }

    /// Unregisters a connection (under the lock, so ``stop(timeoutSeconds:)`` never shuts down a reused descriptor) and closes it.
    private func release(_ client: Int32, idle: Bool = false, dropped: Bool = false) {
        state.withLock { s in
            s.clients.remove(client)
            if idle { s.statistics.connectionsIdleClosed += 1 }
            if dropped { s.statistics.connectionsDropped += 1 }
        }
        close(client)
    }

    /// TCP_NODELAY (a reply is one small write; don't wait to coalesce) and a send timeout.
    private static func configure(_ client: Int32) {
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: sendTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    // MARK: One connection

    private enum Ending { case closedByPeer, idle, dropped, stopping }

    /// Serves one connection until it closes, idles out, breaks a frame, or the server stops. Runs on its own thread.
    private func serve(_ client: Int32) {
        var ending = Ending.dropped
        defer { release(client, idle: ending == .idle, dropped: ending == .dropped) }
        // A TCP context only for framing: the socket is ours, libmodbus never connects it.
        guard let context = modbus_new_tcp("127.0.0.1", 502) else { return }
        defer { modbus_free(context) }
        modbus_set_socket(context, client)
        modbus_set_byte_timeout(context, 0, Self.byteTimeoutMicroseconds)
        var query = [UInt8](repeating: 0, count: ModbusRequest.maximumLength)
        let idleMilliseconds = Int32(settings.idleTimeoutSeconds * 1000)
        while true {
            if state.withLock({ $0.stopping }) { ending = .stopping; return }
            var ready = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, idleMilliseconds)
            if polled == 0 { ending = .idle; return }
            if polled < 0 { if errno == EINTR { continue }; return }
            // One whole request; -1 when the peer closed (ECONNRESET), stalled mid-frame (ETIMEDOUT) or sent too much.
            let received = modbus_receive(context, &query)
            guard received > 0 else {
                ending = errno == ECONNRESET ? .closedByPeer : state.withLock({ $0.stopping }) ? .stopping : .dropped
                return
            }
            guard let length = completeFrame(client, &query, received: Int(received)),
                  let request = ModbusRequest(adu: query[0..<length]) else { return }
            let answer = responder.answer(request)
            state.withLock { s in
                s.statistics.requests += 1
                if case .exception(let code) = answer { s.statistics.exceptions[code.rawValue, default: 0] += 1 }
            }
            guard reply(context, query: query, length: length, request: request, answer: answer) >= 0 else { return }
        }
    }

    /// libmodbus reads a request by its function code, and for a function it does not know stops right after the
    /// code. The MBAP length says how long the frame really is: read the rest, so that the next request starts where
    /// it should (else the stream is out of step and every answer after it garbage).
    /// - Returns: the frame's length, or nil when the connection must be closed.
    private func completeFrame(_ client: Int32, _ query: inout [UInt8], received: Int) -> Int? {
        guard received >= ModbusRequest.headerLength else { return nil }
        let declared = 6 + (Int(query[4]) << 8 | Int(query[5]))
        guard declared >= received, declared <= ModbusRequest.maximumLength else { return nil }
        var length = received
        while length < declared {
            var ready = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(Self.byteTimeoutMicroseconds / 1000)) > 0 else { return nil }
            let count = query.withUnsafeMutableBytes { recv(client, $0.baseAddress! + length, declared - length, 0) }
            guard count > 0 else { return nil }
            length += count
        }
        return length
    }

    /// Sends the answer through libmodbus (which echoes the transaction and unit, and writes the MBAP length).
    private func reply(_ context: OpaquePointer, query: [UInt8], length: Int, request: ModbusRequest, answer: ModbusAnswer) -> Int32 {
        switch answer {
        case .exception(let code):
            return modbus_reply_exception(context, query, UInt32(code.rawValue))
        case .registers(var values):
            guard case .read(_, let address, _) = request.operation else { return -1 }
            return values.withUnsafeMutableBufferPointer { buffer in
                var mapping = modbus_mapping_t()
                mapping.start_registers = Int32(address); mapping.nb_registers = Int32(buffer.count)
                mapping.start_input_registers = Int32(address); mapping.nb_input_registers = Int32(buffer.count)
                mapping.tab_registers = buffer.baseAddress; mapping.tab_input_registers = buffer.baseAddress
                return modbus_reply(context, query, Int32(length), &mapping)
            }
        case .written:
            let address: UInt16, count: Int
            switch request.operation {
            case .writeSingle(let a, _): address = a; count = 1
            case .writeMultiple(let a, let values, _): address = a; count = values.count
            default: return -1
            }
            // libmodbus stores the values into the mapping and echoes the request; the outputs were switched already.
            var scratch = [UInt16](repeating: 0, count: count)
            return scratch.withUnsafeMutableBufferPointer { buffer in
                var mapping = modbus_mapping_t()
                mapping.start_registers = Int32(address); mapping.nb_registers = Int32(count)
                mapping.tab_registers = buffer.baseAddress
                return modbus_reply(context, query, Int32(length), &mapping)
            }
        }
    }

    // MARK: Helpers

    private static func port(of address: sockaddr_storage) -> Int {
        var copy = address
        return withUnsafePointer(to: &copy) { pointer in
            switch Int32(address.ss_family) {
            case AF_INET: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: 0
            }
        }
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
