// SPDX-License-Identifier: Apache-2.0
//
// moto's S3 server on loopback, started and stopped by the tests (Tests/S3ClientTests/moto_s3.py).

import Foundation
import MeterTesting
import S3Client
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not be had. The tests fail with it; they never skip.
struct MotoUnavailable: Error, CustomStringConvertible {
    let detail: String
    var description: String {
        "moto's S3 server is needed for S3ClientTests and could not be started: \(detail)\n"
            + "Install it with `python3 -m pip install 'moto[server]' boto3` (`make test-swift` does)."
    }
}

/// One running `moto_s3.py serve` with a bucket and an IAM access key; signatures are checked.
/// Or, with `tls`, a bare https server with a self-signed certificate (``caFile``) and nothing set up.
final class MotoServer: Sendable {
    static let script = Fixtures.repositoryRoot + "/Tests/S3ClientTests/moto_s3.py"
    static let bucket = "clemap-test"

    /// The server of the suite running (see ``MotoServerTrait``).
    @TaskLocal static var current: MotoServer?

    let port: Int
    let tls: Bool
    let credentials: S3Credentials
    private let process: Process
    private let folder: TemporaryFolder

    var endpoint: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    /// The certificate of a `tls` server.
    var caFile: String { folder.file("cert.pem") }
    var location: S3Location { S3Location(bucket: Self.bucket, region: "us-east-1", endpoint: endpoint, pathStyle: true) }

    /// A client for the bucket; `secret` replaces the real secret.
    func client(secret: String? = nil, pageSize: Int = 1000) -> S3Client {
        var credentials = credentials
        if let secret { credentials.secretAccessKey = secret }
        return S3Client(location: location, credentials: credentials, timeoutSeconds: 10, pageSize: pageSize)
    }

    /// Starts a server on a free port and prepares it; within about 20 s or throws.
    init(tls: Bool = false) throws {
        self.tls = tls
        folder = TemporaryFolder(prefix: "s3client-moto")
        port = try Self.freePort()
        let log = folder.file("server.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "serve", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"  // the requests of `moto_s3.py setup`
        environment["MOTO_S3_PARENT"] = String(getpid())  // the server ends itself should this process die
        if tls { environment["MOTO_S3_TLS_DIR"] = folder.path }
        process.environment = environment
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw MotoUnavailable(detail: "cannot run python3: \(error)") }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        let deadline = ContinuousClock.now + .seconds(20)
        while !Self.accepts(port) {
            guard process.isRunning else {
                throw MotoUnavailable(detail: "the server exited with status \(process.terminationStatus):\n\(logText())")
            }
            guard ContinuousClock.now < deadline else {
                Self.stop(process)
                throw MotoUnavailable(detail: "nothing listened on port \(port) within 20 s:\n\(logText())")
            }
            usleep(50_000)
        }
        if tls {
            credentials = S3Credentials(accessKeyID: "AKIANOTSETUPEXAMPLE0", secretAccessKey: "not-set-up", source: "nothing")
            return
        }
        let setup = Process()
        setup.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        setup.arguments = ["python3", Self.script, "setup", "http://127.0.0.1:\(port)", Self.bucket]
        let output = Pipe(), errors = Pipe()
        setup.standardOutput = output
        setup.standardError = errors
        try setup.run()
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        setup.waitUntilExit()
        guard setup.terminationStatus == 0, lines.count == 2 else {
            Self.stop(process)
            throw MotoUnavailable(detail: "moto_s3.py setup failed (status \(setup.terminationStatus)):\n\(problem)\n\(logText())")
        }
        credentials = S3Credentials(accessKeyID: String(lines[0]), secretAccessKey: String(lines[1]), source: "moto IAM")
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s). Safe to call twice.
    func stop() { Self.stop(process) }

    deinit { stop() }

    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw MotoUnavailable(detail: "no free port on 127.0.0.1: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// Runs a suite with one ``MotoServer`` (``MotoServer/current``), stopped when the suite ends, passed or failed.
struct MotoServerTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try MotoServer()
        defer { server.stop() }
        try await MotoServer.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == MotoServerTrait {
    /// One moto S3 server for the whole suite.
    static var motoServer: Self { Self() }
}
