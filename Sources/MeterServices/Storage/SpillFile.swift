// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
public import MeterReadings
import MeterFiles
#if canImport(Glibc)
import Glibc
#endif

/// Rows that were still in memory when the service stopped (the database could not take them), kept on disk
/// until a later start stores them.
///
/// One JSON object per line, keyed by the `meter_data` columns at full precision (``MinuteRow``'s `Codable`
/// form), written atomically. The first of ``locations`` that can be written is used: beside the database
/// (`<db_path>.spill`), else in the state directory. A start imports every location it finds; the store
/// recognises a row it already holds (``InsertOutcome/duplicate``), so an import interrupted after its commit
/// and repeated stores nothing twice. The file is removed only after its rows are committed.
public struct SpillFile: Sendable {
    /// Where spilled rows go, in order of preference.
    public let locations: [String]

    /// - Parameters:
    ///   - databasePath: the database (`db_path`); the first location is beside it.
    ///   - stateDirectory: the fallback folder (systemd's `$STATE_DIRECTORY`, `/var/lib/clemap-edge`).
    public init(databasePath: String, stateDirectory: String?) {
        var database = databasePath
        while database.count > 1, database.hasSuffix("/") { database.removeLast() }
        var locations = [database + ".spill"]
        if let stateDirectory, !stateDirectory.isEmpty {
            let name = database.split(separator: "/").last.map(String.init) ?? "meter.db"
            locations.append(stateDirectory + "/" + name + ".spill")
        }
        self.locations = locations
    }

    /// A spill file that could not be read: the path, the line and why.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let line: Int
        public let detail: String
        public var description: String { "\(path):\(line): \(detail)" }
    }

    /// The rows found, with the file each came from. Lines that do not parse are reported, never dropped
    /// silently: the caller keeps such a file (moved aside) instead of deleting it.
    public func load() -> [(path: String, rows: [MinuteRow], errors: [ReadError])] {
        locations.compactMap { path in
            guard let bytes = AtomicFile.read(path) else { return nil }
            var rows: [MinuteRow] = [], errors: [ReadError] = []
            let decoder = JSONDecoder()
            for (index, line) in bytes.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
                do { rows.append(try decoder.decode(MinuteRow.self, from: Data(line))) } catch {
                    errors.append(ReadError(path: path, line: index + 1, detail: "not a meter_data row (\(error))"))
                }
            }
            return (path, rows, errors)
        }
    }

    /// Writes `rows` (after any already spilled there) to the first writable location.
    /// - Returns: the path written.
    /// - Throws: ``AtomicFile/Failure`` naming every location's failure, in order, when none could be written.
    public func save(_ rows: [MinuteRow]) throws -> String {
        let encoder = JSONEncoder()
        var failures: [String] = []
        var lastErrno: Int32 = 0
        for path in locations {
            do {
                var existing: [UInt8] = AtomicFile.read(path) ?? []
                if let last = existing.last, last != UInt8(ascii: "\n") { existing.append(UInt8(ascii: "\n")) }
                for row in rows {
                    existing += try encoder.encode(row)
                    existing.append(UInt8(ascii: "\n"))
                }
                try AtomicFile.write(existing, to: path, mode: 0o640, createFolder: true)
                return path
            } catch {
                failures.append("\(path): \(error)")
                if let error = error as? AtomicFile.Failure { lastErrno = error.errno }
            }
        }
        let detail = failures.isEmpty ? "no location to spill to" : failures.joined(separator: "; ")
        throw AtomicFile.Failure(detail: detail, errno: lastErrno, stoppedAfter: nil)
    }

    /// Removes an imported file. The corresponding C call is `unlink`.
    public static func remove(_ path: String) { unlink(path) }

    /// Keeps a file that could not be read whole: renamed to `<path>.unreadable-<time>`. - Returns: the new path.
    public static func moveAside(_ path: String, now: Int64) -> String? {
        let target = "\(path).unreadable-\(now)"
        return rename(path, target) == 0 ? target : nil
    }
}
