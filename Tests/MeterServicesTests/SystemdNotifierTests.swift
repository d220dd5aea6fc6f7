// SPDX-License-Identifier: Apache-2.0

import MeterServices
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// sd_notify without libsystemd, against a real AF_UNIX datagram socket, as systemd listens.
@Suite struct SystemdNotifierTests {
    /// A bound datagram socket standing in for systemd's notify socket.
    final class Listener {
        let fd: Int32
        let path: String
        init(path: String) {
            self.path = path
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            precondition(result == 0, "bind \(path) failed")
        }
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        }
        deinit { close(fd); unlink(path) }
    }

    @Test func sendsDatagramsToNotifySocket() {
        let listener = Listener(path: "/tmp/clemap-edge-notify-\(getpid())")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "20000000"])
        #expect(notifier.watchdogInterval == 20)
        #expect(notifier.notify("READY=1\nSTATUS=sampling the ADE9000"))
        #expect(listener.receive() == "READY=1\nSTATUS=sampling the ADE9000")
        #expect(notifier.notify("WATCHDOG=1"))
        #expect(listener.receive() == "WATCHDOG=1")
    }

    @Test func withoutSystemdItDoesNothing() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.socketPath == nil && notifier.watchdogInterval == nil)
        #expect(!notifier.notify("READY=1"))
    }

    @Test func aWatchdogMeantForAnotherProcessIsIgnored() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"])
        #expect(notifier.watchdogInterval == nil)
    }
}
