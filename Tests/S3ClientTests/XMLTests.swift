// SPDX-License-Identifier: Apache-2.0

@testable import S3Client
import Testing

/// The hand-written reader of S3's ListBucketResult and Error documents.
@Suite struct XMLTests {
    /// A truncated page as AWS writes it: flags before the entries, quotes of the ETag as entities, a key with
    /// all five entities and a carriage return as a character reference.
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>clemapbucket</Name><Prefix>data/</Prefix>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+</NextContinuationToken>\
        <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>\
        <Contents><Key>data/minutes/device=SE1/date=2026-12-06/hour=05.csv</Key><LastModified>2026-12-06T05:28:37.000Z</LastModified>\
        <ETag>&quot;b1946ac92492d2347c6235b4d2611184&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>6</Size>\
        <Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>\
        <Contents><Key>data/a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;&#x0D;&#10;ü</Key><LastModified>1970-01-01T00:00:01.000Z</LastModified>\
        <ETag>"abc-2"</ETag><Size>5000000000</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
        """

    @Test func listPage() throws {
        let page = try #require(S3XML.listPage(Array(Self.page.utf8)))
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+")
        #expect(page.objects == [
            S3Object(key: "data/minutes/device=SE1/date=2026-12-06/hour=05.csv", size: 6, lastModified: 1_796_534_917,
                     etag: "b1946ac92492d2347c6235b4d2611184"),
            S3Object(key: "data/a & b <c> \"d\" 'e'\r\nü", size: 5_000_000_000, lastModified: 1, etag: "abc-2"),
        ])
    }

    /// moto's last page: flags before entries, `<Prefix></Prefix>`, no token.
    @Test func lastPageAndEmptyPage() throws {
        let last = """
            <?xml version="1.0" encoding="utf-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><Contents>\
            <Key>k</Key><LastModified>2026-12-06T05:28:37.000Z</LastModified><ETag>"e"</ETag><Size>1</Size></Contents>\
            <Name>b</Name><Prefix></Prefix><MaxKeys>7</MaxKeys><KeyCount>1</KeyCount></ListBucketResult>
            """
        let page = try #require(S3XML.listPage(Array(last.utf8)))
        #expect(!page.isTruncated && page.nextContinuationToken == nil && page.objects.map(\.key) == ["k"])
        let empty = #"<ListBucketResult><Name>b</Name><Prefix/><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"#
        #expect(S3XML.listPage(Array(empty.utf8)) == S3XML.ListPage(objects: [], isTruncated: false, nextContinuationToken: nil))
    }

    @Test func notAListing() {
        #expect(S3XML.listPage(Array("<html>502 Bad Gateway</html>".utf8)) == nil)
        #expect(S3XML.listPage(Array("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>".utf8)) == nil)  // no size
    }

    @Test func errorDocument() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message>\
            <AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign><RequestId>1</RequestId></Error>
            """
        let (code, message) = S3XML.error(Array(xml.utf8))
        #expect(code == "SignatureDoesNotMatch")
        #expect(message == "The request signature we calculated does not match & so on")
        let none = S3XML.error(Array("Bad Gateway".utf8))
        #expect(none.code == nil && none.message == nil)
    }

    @Test func elementNamesMustMatchWhole() {
        let xml = Array("<KeyCount>3</KeyCount><Key a=\"1\">k</Key><Keys/>".utf8)[...]
        #expect(S3XML.value("Key", in: xml) == "k")
        #expect(S3XML.value("Keys", in: xml) == "")
        #expect(S3XML.decodeEntities(Array("&amp;amp; &unknown; &#65;&#x42; & alone".utf8)[...]) == "&amp; &unknown; AB & alone")
    }
}
