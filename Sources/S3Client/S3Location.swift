// SPDX-License-Identifier: Apache-2.0

/// Where the objects live: a bucket, its region, and the server that holds it.
public struct S3Location: Sendable, Hashable {
    /// The bucket's name, e.g. "clemapbucket".
    public var bucket: String
    /// The bucket's region, e.g. "eu-central-1". It is part of every signature, so a wrong one is refused.
    /// Empty means "us-east-1", the region S3-compatible servers (MinIO, moto) sign with.
    public var region: String
    /// The server, e.g. "http://127.0.0.1:9000" or "https://minio.example" (https when no scheme is given).
    /// nil or empty: AWS itself, `https://s3.<region>.amazonaws.com`.
    public var endpoint: String?
    /// The bucket goes in the path (`https://host/bucket/key`) instead of the host name (`https://bucket.host/key`).
    /// S3-compatible servers on an IP address need it, and so do bucket names with dots over https.
    public var pathStyle: Bool
    /// A PEM file of CA certificates to verify the server's certificate with, instead of the system's.
    public var caFile: String?

    /// - Parameters:
    ///   - endpoint: nil or empty for AWS; otherwise the server's URL, e.g. "http://127.0.0.1:9000".
    ///   - pathStyle: address the bucket in the path rather than the host name.
    ///   - caFile: a PEM bundle to verify the server with; nil uses the system's CA certificates.
    public init(bucket: String, region: String, endpoint: String? = nil, pathStyle: Bool = false, caFile: String? = nil) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.caFile = caFile
    }
}

extension S3Location {
    /// The region in the signature's scope.
    var signingRegion: String { region.isEmpty ? "us-east-1" : region }

    /// The bucket's URL without a trailing slash; keys and queries are appended to it.
    var bucketURL: String {
        var base = endpoint ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        if base.isEmpty { base = "https://s3.\(signingRegion).amazonaws.com" }
        if base.firstRange(of: "://") == nil { base = "https://" + base }
        if pathStyle { return base + "/" + bucket }
        let hostStart = base.firstRange(of: "://")!.upperBound
        return String(base[..<hostStart]) + bucket + "." + String(base[hostStart...])
    }

    /// The host (and port) the requests go to, as errors name it: "s3.eu-central-1.amazonaws.com", "127.0.0.1:9000".
    var host: String {
        let url = bucketURL
        let start = url.firstRange(of: "://")?.upperBound ?? url.startIndex
        let rest = url[start...]
        return String(rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)])
    }

    /// The URL of the object `key`, the key percent-encoded (curl signs the path exactly as given).
    func objectURL(_ key: String) -> String { bucketURL + "/" + S3Encoding.percentEncode(key, keepSlash: true) }
}
