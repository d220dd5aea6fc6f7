// SPDX-License-Identifier: Apache-2.0

import Foundation
import MeterTesting
import S3Client
import Testing

/// Real requests, signed by curl, against moto's S3 server on loopback, which checks every signature.
@Suite(.motoServer, .timeLimit(.minutes(2)))
struct ServerTests {
    var server: MotoServer { MotoServer.current! }

    /// `count` random bytes (SplitMix64 from a random seed: the system generator makes a syscall per call).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var state = UInt64.random(in: .min ... .max)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { bytes += $0 }
        }
        return Array(bytes.prefix(count))
    }

    @Test(arguments: [0, 1, 1000, 3_000_000])
    func putThenGetIsByteExact(size: Int) throws {
        let client = server.client()
        let bytes = Self.randomBytes(size)
        try client.put("exact/\(size).bin", bytes: bytes, contentType: "application/octet-stream")
        #expect(try client.get("exact/\(size).bin", maxBytes: size) == bytes)
    }

    /// Streamed from a file (hashed, then sent, never whole in memory): the training data of a year is ~10 MB.
    @Test(arguments: [0, 3_000_000])
    func putFromAFileIsByteExact(size: Int) throws {
        let client = server.client()
        let folder = TemporaryFolder(prefix: "s3client-upload")
        let bytes = Self.randomBytes(size)
        let path = folder.file("data.csv")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        try client.put("file/\(size).csv", file: path, contentType: "text/csv")
        #expect(try client.get("file/\(size).csv", maxBytes: size) == bytes)
        let missing = try #require(throws: S3Error.self) { try client.put("file/none", file: folder.file("none"), contentType: "text/csv") }
        #expect(missing.isPermanent && missing.message.contains("cannot open"), "\(missing)")
    }

    @Test func downloadToAFileAndRefuseTooLarge() throws {
        let client = server.client()
        let folder = TemporaryFolder(prefix: "s3client-download")
        let bytes = Self.randomBytes(1_234_567)
        try client.put("models/model.tar.gz", bytes: bytes, contentType: "application/gzip")
        let path = folder.file("model.tar.gz")
        #expect(try client.download("models/model.tar.gz", to: path, maxBytes: 2_000_000) == Int64(bytes.count))
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == bytes)

        // Too large: refused, the file there before is untouched and no temporary file is left.
        folder.write("model.tar.gz", "the old model")
        let refusal = try #require(throws: S3Error.self) { try client.download("models/model.tar.gz", to: path, maxBytes: 1_000_000) }
        #expect(refusal.isPermanent && refusal.message.contains("larger than the 1000000 bytes"), "\(refusal)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "the old model")
        #expect(folder.names() == ["model.tar.gz"])
        let getRefusal = try #require(throws: S3Error.self) { try client.get("models/model.tar.gz", maxBytes: 1000) }
        #expect(getRefusal.isPermanent && getRefusal.operation == "GET")

        let missing = try #require(throws: S3Error.self) { try client.download("models/none", to: path, maxBytes: 10) }
        #expect(missing.status == 404 && missing.code == "NoSuchKey" && missing.isPermanent, "\(missing)")
        #expect(folder.names() == ["model.tar.gz"])
    }

    @Test func headPresentAndAbsent() throws {
        let client = server.client()
        let before = Int64(Date().timeIntervalSince1970)
        try client.put("head/present.csv", bytes: Array("time,l1_p\n".utf8), contentType: "text/csv")
        let object = try #require(try client.head("head/present.csv"))
        #expect(object.key == "head/present.csv" && object.size == 10)
        #expect(abs(object.lastModified - before) < 120, "\(object)")
        #expect(object.etag.count == 32 && !object.etag.contains("\""), "\(object)")
        #expect(try client.list(prefix: "head/").first?.etag == object.etag)
        #expect(try client.head("head/absent.csv") == nil)
    }

    @Test func listFollowsContinuationTokens() throws {
        let client = server.client(pageSize: 7)
        let keys = (0..<25).map { String(format: "pages/key-%02d.csv", $0) }
        for key in keys.shuffled() { try client.put(key, bytes: Array(key.utf8), contentType: "text/csv") }
        try client.put("pages-not/x.csv", bytes: [1], contentType: "text/csv")
        let listed = try client.list(prefix: "pages/")
        #expect(listed.map(\.key) == keys)  // each once, in key order, across 4 pages
        #expect(listed.allSatisfy { $0.size == Int64($0.key.utf8.count) })
        #expect(try client.list(prefix: "pages/nothing-here").isEmpty)
    }

    @Test func keysWithEqualsSpacesAndMore() throws {
        let client = server.client()
        let keys = ["data/minutes/device=SE1/date=2026-12-06/hour=05.csv", "data/with space/a+b=c&d;e,f.csv",
                    "data/ünïcode/ø.csv", "data/~tilde_-.x/(1)!*'@$.csv", "data/./dots/../x.csv"]
        for key in keys {
            try client.put(key, bytes: Array(key.utf8), contentType: "text/csv")
            #expect(try client.get(key, maxBytes: 1000) == Array(key.utf8), "\(key)")
            #expect(try client.head(key)?.size == Int64(key.utf8.count), "\(key)")
        }
        #expect(Set(try client.list(prefix: "data/").map(\.key)) == Set(keys))
        #expect(try client.list(prefix: "data/minutes/device=SE1/").map(\.key) == [keys[0]])
    }

    @Test func wrongSecretIsPermanentAndNeverShown() throws {
        let wrong = "WRONG" + server.credentials.secretAccessKey.dropFirst(5)
        let error = try #require(throws: S3Error.self) {
            try server.client(secret: wrong).put("denied.csv", bytes: [1, 2, 3], contentType: "text/csv")
        }
        #expect(error.status == 403 && error.code == "SignatureDoesNotMatch" && error.isPermanent, "\(error)")
        #expect(error.remedy.contains("secret access key from moto IAM"))
        for text in [error.description, String(reflecting: error)] {
            #expect(!text.contains(wrong) && !text.contains(server.credentials.secretAccessKey), "\(text)")
            #expect(text.contains("PUT") && text.contains("s3://clemap-test/denied.csv") && text.contains("127.0.0.1:\(server.port)"))
        }
        #expect(try server.client().head("denied.csv") == nil)
    }

    @Test func missingBucketIsPermanent() throws {
        var location = server.location
        location.bucket = "no-such-bucket"
        let client = S3Client(location: location, credentials: server.credentials, timeoutSeconds: 10)
        let error = try #require(throws: S3Error.self) { try client.list(prefix: "") }
        #expect(error.status == 404 && error.code == "NoSuchBucket" && error.isPermanent, "\(error)")
    }

    /// Several threads at once on one client: each request has its own handle.
    @Test func concurrentRequests() async throws {
        let client = server.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<8 {
                group.addTask {
                    let bytes = Self.randomBytes(100_000 + n)
                    try client.put("concurrent/\(n)", bytes: bytes, contentType: "application/octet-stream")
                    #expect(try client.get("concurrent/\(n)", maxBytes: 200_000) == bytes)
                }
            }
            try await group.waitForAll()
        }
        #expect(try client.list(prefix: "concurrent/").count == 8)
    }
}

/// Servers of their own: one that goes away, one with a certificate no system CA signed.
@Suite(.timeLimit(.minutes(1)))
struct OwnServerTests {
    @Test func stoppedServerIsTransient() throws {
        let server = try MotoServer()
        defer { server.stop() }
        let client = server.client()
        try client.put("before-stop", bytes: [1], contentType: "text/plain")
        server.stop()
        let error = try #require(throws: S3Error.self) { try client.get("before-stop", maxBytes: 10) }
        #expect(!error.isPermanent && error.status == nil, "\(error)")
        #expect(error.description.contains("127.0.0.1:\(server.port)") && error.description.contains("connect"), "\(error)")
    }

    /// TLS is verified by default: a self-signed certificate is refused for good, unless it is the CA file given.
    @Test func selfSignedCertificateNeedsTheCAFile() throws {
        let server = try MotoServer(tls: true)
        defer { server.stop() }
        let refused = try #require(throws: S3Error.self) { try server.client().head("any") }
        #expect(refused.isPermanent && refused.status == nil && refused.remedy.contains("CA file"), "\(refused)")
        var location = server.location
        location.caFile = server.caFile
        // Trusted now, so the request reaches S3, which knows no such bucket yet: an HTTP answer, not a TLS failure.
        let answered = try #require(throws: S3Error.self) {
            try S3Client(location: location, credentials: server.credentials, timeoutSeconds: 10).list(prefix: "")
        }
        #expect(answered.status == 404 && answered.code == "NoSuchBucket", "\(answered)")
    }
}
