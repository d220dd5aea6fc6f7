// SPDX-License-Identifier: Apache-2.0

import MeterFiles
#if canImport(Glibc)
import Glibc
#endif

/// Relay output A or B (`pin_out_a`, `pin_out_b`).
public enum OutputChannel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Output A (`pin_out_a`).
    case a
    /// Output B (`pin_out_b`).
    case b
    /// `output A`.
    public var description: String { "output \(rawValue.uppercased())" }
}

/// The desired state of both outputs: on (line high) or off. The safe state is off.
public struct OutputStates: Sendable, Hashable {
    /// Output A on.
    public var a: Bool
    /// Output B on.
    public var b: Bool

    /// Creates states; both off by default.
    public init(a: Bool = false, b: Bool = false) { self.a = a; self.b = b }

    /// Both off: what the outputs start with when nothing is stored.
    public static let safe = OutputStates()

    /// The state of one channel.
    public subscript(channel: OutputChannel) -> Bool {
        get { channel == .a ? a : b }
        set { if channel == .a { a = newValue } else { b = newValue } }
    }
}

/// The small file that keeps the desired output states across restarts.
///
/// Format (text, one `channel=on|off` line per output, `#` comments):
/// ```
/// # clemap-edge output states; written by `clemap-edge output a|b on|off`
/// a=off
/// b=on
/// ```
/// ``save(_:)`` is atomic: it writes `<path>.tmp.<pid>`, fsyncs it, renames it over `<path>` and fsyncs the
/// folder, so after a power cut the file holds either the old or the new states, never a mix.
public struct OutputStateFile: Sendable, Hashable {
    /// `/var/lib/clemap-edge/outputs.state`: the service's StateDirectory (systemd/clemap-edge.service).
    public static let defaultPath = "/var/lib/clemap-edge/outputs.state"

    /// The file's path.
    public let path: String

    /// - Parameter path: Where the states live (default ``defaultPath``).
    public init(path: String = OutputStateFile.defaultPath) { self.path = path }

    /// Reads the stored states.
    /// - Returns: The states, or `nil` when the file does not exist (nothing stored yet).
    /// - Throws: ``GPIOError`` `.stateFile` when it cannot be read or does not parse.
    public func load() throws(GPIOError) -> OutputStates? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw failure("cannot be opened: \(describe(code))", errno: code,
                          remedy: "check the path and its permissions, or pass another --state-file")
        }
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw failure("cannot be read: \(describe(code))", errno: code, remedy: "check the storage")
            }
            if count == 0 { break }
            bytes += buffer[..<count]
            guard bytes.count <= 65_536 else {
                throw failure("is larger than 64 KiB, not an output state file", remedy: "delete it; outputs then start off")
            }
        }
        return try Self.parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses the file's text.
    /// - Throws: ``GPIOError`` `.stateFile` naming the first bad line.
    public static func parse(_ text: String, path: String) throws(GPIOError) -> OutputStates {
        var states = OutputStates.safe
        // "\r\n" is one Character in Swift, so split on either form.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace().lowercased() }
            guard parts.count == 2, let channel = OutputChannel(rawValue: parts[0]), ["on", "off"].contains(parts[1]) else {
                throw GPIOError(.stateFile, subject: "\(path):\(index + 1)",
                                detail: "'\(line)' is not 'a=on|off' or 'b=on|off'",
                                remedy: "fix the line, or delete the file (outputs then start off)")
            }
            states[channel] = parts[1] == "on"
        }
        return states
    }

    /// The file's text for `states`.
    public static func render(_ states: OutputStates) -> String {
        "# clemap-edge output states; written by `clemap-edge output a|b on|off`, applied at start\n"
            + OutputChannel.allCases.map { "\($0.rawValue)=\(states[$0] ? "on" : "off")\n" }.joined()
    }

    /// Stores `states` atomically (temp file, fsync, rename, fsync of the folder); creates the folder if missing.
    /// - Throws: ``GPIOError`` `.stateFile`; the previous file is then unchanged.
    public func save(_ states: OutputStates) throws(GPIOError) {
        do {
            try AtomicFile.write(Array(Self.render(states).utf8), to: path, mode: 0o644, createFolder: true)
        } catch {
            throw failure("cannot be written: \(error.detail)", errno: error.errno, remedy: Self.writeRemedy(error.errno))
        }
    }

    private static func writeRemedy(_ code: Int32) -> String {
        switch code {
        case EACCES, EPERM, EROFS:
            "run as the service user or root (the service's StateDirectory is /var/lib/clemap-edge), "
                + "or pass --state-file with a writable path"
        case ENOENT, ENOTDIR:
            "check the path, or pass --state-file with a writable path"
        default:
            "check the storage (free space, read-only file system)"
        }
    }

    private func failure(_ detail: String, errno: Int32? = nil, remedy: String) -> GPIOError {
        GPIOError(.stateFile, subject: "output state file \(path)", detail: detail, remedy: remedy, errno: errno)
    }

    private func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
