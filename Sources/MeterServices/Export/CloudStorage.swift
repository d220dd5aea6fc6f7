// SPDX-License-Identifier: Apache-2.0
public import MeterConfig
public import S3Client

/// The object store `[CLOUD]` names, with credentials from config.ini, the environment or `~/.aws/credentials`.
public enum CloudStorage {
    public static func location(_ settings: CloudSettings) -> S3Location {
        S3Location(bucket: settings.bucket, region: settings.region, endpoint: settings.endpoint, pathStyle: settings.pathStyle,
                   caFile: settings.caFile)
    }

    /// Resolves the credentials now. - Throws: ``S3Error`` saying where credentials were looked for (never a secret).
    public static func credentials(_ settings: CloudSettings) throws(S3Error) -> S3Credentials {
        let environment = SystemdNotifier.processEnvironment()
        return try S3Credentials.resolve(accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey,
                                         environment: environment, home: environment["HOME"])
    }

    public static func open(_ settings: CloudSettings) throws(S3Error) -> any ObjectStorage {
        S3Client(location: location(settings), credentials: try credentials(settings))
    }
}
