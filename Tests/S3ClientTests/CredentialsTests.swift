// SPDX-License-Identifier: Apache-2.0

import MeterTesting
@testable import S3Client
import Testing

/// Where the keys come from: config.ini, then the environment, then the shared credentials file.
@Suite struct CredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE"

    /// A home folder with `.aws/credentials` holding `text`.
    static func home(_ text: String) -> TemporaryFolder {
        let home = TemporaryFolder(prefix: "s3client-home")
        home.write(".aws/credentials", text)
        return home
    }

    static let file = """
        # comment
        [default]
        aws_access_key_id = AKIADEFAULTEXAMPLE01
        aws_secret_access_key = \(secret)

        [profile meter]\r
        aws_access_key_id=AKIAMETEREXAMPLE0002\r
        aws_secret_access_key=meter-secret\r
        aws_session_token = \(token)
        ; another comment
        [half]
        aws_access_key_id = AKIAHALFEXAMPLE00003
        """

    @Test func configFirst() throws {
        let home = Self.home(Self.file)
        let found = try S3Credentials.resolve(accessKeyID: "AKIACONFIGEXAMPLE001", secretAccessKey: Self.secret,
                                              environment: ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env"], home: home.path)
        #expect(found.accessKeyID == "AKIACONFIGEXAMPLE001" && found.secretAccessKey == Self.secret && found.sessionToken == nil)
        #expect(found.source == "config.ini [CLOUD]")
    }

    @Test func environmentBeforeTheFile() throws {
        let home = Self.home(Self.file)
        let found = try S3Credentials.resolve(accessKeyID: "", secretAccessKey: nil, environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token,
        ], home: home.path)
        #expect(found.accessKeyID == "AKIAENVEXAMPLE000001" && found.sessionToken == Self.token && found.source == "environment")
    }

    @Test func sharedFileProfiles() throws {
        let home = Self.home(Self.file)
        let standard = try S3Credentials.resolve(accessKeyID: nil, secretAccessKey: nil, environment: [:], home: home.path)
        #expect(standard.accessKeyID == "AKIADEFAULTEXAMPLE01" && standard.secretAccessKey == Self.secret)
        #expect(standard.source == "\(home.path)/.aws/credentials [default]")
        let meter = try S3Credentials.resolve(accessKeyID: nil, secretAccessKey: nil, environment: ["AWS_PROFILE": "meter"], home: home.path)
        #expect(meter.accessKeyID == "AKIAMETEREXAMPLE0002" && meter.secretAccessKey == "meter-secret" && meter.sessionToken == Self.token)
        // AWS_SHARED_CREDENTIALS_FILE wins over the home folder.
        let elsewhere = TemporaryFolder(prefix: "s3client-creds")
        let path = elsewhere.write("creds", "[default]\naws_access_key_id = AKIAOTHEREXAMPLE0004\naws_secret_access_key = other\n")
        let other = try S3Credentials.resolve(accessKeyID: nil, secretAccessKey: nil, environment: ["AWS_SHARED_CREDENTIALS_FILE": path],
                                              home: home.path)
        #expect(other.accessKeyID == "AKIAOTHEREXAMPLE0004" && other.source == "\(path) [default]")
    }

    /// Half a pair is an error naming the missing half, and never shows the half given.
    @Test(arguments: [
        (Optional("AKIACONFIGEXAMPLE001"), String?.none, [String: String](), "config.ini [CLOUD] gives access_key_id but no secret_access_key"),
        (nil, secret, [:], "config.ini [CLOUD] gives secret_access_key but no access_key_id"),
        (nil, nil, ["AWS_SECRET_ACCESS_KEY": secret], "the environment gives AWS_SECRET_ACCESS_KEY but no AWS_ACCESS_KEY_ID"),
        (nil, nil, ["AWS_PROFILE": "half"], "[half] gives aws_access_key_id but no aws_secret_access_key"),
    ])
    func halfAPair(id: String?, secret: String?, environment: [String: String], message: String) throws {
        let home = Self.home(Self.file)
        let error = try #require(throws: S3Error.self) {
            try S3Credentials.resolve(accessKeyID: id, secretAccessKey: secret, environment: environment, home: home.path)
        }
        #expect(error.description.contains(message), "\(error)")
        #expect(error.isPermanent && error.operation == "CREDENTIALS")
        #expect(!error.description.contains(Self.secret))
    }

    @Test func noneFoundListsThePlaces() throws {
        let home = TemporaryFolder(prefix: "s3client-empty-home")
        let error = try #require(throws: S3Error.self) {
            try S3Credentials.resolve(accessKeyID: nil, secretAccessKey: nil, environment: [:], home: home.path)
        }
        for part in ["config.ini [CLOUD]", "AWS_ACCESS_KEY_ID", "\(home.path)/.aws/credentials: No such file or directory",
                     "set access_key_id and secret_access_key", "under [default]"] {
            #expect(error.description.contains(part), "\(part) in \(error)")
        }
        let filled = Self.home(Self.file)
        let wrongProfile = try #require(throws: S3Error.self) {
            try S3Credentials.resolve(accessKeyID: nil, secretAccessKey: nil, environment: ["AWS_PROFILE": "nope"], home: filled.path)
        }
        #expect(wrongProfile.description.contains("has no [nope] profile"), "\(wrongProfile)")
    }

    @Test func descriptionHidesTheSecretAndToken() {
        let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token,
                                        source: "environment")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(describing: credentials), String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(!text.contains(Self.secret) && !text.contains(Self.token) && !text.contains("AKIAIOSFODNN7EXAMPLE"), "\(text)")
            #expect(text.contains("AKIA…MPLE from environment"), "\(text)")
        }
    }
}
