// SPDX-License-Identifier: Apache-2.0
//
// The one file that calls libcurl: one easy handle per request, signed by curl (CURLOPT_AWS_SIGV4).

internal import CCurl
#if canImport(Glibc)
internal import Glibc
#endif


/// One request: what to send and where the answer's body goes.
struct HTTPRequest {
    enum Method: String { case get = "GET", put = "PUT", head = "HEAD" }
    /// Where a 2xx body goes, and the most bytes it may have. An error's body always goes to memory.
    enum Sink { case memory(limit: Int), file(descriptor: Int32, limit: Int), none }

    var method: Method
    var url: String
    var body: [UInt8] = []
    /// A body streamed from an open file instead: its descriptor (read with `pread` from 0), size and SHA-256.
    var bodyFile: (descriptor: Int32, size: Int64, sha256: String)?
    var contentType: String?
    var sink: Sink
}

/// What came back from the server.
struct HTTPResponse {
    var status: Int
    /// The 2xx body for a `.memory` sink; otherwise the first 64 KiB of the error document.
    var body: [UInt8]
    /// Body bytes delivered to the sink.
    var received: Int64
    var etag: String?
    /// Last-Modified (Unix seconds), Content-Length: when the server sent them.
    var lastModified: Int64?
    var contentLength: Int64?
}

/// A request that got no HTTP answer to judge, or whose body could not be taken.
struct TransportFailure: Error {
    var message: String
    var isPermanent: Bool
    var remedy: String
}

/// The connection settings shared by every request of one client.
struct CurlSession: Sendable {
    var location: S3Location
    var credentials: S3Credentials
    var timeoutSeconds: Int

    /// Sends `request`, signed, and waits for the answer. Blocks the calling thread.
    /// The corresponding C calls are `curl_easy_init`, `curl_easy_setopt`, `curl_easy_perform` (through CCurl).
    func perform(_ request: HTTPRequest) throws(TransportFailure) -> HTTPResponse {
        // curl keeps these until the handle is cleaned up, so they are made first (their defers run last), and
        // the error text is allocated: an array's address is valid only during one call.
        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorText.initialize(to: 0)
        defer { errorText.deallocate() }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { ccurl_slist_free_all(headers) }
        // libcurl is loaded on first use (CCurl: a meter that exports nothing never maps it).
        if let failure = ccurl_load() {
            throw TransportFailure(message: String(cString: failure), isPermanent: true, remedy: "install libcurl (apt install libcurl4)")
        }
        guard let handle = ccurl_easy_init() else {
            throw TransportFailure(message: "libcurl could not make a handle", isPermanent: true, remedy: "check the libcurl installation")
        }
        defer { ccurl_easy_cleanup(handle) }
        let transfer = Transfer(handle: handle, upload: request.body, uploadFile: request.bodyFile?.descriptor, sink: request.sink)
        // curl 7.88 signs with the hash of an empty body unless this header is given, and never sends it, while
        // S3 requires it (curl 8 adds it itself). Every header given here is signed, with host and x-amz-date.
        var lines = ["x-amz-content-sha256: \(request.bodyFile?.sha256 ?? S3Encoding.sha256Hex(request.body))"]
        if let token = credentials.sessionToken { lines.append("x-amz-security-token: \(token)") }
        if let type = request.contentType, !type.isEmpty { lines.append("Content-Type: \(type)") }
        for line in lines { headers = ccurl_slist_append(headers, line) }
        let context = Unmanaged.passUnretained(transfer).toOpaque()

        // Never CURLOPT_VERBOSE: it prints the Authorization header and the session token.
        _ = ccurl_setopt_string(handle, CURLOPT_URL, request.url)
        _ = ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        // Keys may hold "./" and "../": sent as they are, not squashed as URL dot segments.
        _ = ccurl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
        // Always region and service: otherwise curl takes them from the host name ("127", "0" for 127.0.0.1).
        guard ccurl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(location.signingRegion):s3") == CURLE_OK else {
            throw TransportFailure(message: "this libcurl cannot sign for AWS (CURLOPT_AWS_SIGV4)", isPermanent: true,
                                   remedy: "install libcurl 7.75 or newer")
        }
        // Name and password apart rather than CURLOPT_USERPWD's "id:secret", so no ':' is ever misread.
        _ = ccurl_setopt_string(handle, CURLOPT_USERNAME, credentials.accessKeyID)
        _ = ccurl_setopt_string(handle, CURLOPT_PASSWORD, credentials.secretAccessKey)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = location.caFile, !caFile.isEmpty { _ = ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        // Callers run requests on several threads: no signals (the resolver is threaded, so DNS still times out).
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // No total limit (a 5 MB upload on a slow uplink is fine); a stall or a trickle under 1 KiB/s is not.
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, timeoutSeconds)
        _ = ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1024)
        _ = ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, timeoutSeconds)
        _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorText)
        _ = ccurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, receiveBody)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, receiveHeader)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        _ = ccurl_setopt_long(handle, CURLOPT_FILETIME, 1)
        switch request.method {
        case .get: break
        case .head: _ = ccurl_setopt_long(handle, CURLOPT_NOBODY, 1)
        case .put:
            _ = ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = ccurl_setopt_read_function(handle, sendBody)
            _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, context)
            _ = ccurl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.bodyFile?.size ?? Int64(request.body.count)))
        }

        let result = withExtendedLifetime(transfer) { ccurl_easy_perform(handle) }
        if transfer.tooLarge {
            throw TransportFailure(message: "the object is larger than the \(transfer.limit) bytes allowed (maxBytes)",
                                   isPermanent: true, remedy: "check the key, or allow more bytes")
        }
        if transfer.readErrno != 0 {
            throw TransportFailure(message: "cannot read the file to upload: \(String(cString: strerror(transfer.readErrno)))",
                                   isPermanent: false, remedy: "check the disk")
        }
        if transfer.fileErrno != 0 {
            let code = transfer.fileErrno
            throw TransportFailure(message: "cannot write the downloaded bytes: \(String(cString: strerror(code)))",
                                   isPermanent: code != ENOSPC, remedy: code == ENOSPC ? "free disk space" : "check the target folder")
        }
        guard result == CURLE_OK else {
            let detail = String(cString: errorText)  // e.g. "Failed to connect to host port 443 after 3 ms: …"
            throw Self.transportFailure(result, message: detail.isEmpty ? String(cString: ccurl_easy_strerror(result)) : detail,
                                        host: location.host)
        }
        var status = 0, fileTime: curl_off_t = -1, length: curl_off_t = -1
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = ccurl_getinfo_off(handle, CURLINFO_FILETIME_T, &fileTime)
        _ = ccurl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        return HTTPResponse(status: status, body: transfer.body, received: transfer.received, etag: transfer.etag,
                            lastModified: fileTime >= 0 ? Int64(fileTime) : nil, contentLength: length >= 0 ? Int64(length) : nil)
    }

    /// Permanent for what only a change of settings mends (TLS trust, a malformed URL), transient otherwise:
    /// DNS, connect, timeouts and broken connections pass when the network does.
    static func transportFailure(_ code: CURLcode, message: String, host: String) -> TransportFailure {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return TransportFailure(message: message, isPermanent: true,
                                    remedy: "check the endpoint \(host) and the CA file (its certificate is not trusted)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return TransportFailure(message: message, isPermanent: true, remedy: "check the endpoint and bucket (the URL is not valid)")
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportFailure(message: message, isPermanent: false, remedy: "check the network and DNS, and the endpoint \(host)")
        default:
            return TransportFailure(message: message, isPermanent: false, remedy: "check the network and that \(host) is reachable")
        }
    }
}

/// One transfer's state, reached from curl's callbacks through their user pointer.
private final class Transfer {
    let handle: UnsafeMutableRawPointer
    let upload: [UInt8]
    let uploadFile: Int32?
    var uploaded = 0
    var readErrno: Int32 = 0
    let sink: HTTPRequest.Sink
    let limit: Int
    var body: [UInt8] = []
    var received: Int64 = 0
    var status = 0
    var tooLarge = false
    var fileErrno: Int32 = 0
    var etag: String?

    init(handle: UnsafeMutableRawPointer, upload: [UInt8], uploadFile: Int32?, sink: HTTPRequest.Sink) {
        self.handle = handle
        self.upload = upload
        self.uploadFile = uploadFile
        self.sink = sink
        switch sink {
        case .memory(let limit), .file(_, let limit): self.limit = limit
        case .none: limit = .max  // a 2xx body nobody asked for is dropped
        }
    }

    /// Takes a piece of the body; false stops the transfer (curl then fails with CURLE_WRITE_ERROR).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // The status is final once body bytes arrive (a "100 Continue" has none).
        if status == 0 { _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) }
        guard (200..<300).contains(status) else {
            body += bytes.prefix(max(0, 65_536 - body.count))
            return true
        }
        guard Int64(limit) - received >= Int64(bytes.count) else { tooLarge = true; return false }
        received += Int64(bytes.count)
        switch sink {
        case .memory: body += bytes
        case .file(let descriptor, _):
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 { if errno == EINTR { continue }; fileErrno = errno; return false }
                offset += written
            }
        case .none: break
        }
        return true
    }
}

private let receiveBody: curl_write_callback = { data, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
}

/// Keeps the ETag header (HEAD's answer has no body to read it from).
private let receiveHeader: curl_write_callback = { data, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
    if line.lowercased().hasPrefix("etag:") {
        transfer.etag = String(line.dropFirst(5).filter { $0 != "\"" && !$0.isWhitespace })
    }
    return size * count
}

private let sendBody: curl_read_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    if let descriptor = transfer.uploadFile {
        // From the file, at the offset sent so far (curl may rewind by asking again only through SEEKFUNCTION,
        // which is not set: a resend of the body fails the request instead, and the caller tries again).
        while true {
            let read = pread(descriptor, buffer, size * count, off_t(transfer.uploaded))
            if read < 0, errno == EINTR { continue }
            guard read >= 0 else { transfer.readErrno = errno; return Int(CURL_READFUNC_ABORT) }
            transfer.uploaded += read
            return read
        }
    }
    let length = min(size * count, transfer.upload.count - transfer.uploaded)
    guard length > 0 else { return 0 }
    transfer.upload.withUnsafeBytes { source in
        UnsafeMutableRawPointer(buffer!).copyMemory(from: source.baseAddress! + transfer.uploaded, byteCount: length)
    }
    transfer.uploaded += length
    return length
}
