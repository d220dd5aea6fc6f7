// SPDX-License-Identifier: Apache-2.0

/// Why an S3 request (or finding the credentials) failed: what was asked of whom, what came back, whether
/// trying again can help, and what to fix.
///
/// Never holds the secret access key, the session token or the signature.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    /// "PUT", "GET", "HEAD", "LIST", or "CREDENTIALS" when no request was made.
    public var operation: String
    /// The bucket; empty for a credentials error.
    public var bucket: String
    /// The object key, or the prefix of a listing; nil for a credentials error.
    public var key: String?
    /// The server asked, e.g. "s3.eu-central-1.amazonaws.com" or "127.0.0.1:9000"; empty when none was.
    public var host: String
    /// The HTTP status, nil when no answer came (network, DNS, timeout, TLS) or none was asked for.
    public var status: Int?
    /// S3's `<Code>`, e.g. "SignatureDoesNotMatch", "NoSuchBucket", "SlowDown".
    public var code: String?
    /// What happened: S3's `<Message>`, curl's error, or ours.
    public var message: String
    /// True when the same request will fail again until something is changed (credentials, bucket, region,
    /// clock, permissions); false for a failure that may pass later (network, timeouts, 5xx, throttling).
    public var isPermanent: Bool
    /// What to do about it, e.g. "check the secret access key from config.ini [CLOUD]".
    public var remedy: String

    public init(operation: String, bucket: String, key: String?, host: String, status: Int?, code: String?,
                message: String, isPermanent: Bool, remedy: String) {
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.host = host
        self.status = status
        self.code = code
        self.message = message
        self.isPermanent = isPermanent
        self.remedy = remedy
    }

    /// One line: "S3 PUT s3://bucket/key at host: HTTP 403 SignatureDoesNotMatch: <message> (permanent). Fix: <remedy>".
    public var description: String {
        var text = "S3 \(operation)"
        if !bucket.isEmpty { text += " s3://\(bucket)/\(key ?? "")" }
        if !host.isEmpty { text += " at \(host)" }
        text += ": "
        if let status { text += "HTTP \(status) " }
        if let code { text += "\(code) " }
        if status != nil || code != nil { text += "- " }
        text += (message.hasSuffix(".") ? String(message.dropLast()) : message) + (isPermanent ? " (permanent)" : " (transient, retry later)")
        return text + ". Fix: " + remedy
    }
}

extension S3Error {
    /// Whether an S3 answer is permanent, and its remedy. `credentials` names where the keys came from.
    static func classify(operation: String, status: Int, code: String?, credentials: String) -> (isPermanent: Bool, remedy: String) {
        let action = ["PUT": "s3:PutObject", "LIST": "s3:ListBucket"][operation] ?? "s3:GetObject"
        switch (status, code ?? "") {
        case (_, "SlowDown"), (429, _), (503, _):
            return (false, "none needed: S3 asks to slow down; retry later")
        case (_, "RequestTimeout"), (_, "InternalError"), (500..., _):
            return (false, "none needed if it passes: a server-side failure; retry later")
        case (_, "RequestTimeTooSkewed"):
            return (true, "synchronise the clock (NTP): S3 refuses a request more than 15 minutes off its time")
        case (_, "SignatureDoesNotMatch"):
            return (true, "check the secret access key from \(credentials)")
        case (_, "InvalidAccessKeyId"):
            return (true, "check the access key ID from \(credentials)")
        case (_, "ExpiredToken"), (_, "InvalidToken"), (_, "TokenRefreshRequired"):
            return (true, "renew the session token from \(credentials)")
        case (_, "AccessDenied"):
            return (true, "allow \(action) on this bucket for the key from \(credentials) (IAM or bucket policy)")
        case (_, "NoSuchBucket"):
            return (true, "check the bucket name, region and endpoint")
        case (_, "AuthorizationHeaderMalformed"), (_, "PermanentRedirect"), (301, _), (307, _):
            return (true, "check the region and endpoint: the bucket is elsewhere")
        case (401, _), (403, _):
            return (true, "check the keys from \(credentials), that they allow \(action), and the clock")
        case (404, _):
            return (true, "check the key")
        default:
            return (true, "check the request: S3 refused it as given")
        }
    }
}
