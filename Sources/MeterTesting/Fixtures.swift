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
}
