// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A real folder from `mkdtemp(3)` under /tmp, removed with everything in it when the value goes away.
/// Tests write real files here: configs, databases, state files.
public final class TemporaryFolder: Sendable {
    public let path: String

    /// - Parameter prefix: the start of the folder's name, to tell test runs apart in /tmp.
    public init(prefix: String = "clemap-edge-test") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `<folder>/<name>`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` (creating its folders) and returns the full path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let full = file(name)
        let parent = (full as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        precondition(FileManager.default.createFile(atPath: full, contents: Data(text.utf8)), "cannot write \(full)")
        return full
    }

    /// The names in `folder` (default: this folder), sorted.
    public func names(in folder: String? = nil) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder ?? path)) ?? []).sorted()
    }
}
