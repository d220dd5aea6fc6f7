// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
internal import Glibc
#endif

/// ``ObjectStorage`` on S3 (or an S3-compatible server) over libcurl, signed with AWS Signature Version 4.
///
/// Synchronous and thread-safe: each call makes its own curl handle and blocks until the answer. TLS
/// certificates are always verified. Credentials never reach an error, a description or a log.
public final class S3Client: ObjectStorage {
    /// The bucket and server.
    public let location: S3Location
    private let session: CurlSession
    private let pageSize: Int

    /// - Parameters:
    ///   - timeoutSeconds: the longest wait to connect, and the longest a transfer may stall (move under
    ///     1 KiB/s) before it is abandoned with a transient error.
    ///   - pageSize: keys asked for per ListObjectsV2 page (S3 gives at most 1000).
    public init(location: S3Location, credentials: S3Credentials, timeoutSeconds: Int = 30, pageSize: Int = 1000) {
        self.location = location
        session = CurlSession(location: location, credentials: credentials, timeoutSeconds: max(1, timeoutSeconds))
        self.pageSize = min(max(1, pageSize), 1000)
    }

    public func put(_ key: String, bytes: [UInt8], contentType: String) throws(S3Error) {
        _ = try send("PUT", key: key, HTTPRequest(method: .put, url: location.objectURL(key), body: bytes, contentType: contentType, sink: .none))
    }

    public func put(_ key: String, file path: String, contentType: String) throws(S3Error) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw error("PUT", key, message: "cannot open \(path): \(String(cString: strerror(errno)))", isPermanent: true,
                        remedy: "check the file and its permissions")
        }
        defer { close(descriptor) }
        guard let (size, hash) = S3Encoding.sha256Hex(descriptor: descriptor) else {
            throw error("PUT", key, message: "cannot read \(path): \(String(cString: strerror(errno)))", isPermanent: false,
                        remedy: "check the disk")
        }
        _ = try send("PUT", key: key, HTTPRequest(method: .put, url: location.objectURL(key), bodyFile: (descriptor, size, hash),
                                                  contentType: contentType, sink: .none))
    }

    public func get(_ key: String, maxBytes: Int) throws(S3Error) -> [UInt8] {
        try send("GET", key: key, HTTPRequest(method: .get, url: location.objectURL(key), sink: .memory(limit: maxBytes))).body
    }

    public func download(_ key: String, to path: String, maxBytes: Int) throws(S3Error) -> Int64 {
        func failure(_ what: String) -> S3Error {
            let code = errno
            return error("GET", key, message: "\(what): \(String(cString: strerror(code)))", isPermanent: code != ENOSPC,
                         remedy: code == ENOSPC ? "free disk space" : "check that the folder exists and may be written")
        }
        // A temporary file beside the target, renamed over it once complete and synced: a crash or a refusal
        // leaves the old file. mkstemp makes the name unique, so downloads on several threads never collide.
        var template = Array("\(path).part-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        var isOpen = true, renamed = false
        defer {
            if isOpen { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        _ = fchmod(descriptor, 0o644)  // mkstemp's 0600 would hide the file from other readers
        let response = try send("GET", key: key, HTTPRequest(method: .get, url: location.objectURL(key),
                                                             sink: .file(descriptor: descriptor, limit: maxBytes)))
        guard fsync(descriptor) == 0 else { throw failure("fsync of \(temporary) failed") }
        close(descriptor)
        isOpen = false
        guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to \(path)") }
        renamed = true
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 { fsync(folderDescriptor); close(folderDescriptor) }  // makes the rename durable
        return response.received
    }

    public func head(_ key: String) throws(S3Error) -> S3Object? {
        let response = try send("HEAD", key: key, HTTPRequest(method: .head, url: location.objectURL(key), sink: .none), absentIsNil: true)
        guard response.status != 404 else { return nil }
        return S3Object(key: key, size: response.contentLength ?? 0, lastModified: response.lastModified ?? 0, etag: response.etag ?? "")
    }

    public func list(prefix: String) throws(S3Error) -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            var query = [("list-type", "2"), ("max-keys", String(pageSize))]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let token { query.append(("continuation-token", token)) }
            let url = location.bucketURL + "/?" + S3Encoding.canonicalQuery(query.map { (name: $0.0, value: $0.1) })
            let response = try send("LIST", key: prefix, HTTPRequest(method: .get, url: url, sink: .memory(limit: 16 << 20)))
            guard let page = S3XML.listPage(response.body) else {
                throw error("LIST", prefix, status: response.status, message: "the answer is not a ListBucketResult document",
                            isPermanent: false, remedy: "check that the endpoint is an S3 server")
            }
            objects += page.objects
            token = page.isTruncated ? page.nextContinuationToken : nil
            // A truncated page without a new token would repeat forever.
            if page.isTruncated && (token == nil || !seen.insert(token!).inserted) {
                throw error("LIST", prefix, status: response.status, message: "a truncated page without a new continuation token",
                            isPermanent: false, remedy: "retry later; if it persists, the server's listing is broken")
            }
        } while token != nil
        return objects
    }

    /// Performs `request`; a status outside 2xx (but 404 when `absentIsNil`) becomes an ``S3Error``.
    private func send(_ operation: String, key: String?, _ request: HTTPRequest, absentIsNil: Bool = false) throws(S3Error) -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try session.perform(request)
        } catch {
            throw self.error(operation, key, message: error.message, isPermanent: error.isPermanent, remedy: error.remedy)
        }
        if (200..<300).contains(response.status) || (absentIsNil && response.status == 404) { return response }
        let (code, message) = S3XML.error(response.body)
        let (isPermanent, remedy) = S3Error.classify(operation: operation, status: response.status, code: code,
                                                     credentials: session.credentials.source)
        throw error(operation, key, status: response.status, code: code, message: message ?? "no error document",
                    isPermanent: isPermanent, remedy: remedy)
    }

    /// An error about this bucket, with the secret and the token blotted out of the message should a server echo them.
    private func error(_ operation: String, _ key: String?, status: Int? = nil, code: String? = nil, message: String,
                       isPermanent: Bool, remedy: String) -> S3Error {
        var message = message
        for secret in [session.credentials.secretAccessKey, session.credentials.sessionToken ?? ""] where !secret.isEmpty {
            message = message.replacing(secret, with: "<redacted>")
        }
        return S3Error(operation: operation, bucket: location.bucket, key: key, host: location.host, status: status, code: code,
                       message: message, isPermanent: isPermanent, remedy: remedy)
    }
}
