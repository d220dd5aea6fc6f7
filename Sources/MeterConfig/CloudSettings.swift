// SPDX-License-Identifier: Apache-2.0

/// `[CLOUD]`: the exporter to S3 (or any S3-compatible store: MinIO, Ceph, moto) and the model updates from it.
///
/// Off until configured (`enabled = true` and a `bucket`). Object keys are kept to `[A-Za-z0-9-._~/=]`, so that
/// what is signed is what is sent. The secret is never logged, printed or put in an error message.
public struct CloudSettings: Sendable, Hashable {
    /// `enabled`: `true` or `false`, default `false`.
    public var enabled: Bool
    /// `bucket`: the bucket's name (3–63 of `a-z 0-9 . -`); required when enabled.
    public var bucket: String
    /// `region`: e.g. `eu-central-2`, default `us-east-1`; signed into every request.
    public var region: String
    /// `endpoint`: empty for AWS, else the store's base URL, e.g. `https://minio.local:9000`.
    public var endpoint: String?
    /// `path_style`: `true` for `<endpoint>/<bucket>/<key>` (MinIO, Ceph, moto), default `false` (virtual hosts).
    public var pathStyle: Bool
    /// `ca_file`: a PEM bundle to verify the store's TLS certificate with, instead of the system's.
    public var caFile: String?
    /// `data_prefix`: where the minute rows go, default `data/`: `<data_prefix>minutes/device=<hw_serial>/…`.
    public var dataPrefix: String
    /// `training_key`: the object a training-data request writes, default `data/Clemap_train.csv`.
    public var trainingKey: String
    /// `model_prefix`: where new `model.tar.gz` files are looked for, default `output/`; empty: no model updates.
    public var modelPrefix: String
    /// `poll_interval_sec`: seconds between looks at `model_prefix`, 60…604800, default 3600.
    public var pollIntervalSeconds: Int
    /// `access_key_id` and `secret_access_key`: both or neither; without them the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), else `~/.aws/credentials`.
    public var accessKeyID: String?
    public var secretAccessKey: String?
    /// `[INFO] hw_serial`: the device's partition in the lake; required when enabled.
    public var device: String

    public init(enabled: Bool = false, bucket: String = "", region: String = "us-east-1", endpoint: String? = nil,
                pathStyle: Bool = false, caFile: String? = nil, dataPrefix: String = "data/",
                trainingKey: String = "data/Clemap_train.csv", modelPrefix: String = "output/", pollIntervalSeconds: Int = 3600,
                accessKeyID: String? = nil, secretAccessKey: String? = nil, device: String = "") {
        self.enabled = enabled; self.bucket = bucket; self.region = region; self.endpoint = endpoint
        self.pathStyle = pathStyle; self.caFile = caFile; self.dataPrefix = dataPrefix; self.trainingKey = trainingKey
        self.modelPrefix = modelPrefix; self.pollIntervalSeconds = pollIntervalSeconds
        self.accessKeyID = accessKeyID; self.secretAccessKey = secretAccessKey; self.device = device
    }

    /// The characters object keys and prefixes may hold: sent as they are, so signed as they are.
    public static func isKeySafe(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { s in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "-._~/=".unicodeScalars.contains(s))
        }
    }

    /// S3's rule for new bucket names: 3–63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit.
    public static func isBucketName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (3...63).contains(scalars.count) else { return false }
        func alnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        return scalars.allSatisfy { alnum($0) || $0 == "." || $0 == "-" } && alnum(scalars.first!) && alnum(scalars.last!)
    }

    /// One line for `config check` and the start log; the secret shows only as `set`.
    public var summary: String {
        guard enabled else { return "cloud: off" }
        let credentials = accessKeyID.map { "access key \($0) and its secret from config.ini" }
            ?? "credentials from the environment or ~/.aws/credentials"
        return "cloud: on, s3://\(bucket) in \(region) at \(endpoint ?? "AWS")\(pathStyle ? " (path style)" : ""), "
            + "minutes to \(dataPrefix)minutes/device=\(device)/, training data to \(trainingKey), "
            + (modelPrefix.isEmpty ? "no model updates" : "models from \(modelPrefix) every \(pollIntervalSeconds) s") + ", \(credentials)"
    }
}
