// SPDX-License-Identifier: Apache-2.0

@testable import S3Client
import Testing

/// The text forms curl 7.88 does not make: key paths, the canonical query, the payload hash, S3's times, URLs.
@Suite struct EncodingTests {
    /// Expected forms are Python's `urllib.parse.quote(key, safe='/~')`, what boto3 sends to AWS.
    @Test(arguments: [
        ("data/minutes/device=SE1/date=2026-12-06/hour=05.csv", "data/minutes/device%3DSE1/date%3D2026-12-06/hour%3D05.csv"),
        ("a b+c", "a%20b%2Bc"),
        ("ü/ø", "%C3%BC/%C3%B8"),
        ("~-._AZaz09", "~-._AZaz09"),
        ("a%b", "a%25b"),
        ("x&y?z#w*", "x%26y%3Fz%23w%2A"),
    ])
    func keyInThePath(key: String, encoded: String) {
        #expect(S3Encoding.percentEncode(key, keepSlash: true) == encoded)
    }

    @Test func queryIsSortedAndFullyEncoded() {
        // A continuation token as AWS makes them: base64 with '/', '+' and '='.
        let query = S3Encoding.canonicalQuery([
            (name: "prefix", value: "data/x y"), (name: "max-keys", value: "7"),
            (name: "list-type", value: "2"), (name: "continuation-token", value: "1a/B+c=="),
        ])
        #expect(query == "continuation-token=1a%2FB%2Bc%3D%3D&list-type=2&max-keys=7&prefix=data%2Fx%20y")
        #expect(S3Encoding.canonicalQuery([(name: "b", value: "2"), (name: "a", value: "2"), (name: "a", value: "1")]) == "a=1&a=2&b=2")
    }

    /// FIPS 180-2's test vectors, and the empty body every GET signs.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256(text: String, hex: String) {
        #expect(S3Encoding.sha256Hex(Array(text.utf8)) == hex)
    }

    @Test func sha256OfAMillionBytes() {
        #expect(S3Encoding.sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Expected seconds from Python's `calendar.timegm`.
    @Test(arguments: [
        ("1970-01-01T00:00:00.000Z", Int64(0)),
        ("2026-12-06T05:28:37.000Z", 1_796_534_917),
        ("2000-02-29T12:00:00Z", 951_825_600),
        ("2024-03-01T00:00:00", 1_709_251_200),
        ("1969-12-31T23:59:59Z", -1),
        ("2100-03-01T00:00:00.123456Z", 4_107_542_400),
    ])
    func iso8601(text: String, seconds: Int64) {
        #expect(S3Encoding.unixSeconds(iso8601: text) == seconds)
    }

    @Test(arguments: ["", "2026-12-06", "2026-13-01T00:00:00Z", "2026-12-06T05:28:37Q", "2026-12-06 05:28:37Z", "2026-12-06T05:28:37+01:00"])
    func iso8601Refused(text: String) {
        #expect(S3Encoding.unixSeconds(iso8601: text) == nil)
    }

    @Test func urls() {
        let aws = S3Location(bucket: "clemapbucket", region: "eu-central-1")
        #expect(aws.objectURL("data/a b.csv") == "https://clemapbucket.s3.eu-central-1.amazonaws.com/data/a%20b.csv")
        #expect(aws.host == "clemapbucket.s3.eu-central-1.amazonaws.com")
        let awsPath = S3Location(bucket: "clemap.bucket", region: "eu-central-1", endpoint: "", pathStyle: true)
        #expect(awsPath.bucketURL == "https://s3.eu-central-1.amazonaws.com/clemap.bucket")
        let local = S3Location(bucket: "b", region: "", endpoint: "http://127.0.0.1:9000/", pathStyle: true)
        #expect(local.objectURL("k=1") == "http://127.0.0.1:9000/b/k%3D1")
        #expect(local.host == "127.0.0.1:9000" && local.signingRegion == "us-east-1")
        let noScheme = S3Location(bucket: "b", region: "r", endpoint: "minio.example:9000")
        #expect(noScheme.bucketURL == "https://b.minio.example:9000")
    }
}
