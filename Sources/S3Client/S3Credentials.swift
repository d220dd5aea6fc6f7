// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
internal import Glibc
#endif

/// An access key and its secret, and where they were found.
///
/// `description` and the mirror (`dump`, `print`) name the source and a shortened key ID, never the secret
/// or the session token.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomReflectable {
    /// The access key ID, e.g. "AKIAIOSFODNN7EXAMPLE".
    public var accessKeyID: String
    /// The secret access key. Never log it.
    public var secretAccessKey: String
    /// The session token of temporary credentials (sent as `x-amz-security-token`), nil for long-term keys.
    public var sessionToken: String?
    /// Where they came from, for errors: "config.ini [CLOUD]", "environment", "/root/.aws/credentials [default]".
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    /// "AKIA…MPLE from environment, with a session token".
    public var description: String {
        let id = accessKeyID.count >= 12 ? "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))" : "…"
        return "\(id) from \(source)" + (sessionToken == nil ? "" : ", with a session token")
    }

    public var customMirror: Mirror { Mirror(self, children: ["credentials": description]) }
}

extension S3Credentials {
    /// Finds the credentials the way the AWS tools do, with config.ini first.
    ///
    /// 1. `accessKeyID` and `secretAccessKey` (config.ini `[CLOUD]`), when both are given;
    /// 2. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) in `environment`;
    /// 3. the shared credentials file, `$AWS_SHARED_CREDENTIALS_FILE` or `<home>/.aws/credentials`, profile
    ///    `$AWS_PROFILE` or "default" (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`).
    ///
    /// Empty values count as not given. Reads the file; makes no request.
    /// - Throws: ``S3Error`` (operation "CREDENTIALS", permanent) when a place gives only one of the pair,
    ///   or when none gives any, naming the places and what to set.
    public static func resolve(accessKeyID: String?, secretAccessKey: String?, environment: [String: String],
                               home: String?) throws(S3Error) -> S3Credentials {
        func failure(_ message: String, _ remedy: String) -> S3Error {
            S3Error(operation: "CREDENTIALS", bucket: "", key: nil, host: "", status: nil, code: nil,
                    message: message, isPermanent: true, remedy: remedy)
        }
        func pair(_ id: String?, _ secret: String?, _ place: String, _ idName: String, _ secretName: String)
            throws(S3Error) -> (String, String)? {
            switch (id.flatMap { $0.isEmpty ? nil : $0 }, secret.flatMap { $0.isEmpty ? nil : $0 }) {
            case let (id?, secret?): return (id, secret)
            case (nil, nil): return nil
            case (_?, nil): throw failure("\(place) gives \(idName) but no \(secretName)", "set \(secretName) too, or remove \(idName)")
            case (nil, _?): throw failure("\(place) gives \(secretName) but no \(idName)", "set \(idName) too, or remove \(secretName)")
            }
        }
        if let (id, secret) = try pair(accessKeyID, secretAccessKey, "config.ini [CLOUD]", "access_key_id", "secret_access_key") {
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, source: "config.ini [CLOUD]")
        }
        if let (id, secret) = try pair(environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"], "the environment",
                                       "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, source: "environment")
        }
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? home.map { "\($0)/.aws/credentials" }
        var fileState = "no home folder to look in"
        if let file {
            switch readFile(file) {
            case (nil, let code):
                fileState = "\(file): \(String(cString: strerror(code)))"
            case (let text?, _):
                fileState = "\(file) has no [\(profile)] profile"
                if let values = iniSections(text)[profile] {
                    let place = "\(file) [\(profile)]"
                    guard let (id, secret) = try pair(values["aws_access_key_id"], values["aws_secret_access_key"], place,
                                                      "aws_access_key_id", "aws_secret_access_key")
                    else { throw failure("\(place) has neither aws_access_key_id nor aws_secret_access_key", "set both") }
                    let token = values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
                    return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, source: place)
                }
            }
        }
        throw failure("no S3 credentials: config.ini [CLOUD] has no access_key_id/secret_access_key, the environment has no "
                      + "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and \(fileState)",
                      "set access_key_id and secret_access_key in config.ini [CLOUD], or AWS_ACCESS_KEY_ID and "
                      + "AWS_SECRET_ACCESS_KEY in the service's environment, or aws_access_key_id and aws_secret_access_key "
                      + "under [\(profile)] in \(file ?? "~/.aws/credentials")")
    }

    /// The sections of an INI file, each a map of lower-cased keys to values. `[profile x]` is read as `[x]`
    /// (the form ~/.aws/config uses); `#` and `;` start comment lines.
    static func iniSections(_ text: String) -> [String: [String: String]] {
        func trim(_ s: Substring) -> Substring {
            guard let first = s.firstIndex(where: { !$0.isWhitespace }), let last = s.lastIndex(where: { !$0.isWhitespace })
            else { return s[s.endIndex...] }
            return s[first...last]
        }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = trim(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = trim(line.dropFirst().dropLast())
                if name.hasPrefix("profile ") { name = trim(name.dropFirst(8)) }
                current = String(name)
                if sections[String(name)] == nil { sections[String(name)] = [:] }
            } else if let current, let equals = line.firstIndex(of: "=") {
                sections[current]?[trim(line[..<equals]).lowercased()] = String(trim(line[line.index(after: equals)...]))
            }
        }
        return sections
    }

    /// The file's text, or nil and the `errno` of the failed `open`/`read`.
    private static func readFile(_ path: String) -> (text: String?, errno: Int32) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (nil, errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 { if errno == EINTR { continue }; return (nil, errno) }
            if count == 0 { return (String(decoding: bytes, as: UTF8.self), 0) }
            bytes += buffer[..<count]
        }
    }
}
