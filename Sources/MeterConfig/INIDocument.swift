// SPDX-License-Identifier: Apache-2.0

/// A CLEMAP `config.ini`, line by line, so that single values can be rewritten without touching anything else.
///
/// The format is the one the CLEMAP firmware writes (see `clemap-config.ini` in the shared reference):
/// * `[SECTION]` headers;
/// * `key = value` entries (spaces around `=` optional, the value is trimmed, `=` inside the value is kept);
/// * blank lines;
/// * whole-line comments starting with `#` or `;`. There are no inline comments, so a value such as
///   `Europe/Zurich` or `a # b` is kept as written, as Python's `configparser` does by default.
///
/// Keys are matched case-insensitively (`configparser` lower-cases them); section names are case-sensitive.
/// Every line is kept in order with its original text, so ``render()`` returns the input byte for byte,
/// including `\r\n` line ends and the presence or absence of a final newline.
///
/// ## Topics
/// ### Reading
/// - ``init(parsing:source:)``
/// - ``load(path:)``
/// - ``value(forKey:inSection:)``
/// - ``entry(forKey:inSection:)``
/// - ``entries(inSection:)``
/// - ``headerLine(ofSection:)``
/// ### Rewriting
/// - ``settingValue(_:forKey:inSection:)``
/// - ``render()``
public struct INIDocument: Sendable, Hashable {
    /// One physical line of the file.
    public struct Line: Sendable, Hashable {
        /// What a line is.
        public enum Kind: Sendable, Hashable {
            /// Empty or only whitespace.
            case blank
            /// A whole-line comment starting with `#` or `;` (after optional leading whitespace).
            case comment
            /// A `[name]` header; `name` is trimmed.
            case section(name: String)
            /// A `key = value` line; both are trimmed, `key` is spelled as written.
            case entry(key: String, value: String)
        }

        /// 1-based line number in the file (after edits: in the rendered file).
        public var number: Int
        /// The original text, without the `\n` that ends it (a `\r` of a `\r\n` line end is kept).
        public var text: String
        /// What the line is.
        public var kind: Kind
        /// The section the line belongs to: the header's own name for a header, `nil` before the first header.
        public var section: String?

        /// Creates a line. Parsing makes these; a caller rarely needs to.
        public init(number: Int, text: String, kind: Kind, section: String?) {
            self.number = number; self.text = text; self.kind = kind; self.section = section
        }
    }

    /// A `key = value` entry with its position.
    public struct Entry: Sendable, Hashable {
        /// The section it is in.
        public var section: String
        /// The key, spelled as in the file.
        public var key: String
        /// The trimmed value.
        public var value: String
        /// 1-based line number.
        public var line: Int

        /// Creates an entry.
        public init(section: String, key: String, value: String, line: Int) {
            self.section = section; self.key = key; self.value = value; self.line = line
        }
    }

    /// Where the text came from (normally the file's path); errors name it.
    public let source: String
    /// Every line, in file order.
    public private(set) var lines: [Line]
    /// Whether the text ends with a newline. ``render()`` restores it.
    public private(set) var endsWithNewline: Bool

    /// Parses the text of a config file.
    ///
    /// - Parameters:
    ///   - text: The whole file.
    ///   - source: The path or name used in error messages (`config.ini:12 [INFO] …`).
    /// - Throws: ``ConfigErrors`` with one ``ConfigError`` per bad line, all of them, not just the first:
    ///   `.malformedLine` (a line that is none of the four kinds, an entry before any section),
    ///   `.duplicate` (a key twice in one section, a section header twice).
    public init(parsing text: String, source: String) throws(ConfigErrors) {
        self.source = source
        var lines: [Line] = []
        var errors: [ConfigError] = []
        var section: String?
        var sectionHeaders: [String: Int] = [:]
        var keyLines: [SectionKey: Int] = [:]

        var raw = text.isEmpty ? [] : Self.splitLines(text)
        self.endsWithNewline = text.utf8.last == UInt8(ascii: "\n")
        if endsWithNewline { raw.removeLast() }

        for (index, lineText) in raw.enumerated() {
            let number = index + 1
            var body = Substring(lineText)
            if index == 0, body.first == "\u{FEFF}" { body = body.dropFirst() }  // UTF-8 byte order mark
            let trimmed = body.trimmedINI
            let subject = "\(source):\(number)" + (section.map { " [\($0)]" } ?? "")

            if trimmed.isEmpty {
                lines.append(Line(number: number, text: lineText, kind: .blank, section: section))
            } else if trimmed.first == "#" || trimmed.first == ";" {
                lines.append(Line(number: number, text: lineText, kind: .comment, section: section))
            } else if trimmed.first == "[" {
                guard trimmed.last == "]", trimmed.count > 2 else {
                    errors.append(ConfigError(
                        .malformedLine, file: source, line: number, section: section, found: String(trimmed),
                        subject: "\(source):\(number)",
                        detail: "'\(trimmed)' is not a section header",
                        remedy: "write the header alone on its line as [NAME], e.g. [METER_SERVICE]"))
                    continue
                }
                let name = String(trimmed.dropFirst().dropLast().trimmedINI)
                if name.isEmpty || name.contains("[") || name.contains("]") {
                    errors.append(ConfigError(
                        .malformedLine, file: source, line: number, found: String(trimmed),
                        subject: "\(source):\(number)",
                        detail: "'\(trimmed)' is not a section header",
                        remedy: "write a non-empty name between one pair of brackets, e.g. [METER_SERVICE]"))
                    continue
                }
                if let first = sectionHeaders[name] {
                    errors.append(ConfigError(
                        .duplicate, file: source, line: number, section: name, found: String(trimmed),
                        subject: "\(source):\(number) [\(name)]",
                        detail: "section [\(name)] appears a second time (first at line \(first))",
                        remedy: "merge its keys into the [\(name)] section at line \(first) and delete this header"))
                } else {
                    sectionHeaders[name] = number
                }
                section = name
                lines.append(Line(number: number, text: lineText, kind: .section(name: name), section: name))
            } else if let equals = trimmed.firstIndex(of: "=") {
                let key = String(trimmed[..<equals].trimmedINI)
                let value = String(trimmed[trimmed.index(after: equals)...].trimmedINI)
                guard !key.isEmpty else {
                    errors.append(ConfigError(
                        .malformedLine, file: source, line: number, section: section, found: String(trimmed),
                        subject: subject,
                        detail: "'\(trimmed)' has a value but no key",
                        remedy: "write key = value, e.g. level = info, or start the line with # to make it a comment"))
                    continue
                }
                guard let current = section else {
                    errors.append(ConfigError(
                        .malformedLine, file: source, line: number, key: key, found: String(trimmed),
                        subject: "\(source):\(number) \(key)",
                        detail: "'\(trimmed)' comes before any [SECTION] header",
                        remedy: "move it below the header of the section it belongs to, e.g. [METER_SERVICE]"))
                    continue
                }
                let id = SectionKey(section: current, key: key)
                if let first = keyLines[id] {
                    errors.append(ConfigError(
                        .duplicate, file: source, line: number, section: current, key: key, found: value,
                        subject: "\(source):\(number) [\(current)] \(key)",
                        detail: "'\(key)' is set a second time in [\(current)] (first at line \(first))",
                        remedy: "keep one of the two lines and delete the other"))
                    continue
                }
                keyLines[id] = number
                lines.append(Line(number: number, text: lineText, kind: .entry(key: key, value: value), section: current))
            } else {
                let hint = trimmed.contains(":")
                    ? "use = instead of :, e.g. \(trimmed.replacingFirstColon)"
                    : "write key = value inside a [SECTION], or start the line with # to make it a comment"
                errors.append(ConfigError(
                    .malformedLine, file: source, line: number, section: section, found: String(trimmed),
                    subject: subject,
                    detail: "'\(trimmed)' is not a [SECTION] header, a key = value entry, a comment or a blank line",
                    remedy: hint))
            }
        }
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        self.lines = lines
    }

    /// Reads and parses a config file.
    ///
    /// - Parameter path: The file's path; it becomes ``source``.
    /// - Returns: The parsed document.
    /// - Throws: ``ConfigErrors``: `.unreadable` if the file cannot be read or is not UTF-8 text,
    ///   otherwise the errors of ``init(parsing:source:)``.
    public static func load(path: String) throws(ConfigErrors) -> INIDocument {
        let text: String
        do { text = try ConfigFile.readText(path: path) } catch { throw ConfigErrors([error]) }
        return try INIDocument(parsing: text, source: path)
    }

    // MARK: Reading

    /// The names of all sections, in file order.
    public var sectionNames: [String] {
        lines.compactMap { if case .section(let name) = $0.kind { name } else { nil } }
    }

    /// The line number of a section's header, or `nil` if there is no such section.
    ///
    /// - Parameter section: The section name, case-sensitive.
    public func headerLine(ofSection section: String) -> Int? {
        lines.first { $0.kind == .section(name: section) }?.number
    }

    /// Every entry of the file, in file order.
    public var entries: [Entry] {
        lines.compactMap { line in
            guard case .entry(let key, let value) = line.kind, let section = line.section else { return nil }
            return Entry(section: section, key: key, value: value, line: line.number)
        }
    }

    /// The entries of one section, in file order.
    ///
    /// - Parameter section: The section name, case-sensitive.
    public func entries(inSection section: String) -> [Entry] {
        entries.filter { $0.section == section }
    }

    /// The entry for a key, or `nil` if the section or the key is absent.
    ///
    /// - Parameters:
    ///   - key: The key, matched case-insensitively.
    ///   - section: The section name, case-sensitive.
    public func entry(forKey key: String, inSection section: String) -> Entry? {
        guard let index = entryIndex(forKey: key, inSection: section),
              case .entry(let written, let value) = lines[index].kind else { return nil }
        return Entry(section: section, key: written, value: value, line: lines[index].number)
    }

    /// The trimmed value for a key, or `nil` if the section or the key is absent.
    ///
    /// - Parameters:
    ///   - key: The key, matched case-insensitively.
    ///   - section: The section name, case-sensitive.
    public func value(forKey key: String, inSection section: String) -> String? {
        entry(forKey: key, inSection: section)?.value
    }

    // MARK: Rewriting

    /// A copy with one value set, every other line, comment and the key order unchanged.
    ///
    /// If the key exists, its line keeps everything up to and including the `=` and the spaces after it
    /// (and a `\r` line end); only the value changes. If it does not, `key = value` is added after the
    /// section's last entry (right after the header if it has none). If the section does not exist either,
    /// a blank line, the header and the entry are added at the end of the file. Line numbers are renumbered.
    ///
    /// - Parameters:
    ///   - value: The new value, written as is. It must not contain a line break (a programmer error: traps).
    ///   - key: The key, matched case-insensitively; a new line spells it as given.
    ///   - section: The section name, case-sensitive.
    /// - Returns: The edited document.
    public func settingValue(_ value: String, forKey key: String, inSection section: String) -> INIDocument {
        precondition(!value.contains(where: \.isNewline), "an INI value cannot contain a line break: \(value.debugDescription)")
        precondition(!key.isEmpty && !key.contains("=") && !key.contains(where: \.isNewline)
                     && key.trimmedINI.count == key.count && !key.hasPrefix("[") && !key.hasPrefix("#") && !key.hasPrefix(";"),
                     "not a valid INI key: \(key.debugDescription)")
        var copy = self
        if let index = entryIndex(forKey: key, inSection: section) {
            let line = lines[index]
            guard case .entry(let written, _) = line.kind else { return self }
            copy.lines[index].text = Self.replacingValue(in: line.text, with: value)
            copy.lines[index].kind = .entry(key: written, value: value.trimmedINI.isEmpty ? "" : String(value.trimmedINI))
            return copy
        }
        let lineEnd = lines.first?.text.hasSuffix("\r") == true ? "\r" : ""
        let newLine = Line(number: 0, text: "\(key) = \(value)\(lineEnd)", kind: .entry(key: key, value: String(value.trimmedINI)),
                           section: section)
        if let header = lines.firstIndex(where: { $0.kind == .section(name: section) }) {
            var insertAt = header + 1
            for index in (header + 1)..<lines.count where lines[index].section == section {
                if case .section = lines[index].kind { break }
                if case .entry = lines[index].kind { insertAt = index + 1 }
            }
            copy.lines.insert(newLine, at: insertAt)
        } else {
            if let last = lines.last, last.kind != .blank {
                copy.lines.append(Line(number: 0, text: lineEnd, kind: .blank, section: last.section))
            }
            copy.lines.append(Line(number: 0, text: "[\(section)]\(lineEnd)", kind: .section(name: section), section: section))
            copy.lines.append(newLine)
        }
        for index in copy.lines.indices { copy.lines[index].number = index + 1 }
        return copy
    }

    /// The file's text: byte-identical to the parsed input when nothing was changed.
    public func render() -> String {
        var out = lines.map(\.text).joined(separator: "\n")
        if endsWithNewline { out += "\n" }
        return out
    }

    // MARK: Internals

    private struct SectionKey: Hashable {
        var section: String
        var key: String
        init(section: String, key: String) { self.section = section; self.key = key.lowercased() }
    }

    private func entryIndex(forKey key: String, inSection section: String) -> Int? {
        let wanted = key.lowercased()
        return lines.firstIndex { line in
            guard line.section == section, case .entry(let written, _) = line.kind else { return false }
            return written.lowercased() == wanted
        }
    }

    /// Splits on `\n` bytes only. A Swift `Character` treats `\r\n` as one, so splitting characters would lose `\r`.
    private static func splitLines(_ text: String) -> [String] {
        var result: [String] = []
        var start = text.utf8.startIndex
        var index = start
        while index != text.utf8.endIndex {
            if text.utf8[index] == UInt8(ascii: "\n") {
                result.append(String(text.utf8[start..<index])!)
                start = text.utf8.index(after: index)
            }
            index = text.utf8.index(after: index)
        }
        result.append(String(text.utf8[start..<text.utf8.endIndex])!)
        return result
    }

    /// Keeps `key = ` (everything through the `=` and the blanks after it) and a trailing `\r`.
    private static func replacingValue(in text: String, with value: String) -> String {
        let lineEnd = text.hasSuffix("\r") ? "\r" : ""
        let body = lineEnd.isEmpty ? Substring(text) : text.dropLast()
        guard let equals = body.firstIndex(of: "=") else { return text }
        var prefixEnd = body.index(after: equals)
        while prefixEnd != body.endIndex, body[prefixEnd] == " " || body[prefixEnd] == "\t" {
            prefixEnd = body.index(after: prefixEnd)
        }
        var prefix = String(body[..<prefixEnd])
        // `key =` with an empty value: put one space after `=` if the writer put one before it.
        if prefixEnd == body.index(after: equals), equals != body.startIndex,
           body[body.index(before: equals)] == " ", !value.isEmpty {
            prefix += " "
        }
        return prefix + value + lineEnd
    }
}

extension StringProtocol {
    /// Trimmed of spaces, tabs, `\r` and other whitespace at both ends.
    fileprivate var trimmedINI: SubSequence {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
              let last = lastIndex(where: { !$0.isWhitespace }) else { return self[endIndex...] }
        return self[first...last]
    }

    /// `key: value` → `key = value`, for the hint on a colon-separated line.
    fileprivate var replacingFirstColon: String {
        guard let colon = firstIndex(of: ":") else { return String(self) }
        return "\(self[..<colon].trimmedINI) = \(self[index(after: colon)...].trimmedINI)"
    }
}

// MARK: - Errors

/// One problem in a config file, with everything a person needs to fix it.
///
/// `description` is one line, `<subject>: <detail>. Fix: <remedy>`, where the subject is `file:line [section] key`:
///
///     config.ini:31 [METER_SERVICE] calib_aigain: '2069224x' is not an integer. Fix: write a signed 32-bit integer, e.g. 2069224
///
/// Match on the code with `~=`: `catch ConfigError.Code.unreadable`, or `case ConfigError.Code.missingKey:`
/// in a `switch` over an error.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem it is. New codes may be added; they break no caller.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `missingKey`.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// The code's name.
        public var description: String { name }

        /// A required key (or its section) is absent.
        public static let missingKey = Code("missingKey")
        /// A value that should be a number is not one (or is not an integer where one is required).
        public static let badNumber = Code("badNumber")
        /// A number (or a choice) is outside what the key allows.
        public static let outOfRange = Code("outOfRange")
        /// A value is not one of the accepted words (`true`/`false`, a log level, `ade9000`…).
        public static let badValue = Code("badValue")
        /// A line is not a section header, an entry, a comment or a blank line, or an entry precedes every section.
        public static let malformedLine = Code("malformedLine")
        /// A key is set twice in one section, or a section header appears twice.
        public static let duplicate = Code("duplicate")
        /// Two keys that must differ are equal (e.g. two GPIO functions on one pin).
        public static let conflict = Code("conflict")
        /// The file cannot be read (missing, no permission, a directory, not UTF-8 text).
        public static let unreadable = Code("unreadable")

        /// Matches any error that is a ``ConfigError`` with this code, for `switch`/`catch` patterns.
        public static func ~= (pattern: Code, error: any Error) -> Bool { (error as? ConfigError)?.code == pattern }
    }

    /// What kind of problem it is.
    public var code: Code
    /// The config file's path (the document's `source`).
    public var file: String
    /// 1-based line: the key's line; for a missing key the section header's line; `nil` if the section
    /// itself is missing or the problem concerns the whole file.
    public var line: Int?
    /// The section involved, if any.
    public var section: String?
    /// The key involved, if any.
    public var key: String?
    /// The value found in the file, as written.
    public var found: String?
    /// What would have been accepted, e.g. `-67108864…67108864` or `true, false`.
    public var allowed: String?
    /// What happened, e.g. `'2069224x' is not an integer`.
    public var detail: String
    /// What to do about it, e.g. `write a signed 32-bit integer, e.g. 2069224`.
    public var remedy: String
    private var subject: String

    /// Creates an error; `subject` defaults to `file:line [section] key` built from the other fields.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - file: The config file's path.
    ///   - line: The line concerned, if any.
    ///   - section: The section concerned, if any.
    ///   - key: The key concerned, if any.
    ///   - found: The value as written, if any.
    ///   - allowed: The accepted values, if meaningful.
    ///   - subject: Overrides the `file:line [section] key` subject of ``description``.
    ///   - detail: What happened.
    ///   - remedy: What to do.
    public init(_ code: Code, file: String, line: Int? = nil, section: String? = nil, key: String? = nil,
                found: String? = nil, allowed: String? = nil, subject: String? = nil, detail: String, remedy: String) {
        self.code = code; self.file = file; self.line = line; self.section = section; self.key = key
        self.found = found; self.allowed = allowed; self.detail = detail; self.remedy = remedy
        var built = file + (line.map { ":\($0)" } ?? "")
        if let section { built += " [\(section)]" }
        if let key { built += " \(key)" }
        self.subject = subject ?? built
    }

    /// One line: `<file:line [section] key>: <detail>. Fix: <remedy>`.
    public var description: String { "\(subject): \(detail). Fix: \(remedy)" }
}

/// All the problems found in one config file, in line order: loading reports every error, not only the first.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable, RandomAccessCollection {
    /// The errors, sorted by line (errors without a line last), never empty when thrown.
    public var errors: [ConfigError]

    /// Wraps a list of errors, sorting them by line (stable; errors without a line go last).
    ///
    /// - Parameter errors: The errors, in the order found.
    public init(_ errors: [ConfigError]) {
        self.errors = errors.enumerated()
            .sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
    }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }

    /// Index of the first error.
    public var startIndex: Int { errors.startIndex }
    /// Index past the last error.
    public var endIndex: Int { errors.endIndex }
    /// The error at `position`.
    public subscript(position: Int) -> ConfigError { errors[position] }
}

// MARK: - Reading the file

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a config file with plain C stdio; no Foundation.
private enum ConfigFile {
    static let remedy = "point --config at the meter's config.ini, "
        + "or copy calibration/config.ini from the source tree and edit it"

    static func readText(path: String) throws(ConfigError) -> String {
        func fail(_ detail: String, _ remedy: String = remedy) -> ConfigError {
            ConfigError(.unreadable, file: path, subject: path, detail: detail, remedy: remedy)
        }
        guard let file = fopen(path, "rb") else {
            let code = errno
            switch code {
            case ENOENT: throw fail("no such file")
            case EACCES: throw fail("permission denied", "make it readable by this user (chmod/chown), run with the service's user, or " + remedy)
            default: throw fail("cannot open: \(String(cString: strerror(code)))")
            }
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: buffer[0..<count])
            if count < buffer.count {
                if ferror(file) != 0 {
                    let code = errno
                    if code == EISDIR { throw fail("is a directory, not a file", "name the config.ini inside it, or " + remedy) }
                    throw fail("read failed: \(String(cString: strerror(code)))")
                }
                break
            }
            if bytes.count > 16 << 20 { throw fail("larger than 16 MiB: not a config.ini") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail("not UTF-8 text", "save it as UTF-8 (plain ASCII is fine), or " + remedy)
        }
        return text
    }
}
