// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A time zone's UTC offsets, read from the system's compiled tz database (`/usr/share/zoneinfo/<name>`, the TZif
/// format of RFC 8536, version 2 or later: its 64-bit transitions).
///
/// Why not Foundation's `TimeZone`: it needs ICU, which costs the service about 3 MiB of resident memory (its
/// libraries and the zone data it touches), a tenth of the forecaster's budget, for one offset lookup an hour.
/// Debian's zone files carry explicit transitions to 2037; after the last one the last offset is kept (the file's
/// POSIX rule for later years is not read).
public struct ZoneOffsets: Sendable, Hashable {
    /// The zone's name, e.g. `Europe/Zurich`.
    public let identifier: String
    /// Transition instants (Unix seconds, ascending) and the offset (seconds east of UTC) from each on.
    let transitions: [Int64]
    let offsets: [Int32]
    /// The offset before the first transition.
    let initialOffset: Int32

    /// UTC.
    public static let utc = ZoneOffsets(identifier: "UTC", transitions: [], offsets: [], initialOffset: 0)

    init(identifier: String, transitions: [Int64], offsets: [Int32], initialOffset: Int32) {
        self.identifier = identifier; self.transitions = transitions; self.offsets = offsets; self.initialOffset = initialOffset
    }

    /// The zone named `identifier` from `zoneinfo` (default: `$TZDIR`, else `/usr/share/zoneinfo`); nil when there is
    /// no such zone or its file cannot be read as TZif. `UTC` needs no file.
    public init?(identifier: String, zoneinfo: String? = nil) {
        if identifier == "UTC" || identifier == "Etc/UTC" { self = .utc; return }
        guard !identifier.isEmpty, !identifier.hasPrefix("/"), !identifier.contains("..") else { return nil }
        let folder = zoneinfo ?? (getenv("TZDIR").map { String(cString: $0) } ?? "/usr/share/zoneinfo")
        guard let bytes = Self.read(folder + "/" + identifier), let parsed = Self.parse(bytes) else { return nil }
        self.init(identifier: identifier, transitions: parsed.transitions, offsets: parsed.offsets, initialOffset: parsed.initial)
    }

    /// Seconds east of UTC at `unixSeconds`.
    public func offsetSeconds(at unixSeconds: Int64) -> Int {
        // The last transition at or before the instant (binary search).
        var low = 0, high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= unixSeconds { low = mid + 1 } else { high = mid }
        }
        return Int(low == 0 ? initialOffset : offsets[low - 1])
    }

    /// True when the offset never changes.
    public var isFixed: Bool { Set(offsets + [initialOffset]).count == 1 }

    // MARK: - TZif

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes += buffer[..<n]
            if n < buffer.count { break }
            if bytes.count > 1 << 20 { return nil }  // no zone file is this large
        }
        return bytes
    }

    /// The 64-bit data block of a version 2+ file.
    static func parse(_ b: [UInt8]) -> (transitions: [Int64], offsets: [Int32], initial: Int32)? {
        func u32(_ at: Int) -> Int? { at + 4 <= b.count ? Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3]) : nil }
        func i64(_ at: Int) -> Int64 { (0..<8).reduce(Int64(0)) { $0 << 8 | Int64(b[at + $1]) } }
        func header(_ at: Int) -> (isut: Int, isstd: Int, leap: Int, time: Int, type: Int, char: Int)? {
            guard at + 44 <= b.count, b[at] == 0x54, b[at + 1] == 0x5A, b[at + 2] == 0x69, b[at + 3] == 0x66,
                  let a = u32(at + 20), let c = u32(at + 24), let l = u32(at + 28), let t = u32(at + 32),
                  let y = u32(at + 36), let h = u32(at + 40) else { return nil }
            return (a, c, l, t, y, h)
        }
        guard let v1 = header(0), b[4] >= 0x32 else { return nil }  // version '2' or later
        let skip = 44 + v1.time * 5 + v1.type * 6 + v1.char + v1.leap * 8 + v1.isstd + v1.isut
        guard let h = header(skip) else { return nil }
        var at = skip + 44
        guard at + h.time * 9 + h.type * 6 <= b.count, h.type >= 1 else { return nil }
        let times = (0..<h.time).map { i64(at + 8 * $0) }
        at += 8 * h.time
        let indices = (0..<h.time).map { Int(b[at + $0]) }
        at += h.time
        let types = (0..<h.type).map { Int32(bitPattern: UInt32(u32(at + 6 * $0)!)) }
        guard indices.allSatisfy({ $0 < types.count }) else { return nil }
        return (times, indices.map { types[$0] }, types[0])
    }
}
