// SPDX-License-Identifier: Apache-2.0

/// One object as a listing or HEAD describes it.
public struct S3Object: Sendable, Hashable {
    /// The full key, e.g. "data/minutes/device=SE1/date=2026-12-06/hour=05.csv".
    public var key: String
    /// Bytes.
    public var size: Int64
    /// When it was last written, Unix seconds (UTC); 0 when the server did not say.
    public var lastModified: Int64
    /// The entity tag without its quotes (the MD5 in hex for a single-part upload).
    public var etag: String

    public init(key: String, size: Int64, lastModified: Int64, etag: String) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }
}

/// The role: a bucket of objects to put, get and list. ``S3Client`` is the mechanism; tests can fake it.
///
/// Every call is synchronous: it blocks the calling thread until the server answers or the timeout ends, so
/// call it from a background thread, never from a cooperative task pool's thread for long.
public protocol ObjectStorage: Sendable {
    /// Stores `bytes` under `key`, replacing any object there.
    /// - Parameter contentType: the `Content-Type` to store with it, e.g. "text/csv".
    /// - Throws: ``S3Error``; ``S3Error/isPermanent`` says whether trying again can help.
    func put(_ key: String, bytes: [UInt8], contentType: String) throws(S3Error)

    /// Stores the file at `path` under `key`, streamed from the file (read twice: once for its SHA-256, once to
    /// send), so a large object never sits in memory. The file must not change meanwhile.
    /// - Throws: ``S3Error``, also for a file that cannot be read.
    func put(_ key: String, file path: String, contentType: String) throws(S3Error)

    /// The whole object `key`, read into memory.
    /// - Parameter maxBytes: refuse (throw) an object larger than this, rather than fill the memory.
    /// - Throws: ``S3Error``, with status 404 and code "NoSuchKey" when there is no such object.
    func get(_ key: String, maxBytes: Int) throws(S3Error) -> [UInt8]

    /// Streams the object `key` into the file `path` and returns its size. The bytes go to a temporary file
    /// beside `path`, which is fsynced and renamed over `path`: a failure leaves `path` as it was.
    /// - Parameter maxBytes: refuse an object larger than this; `path` is then untouched.
    /// - Throws: ``S3Error``, also for a file that cannot be written.
    func download(_ key: String, to path: String, maxBytes: Int) throws(S3Error) -> Int64

    /// The object's size, time and ETag, or nil when there is no object `key`.
    func head(_ key: String) throws(S3Error) -> S3Object?

    /// Every object whose key starts with `prefix`, in key order (UTF-8 byte order), across all pages.
    func list(prefix: String) throws(S3Error) -> [S3Object]
}
