// SPDX-License-Identifier: Apache-2.0

internal import CNettle
#if canImport(Glibc)
internal import Glibc
#endif

/// The text forms a signed S3 request needs that curl 7.88 does not make itself.
enum S3Encoding {
    /// RFC 3986 percent-encoding as SigV4 wants it: `A-Z a-z 0-9 - . _ ~` stay, every other UTF-8 byte becomes
    /// `%XX` (upper-case hex), and `/` stays only when `keepSlash` (object keys in the path).
    ///
    /// curl never re-encodes the path for service `s3` and 7.88 signs the query as given, so what is sent is
    /// what is signed, and S3 recomputes the signature over this form.
    static func percentEncode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A query string in SigV4's canonical form: names and values percent-encoded (`/`, `=`, `+` too), the pairs
    /// sorted by encoded name, then value. curl 7.88 signs the query as written (sorting came in 8.3.0), so an
    /// unsorted query is refused with SignatureDoesNotMatch.
    static func canonicalQuery(_ parameters: [(name: String, value: String)]) -> String {
        parameters
            .map { (percentEncode($0.name, keepSlash: false), percentEncode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }  // ASCII after encoding: String order is byte order
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The SHA-256 of `bytes` in lower-case hex, for `x-amz-content-sha256`. The corresponding C calls are
    /// nettle's `sha256_init`, `sha256_update` and `sha256_digest`.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var context = sha256_ctx()
        nettle_sha256_init(&context)
        bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { nettle_sha256_update(&context, buffer.count, base) }
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_SIZE))
        nettle_sha256_digest(&context, digest.count, &digest)
        return hex(digest)
    }

    private static func hex(_ digest: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    /// The size and SHA-256 (lower-case hex) of the file open at `descriptor`, read from its start with `pread`;
    /// nil when a read fails (`errno` says why).
    static func sha256Hex(descriptor: Int32) -> (size: Int64, hex: String)? {
        var context = sha256_ctx()
        nettle_sha256_init(&context)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var offset: Int64 = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 { if errno == EINTR { continue }; return nil }
            if count == 0 { break }
            chunk.withUnsafeBufferPointer { nettle_sha256_update(&context, count, $0.baseAddress!) }
            offset += Int64(count)
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_SIZE))
        nettle_sha256_digest(&context, digest.count, &digest)
        return (offset, hex(digest))
    }

    /// Unix seconds of an ISO 8601 time as S3 writes it, UTC: "2026-12-06T05:28:37.000Z" (the fraction is
    /// dropped). nil when it is not of that form.
    static func unixSeconds(iso8601 text: String) -> Int64? {
        let c = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= c.count else { return nil }
            var value: Int64 = 0
            for byte in c[at..<at + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard c.count >= 19, c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"), c[10] == UInt8(ascii: "T"),
              c[13] == UInt8(ascii: ":"), c[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var rest = 19
        if rest < c.count, c[rest] == UInt8(ascii: ".") {
            rest += 1
            while rest < c.count, (48...57).contains(c[rest]) { rest += 1 }
        }
        guard rest == c.count || (rest + 1 == c.count && c[rest] == UInt8(ascii: "Z")) else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }
}
