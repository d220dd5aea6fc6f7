// SPDX-License-Identifier: Apache-2.0

@testable import S3Client
import Testing

/// Which S3 answers are worth retrying, what each tells the user to fix, and what a description shows.
@Suite struct ErrorTests {
    @Test(arguments: [
        // (operation, status, code, permanent, a word of the remedy)
        ("PUT", 403, "SignatureDoesNotMatch", true, "secret access key from config.ini [CLOUD]"),
        ("PUT", 403, "InvalidAccessKeyId", true, "access key ID from config.ini [CLOUD]"),
        ("PUT", 403, "AccessDenied", true, "s3:PutObject"),
        ("LIST", 403, "AccessDenied", true, "s3:ListBucket"),
        ("GET", 403, "RequestTimeTooSkewed", true, "synchronise the clock"),
        ("PUT", 400, "ExpiredToken", true, "session token"),
        ("HEAD", 403, nil, true, "s3:GetObject"),
        ("PUT", 401, nil, true, "keys from config.ini [CLOUD]"),
        ("LIST", 404, "NoSuchBucket", true, "bucket name, region and endpoint"),
        ("GET", 404, "NoSuchKey", true, "check the key"),
        ("PUT", 301, "PermanentRedirect", true, "region and endpoint"),
        ("PUT", 400, "AuthorizationHeaderMalformed", true, "region and endpoint"),
        ("PUT", 400, "InvalidArgument", true, "refused it as given"),
        ("PUT", 400, "RequestTimeout", false, "retry later"),
        ("PUT", 503, "SlowDown", false, "slow down"),
        ("GET", 429, nil, false, "slow down"),
        ("GET", 500, "InternalError", false, "retry later"),
        ("GET", 502, nil, false, "retry later"),
    ] as [(String, Int, String?, Bool, String)])
    func classification(operation: String, status: Int, code: String?, permanent: Bool, remedy: String) {
        let verdict = S3Error.classify(operation: operation, status: status, code: code, credentials: "config.ini [CLOUD]")
        #expect(verdict.isPermanent == permanent)
        #expect(verdict.remedy.contains(remedy), "\(verdict.remedy)")
    }

    @Test func descriptionNamesEverythingNeeded() {
        let error = S3Error(operation: "PUT", bucket: "clemapbucket", key: "data/x.csv", host: "s3.eu-central-1.amazonaws.com",
                            status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match",
                            isPermanent: true, remedy: "check the secret access key from config.ini [CLOUD]")
        #expect(error.description == "S3 PUT s3://clemapbucket/data/x.csv at s3.eu-central-1.amazonaws.com: HTTP 403 "
            + "SignatureDoesNotMatch - The request signature we calculated does not match (permanent). "
            + "Fix: check the secret access key from config.ini [CLOUD]")
        let network = S3Error(operation: "GET", bucket: "b", key: "k", host: "127.0.0.1:9", status: nil, code: nil,
                              message: "Couldn't connect to server", isPermanent: false, remedy: "check the network")
        #expect(network.description == "S3 GET s3://b/k at 127.0.0.1:9: Couldn't connect to server (transient, retry later). Fix: check the network")
    }
}
