// SPDX-License-Identifier: Apache-2.0

/// Reads the two documents S3 answers with, `ListBucketResult` and `Error`, without an XML library (the only
/// one is in full Foundation). Not a general parser: it finds `<Name>…</Name>` in the bytes, which suffices
/// because S3 nests no element inside one of the same name and escapes `<` and `&` in text.
enum S3XML {
    /// One page of ListObjectsV2.
    struct ListPage: Equatable {
        var objects: [S3Object]
        var isTruncated: Bool
        var nextContinuationToken: String?
    }

    /// The page in a `ListBucketResult` document; nil when `xml` is not one or an entry lacks a key or size.
    static func listPage(_ xml: [UInt8]) -> ListPage? {
        let all = xml[...]
        guard find("<ListBucketResult", in: all) != nil else { return nil }
        var objects: [S3Object] = []
        for entry in elements("Contents", in: all) {
            guard let key = value("Key", in: entry), let size = value("Size", in: entry).flatMap({ Int64($0) }) else { return nil }
            var etag = value("ETag", in: entry) ?? ""
            if etag.count >= 2, etag.hasPrefix("\""), etag.hasSuffix("\"") { etag = String(etag.dropFirst().dropLast()) }
            let modified = value("LastModified", in: entry).flatMap { S3Encoding.unixSeconds(iso8601: $0) } ?? 0
            objects.append(S3Object(key: key, size: size, lastModified: modified, etag: etag))
        }
        // The flags are safe to look for in the whole document: no element inside Contents has their names,
        // and a key's text cannot hold a `<`.
        let token = value("NextContinuationToken", in: all)
        return ListPage(objects: objects, isTruncated: value("IsTruncated", in: all) == "true",
                        nextContinuationToken: token?.isEmpty == true ? nil : token)
    }

    /// `<Code>` and `<Message>` of an S3 `Error` document; both nil when `xml` is not one.
    static func error(_ xml: [UInt8]) -> (code: String?, message: String?) {
        guard let body = elements("Error", in: xml[...]).first else { return (nil, nil) }
        return (value("Code", in: body), value("Message", in: body))
    }

    /// The decoded text of the first `<name>` element in `xml`.
    static func value(_ name: String, in xml: ArraySlice<UInt8>) -> String? {
        elements(name, in: xml).first.map(decodeEntities)
    }

    /// The inner bytes of each `<name>…</name>` in `xml`, in order (`<name/>` counts as empty).
    static func elements(_ name: String, in xml: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var found: [ArraySlice<UInt8>] = []
        var rest = xml
        let open = Array("<\(name)".utf8), close = Array("</\(name)>".utf8)
        while let start = find(open, in: rest) {
            // The name must end there: `<Key>` is not `<KeyCount>`.
            guard start.upperBound < rest.endIndex, let end = rest[start.upperBound...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let next = rest[start.upperBound]
            guard next == UInt8(ascii: ">") || next == UInt8(ascii: " ") || next == UInt8(ascii: "/") else {
                rest = rest[start.upperBound...]
                continue
            }
            if rest[end - 1] == UInt8(ascii: "/") {
                found.append(rest[end..<end])
                rest = rest[(end + 1)...]
                continue
            }
            guard let stop = find(close, in: rest[(end + 1)...]) else { break }
            found.append(rest[(end + 1)..<stop.lowerBound])
            rest = rest[stop.upperBound...]
        }
        return found
    }

    /// Text with the five XML entities (`&amp; &lt; &gt; &quot; &apos;`) and numeric references (`&#13;`,
    /// `&#x0D;`, which S3 uses for control characters in keys) replaced by their characters.
    static func decodeEntities(_ text: ArraySlice<UInt8>) -> String {
        guard text.contains(UInt8(ascii: "&")) else { return String(decoding: text, as: UTF8.self) }
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            guard text[i] == UInt8(ascii: "&"), let semicolon = text[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                out.append(text[i]); i += 1; continue
            }
            let name = String(decoding: text[(i + 1)..<semicolon], as: UTF8.self)
            let named: [String: UInt32] = ["amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27]
            var code = named[name]
            if code == nil, name.hasPrefix("#x") { code = UInt32(name.dropFirst(2), radix: 16) }
            else if code == nil, name.hasPrefix("#") { code = UInt32(name.dropFirst(1)) }
            guard let code, let scalar = Unicode.Scalar(code) else { out.append(text[i]); i += 1; continue }
            out += Array(String(Character(scalar)).utf8)
            i = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first place `needle` occurs in `haystack`.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
            i += 1
        }
        return nil
    }

    static func find(_ needle: String, in haystack: ArraySlice<UInt8>) -> Range<Int>? { find(Array(needle.utf8), in: haystack) }
}
