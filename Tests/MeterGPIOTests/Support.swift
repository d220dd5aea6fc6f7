// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterConfig
import MeterGPIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum Fixture {
    /// The repository root, from this file's path (Tests/MeterGPIOTests/Support.swift).
    static let repositoryRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// `[GPIO_SERVICE]` of the shipped config: out A 21, out B 20, input B 16, LED 25, button 7.
    static func gpio() throws -> GPIOPins {
        try MeterConfiguration.load(path: repositoryRoot + "/calibration/config.ini").gpio
    }

    static let logger = Logger(label: "test.gpio")
}

/// A fresh folder under /tmp, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/meter-gpio-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(message: "mkdtemp failed") }
        path = String(cString: made)
    }

    func remove() {
        _ = path.withCString { _ in system_remove(path) }
    }

    /// Names in the folder.
    func listing() -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func write(_ name: String, _ text: String) throws {
        let file = path + "/" + name
        guard let handle = fopen(file, "w") else { throw Failure(message: "cannot write \(file)") }
        fputs(text, handle)
        fclose(handle)
    }

    func read(_ name: String) -> String? {
        guard let handle = fopen(path + "/" + name, "r") else { return nil }
        defer { fclose(handle) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, 256, handle) != nil {
            text += String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }
}

struct Failure: Error, CustomStringConvertible { let message: String; var description: String { message } }

/// `rm -r` for a test folder (flat: files only, then the folder).
private func system_remove(_ path: String) -> Int32 {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(directory)
    }
    return rmdir(path)
}

/// The (time, level) edges of one line, as (ms, 0/1) for readable expectations.
func edges(_ transitions: [SimulatedGPIO.Transition], from start: Double = 0) -> [(ms: Int, level: Int)] {
    transitions.map { (Int((($0.time - start) * 1000).rounded()), $0.level ? 1 : 0) }
}
