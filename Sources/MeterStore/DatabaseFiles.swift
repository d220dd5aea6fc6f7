// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import MeterFiles

/// File-system steps around the database file (POSIX calls, no Foundation): creating its folder (``AtomicFile``), and moving a
/// damaged file aside together with its `-wal`, `-shm` and `-journal` companions. Nothing here deletes a file.
enum DatabaseFiles {
    /// The files SQLite keeps beside a database, by suffix.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// The folder part of `path` (`"."` for a bare file name).
    static func parentFolder(of path: String) -> String { AtomicFile.folderOf(path) }

    /// True when something exists at `path` (a dangling symbolic link counts).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The `errno` of `access(folder, W_OK)` for the folder of `path`, nil when it is writable.
    static func writeAccessError(of path: String) -> Int32? {
        access(parentFolder(of: path), W_OK) == 0 ? nil : errno
    }

    /// Creates the folder of `path` and its missing parents (`mkdir -p`, mode 0755), through ``AtomicFile/createFolders(_:)``.
    static func createParentFolder(of path: String) throws(StoreError) {
        do throws(AtomicFile.Failure) {
            try AtomicFile.createFolders(parentFolder(of: path))
        } catch {
            throw StoreError(errno: error.errno, path: path, detail: "cannot create the database folder: \(error.detail)")
        }
    }

    /// Renames the damaged database at `path` to `<path>.corrupt-<yyyyMMddTHHmmssZ>` (with `-2`, `-3`, … when that
    /// name is taken) and each existing companion to the same name plus its suffix, so `sqlite3` still finds the
    /// `-wal` of the moved file. Returns the new path. The corresponding C call is `rename`.
    static func moveAside(_ path: String, now: Int64) throws(StoreError) -> String {
        let base = path + ".corrupt-" + utcStamp(now)
        var target = base
        var attempt = 1
        while ([""] + companionSuffixes).contains(where: { exists(target + $0) }) {
            attempt += 1
            target = base + "-\(attempt)"
        }
        // Companions first: if a rename fails, the damaged main file stays in place and is found damaged again at
        // the next open, instead of a new database starting beside a stale `-wal`.
        for suffix in companionSuffixes + [""] where exists(path + suffix) {
            if rename(path + suffix, target + suffix) != 0 {
                throw StoreError(errno: errno, path: path,
                                 detail: "the database is damaged and cannot be moved aside to \(target + suffix)")
            }
        }
        return target
    }

    /// `yyyyMMddTHHmmssZ` in UTC, e.g. `20240105T134502Z`.
    static func utcStamp(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// Wall-clock now, Unix seconds. The corresponding C call is `time`.
    static func now() -> Int64 { Int64(time(nil)) }
}
