// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterConfig
import MeterModbus
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The server over real loopback sockets (port 0: the kernel picks one), with hand-built frames: what a client sees
/// on the wire, the stream kept in step, and the limits that keep one client from holding up the others.
@Suite(.serialized) struct ModbusServerTests {
    /// A plain TCP client: bytes out, bytes in, with a receive timeout.
    struct RawClient {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { Glibc.close(fd); throw ClientError.connect }
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        enum ClientError: Error { case connect }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        /// `count` bytes, or what came before the peer closed (or 3 s passed).
        func receive(_ count: Int) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count), got = 0
            while got < count {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n <= 0 { break }
                got += n
            }
            return Array(buffer[..<got])
        }
        /// True when the server closed the connection (EOF) within the receive timeout.
        func closedByServer() -> Bool {
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, 0) == 0
        }
        func close() { Glibc.close(fd) }
    }

    static func readFrame(_ transaction: UInt8, address: UInt16, count: UInt16, unit: UInt8 = 1) -> [UInt8] {
        [0, transaction, 0, 0, 0, 6, unit, 3, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
    }

    func withServer(_ settings: ModbusSettings, _ body: (ModbusServer) throws -> Void) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = ModbusServer(responder: responder(settings, now: 100), logger: logger)
        try server.start()
        defer { server.stop() }
        try body(server)
    }

    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    @Test func aReadComesBackAsTheRegistersOnTheWire() throws {
        try withServer(ModbusSettings(enabled: true, port: 0)) { server in
            let client = try RawClient(port: server.port)
            defer { client.close() }
            client.send(Self.readFrame(7, address: 19000, count: 2))
            // MBAP echoes transaction 7, length 7; FC3, 4 bytes: 230.1 as float32 big-endian (0x43661999).
            #expect(client.receive(13) == [0, 7, 0, 0, 0, 7, 1, 3, 4, 0x43, 0x66, 0x19, 0x9A])
            client.send(Self.readFrame(8, address: 19001, count: 2))
            #expect(client.receive(9) == [0, 8, 0, 0, 0, 3, 1, 0x83, 0x02]) // exception 02
        }
    }

    /// libmodbus stops reading an unknown function right after its code; the server reads the rest of the frame by its
    /// MBAP length, answers 01, and the next request on the same connection is answered in step.
    @Test func anUnknownFunctionWithDataLeavesTheStreamInStep() throws {
        try withServer(ModbusSettings(enabled: true, port: 0)) { server in
            let client = try RawClient(port: server.port)
            defer { client.close() }
            client.send([0, 1, 0, 0, 0, 5, 1, 0x2B, 0x0E, 0x01, 0x00] + Self.readFrame(2, address: 20000, count: 2))
            #expect(client.receive(9) == [0, 1, 0, 0, 0, 3, 1, 0xAB, 0x01])
            #expect(client.receive(13) == [0, 2, 0, 0, 0, 7, 1, 3, 4, 0x42, 0x47, 0xEB, 0x85]) // 49.98 Hz
        }
    }

    /// Half a frame, then silence: that client is dropped after the byte timeout; another is served meanwhile.
    @Test func aStalledHalfFrameHoldsUpOnlyItself() throws {
        try withServer(ModbusSettings(enabled: true, port: 0)) { server in
            let stalled = try RawClient(port: server.port)
            defer { stalled.close() }
            stalled.send(Array(Self.readFrame(1, address: 19000, count: 2).prefix(5)))
            let start = now()
            let other = try RawClient(port: server.port)
            defer { other.close() }
            for n in 0..<20 {
                let t0 = now()
                other.send(Self.readFrame(UInt8(n), address: 19018, count: 2))
                #expect(client(other, answered: UInt8(n)))
                #expect(now() - t0 < 0.25, "request \(n) took \(now() - t0) s")
            }
            #expect(stalled.closedByServer())
            let closedAfter = now() - start
            #expect(closedAfter > 0.3 && closedAfter < 2, "dropped after \(closedAfter) s")
            #expect(server.statistics.connectionsDropped >= 1)
        }
    }

    func client(_ client: RawClient, answered transaction: UInt8) -> Bool {
        let answer = client.receive(13)
        return answer.count == 13 && answer[1] == transaction && answer[7] == 3
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnceAndIdleOnesAfterTheTimeout() throws {
        try withServer(ModbusSettings(enabled: true, port: 0, maxClients: 2, idleTimeoutSeconds: 1)) { server in
            let first = try RawClient(port: server.port), second = try RawClient(port: server.port)
            defer { first.close(); second.close() }
            first.send(Self.readFrame(1, address: 19000, count: 2))
            second.send(Self.readFrame(2, address: 19000, count: 2))
            #expect(client(first, answered: 1) && client(second, answered: 2))
            let third = try RawClient(port: server.port)
            defer { third.close() }
            let t0 = now()
            #expect(third.closedByServer())
            #expect(now() - t0 < 1)
            #expect(server.statistics.connectionsRefused == 1)
            // Both idle: closed after about a second, freeing their places.
            #expect(first.closedByServer() && second.closedByServer())
            #expect(now() - t0 > 0.5)
            var waited = 0
            while server.clientCount > 0, waited < 100 { usleep(10_000); waited += 1 }
            let fourth = try RawClient(port: server.port)
            defer { fourth.close() }
            fourth.send(Self.readFrame(4, address: 19000, count: 2))
            #expect(client(fourth, answered: 4))
            #expect(server.statistics.connectionsIdleClosed == 2)
        }
    }

    @Test func stopClosesEveryConnectionAndThePort() throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = ModbusServer(responder: responder(ModbusSettings(enabled: true, port: 0)), logger: logger)
        try server.start()
        let port = server.port
        let clients = try (0..<5).map { _ in try RawClient(port: port) }
        defer { clients.forEach { $0.close() } }
        var waited = 0
        while server.clientCount < 5, waited < 100 { usleep(10_000); waited += 1 }
        server.stop()
        #expect(server.clientCount == 0)
        #expect(clients.allSatisfy { $0.closedByServer() })
        #expect((try? RawClient(port: port)) == nil)
    }

    @Test func aTakenPortIsAnErrorNamingTheKeyAndTheFix() throws {
        try withServer(ModbusSettings(enabled: true, port: 0)) { server in
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let second = ModbusServer(responder: responder(ModbusSettings(enabled: true, port: server.port)), logger: logger)
            #expect(throws: ModbusError.self) { try second.start() }
            do { try second.start() } catch let error as ModbusError {
                #expect(error.description.contains("[MODBUS] port \(server.port)") && error.description.contains("another process holds the port"), "\(error)")
            } catch { Issue.record("\(error)") }
        }
    }
}
