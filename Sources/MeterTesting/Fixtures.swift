// SPDX-License-Identifier: Apache-2.0

/// Paths of files the tests read, found from this source file: the repository root is two folders up.
public enum Fixtures {
    public static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3) // Sources/MeterTesting/Fixtures.swift
        return parts.joined(separator: "/")
    }()

    /// The shipped default `calibration/config.ini`.
    public static var shippedConfig: String { repositoryRoot + "/calibration/config.ini" }
    /// The real meter's `config.ini` in the shared reference folder beside the repository.
    public static var referenceConfig: String { repositoryRoot + "/../shared/reference/clemap-config.ini" }
    /// Scenario files shipped in `scenarios/`.
    public static func scenario(_ name: String) -> String { repositoryRoot + "/scenarios/" + name }

    /// `text` (a config.ini) with the section `[name]` replaced by `lines` (nil: the section removed), and
    /// `[INFO] hw_serial` kept (`serial` nil), set (`.some(value)`) or removed (`.some(nil)`).
    public static func config(_ text: String, replacingSection name: String, with lines: [String]?,
                              serial: String?? = nil) -> String {
        var out = ""
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") { skipping = line == "[\(name)]" }
            if line == "[\(name)]", let lines { out += "[\(name)]\n" + lines.joined(separator: "\n") + "\n\n" }
            if let serial, line.hasPrefix("hw_serial") {
                if let serial { out += "hw_serial = \(serial)\n" }
                continue
            }
            if !skipping { out += line + "\n" }
        }
        return out
    }
}
