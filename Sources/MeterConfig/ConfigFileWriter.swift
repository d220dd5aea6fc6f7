// SPDX-License-Identifier: Apache-2.0

import MeterFiles
#if canImport(Glibc)
import Glibc
#endif

/// Rewrites a `config.ini` so that a crash or power cut at any moment leaves either the old file or the
/// new one, never a mix: the old bytes are copied to a timestamped backup, the new text goes to a
/// temporary file in the same folder which is fsynced and renamed over the original (rename is atomic
/// within a filesystem), then the folder is fsynced. Mode and owner of the original are kept.
public enum ConfigFileWriter {
    /// The steps, in order; tests stop a write after any of them.
    public enum Step: Int, CaseIterable, Sendable {
        case checked, backupWritten, temporaryCreated, temporaryPartlyWritten, temporaryWritten, temporarySynced,
             renamed, folderSynced
    }

    /// Writes `document` over its file.
    /// - Parameters:
    ///   - document: the edited document; its `source` is the path written.
    ///   - timestamp: UTC time for the backup name, `yyyyMMddTHHmmssZ`.
    ///   - stopAfter: testing only: throw right after this step, as a crash there would.
    /// - Returns: the backup's path.
    /// - Throws: ``ConfigError`` `.unreadable` naming the path when the file is missing, read-only or the
    ///   folder unwritable; nothing is changed then.
    @discardableResult
    public static func write(_ document: INIDocument, timestamp: String = utcTimestamp(),
                             stopAfter: Step? = nil) throws(ConfigError) -> String {
        let path = document.source
        let text = document.render()
        func fail(_ detail: String, _ remedy: String) -> ConfigError {
            ConfigError(.unreadable, file: path, detail: detail, remedy: remedy)
        }
        func stop(_ step: Step) throws(ConfigError) {
            if stopAfter == step { throw fail("write stopped after \(step) (test)", "none") }
        }

        let status = try writableStatus(path)
        guard let old = AtomicFile.read(path) else { throw fail("cannot be read: \(String(cString: strerror(errno)))", "check its permissions") }
        try stop(.checked)

        let backup = "\(path).bak-\(timestamp)"
        guard writeNewFile(backup, old, mode: status.st_mode & 0o777) else {
            throw fail("backup \(backup) could not be written: \(String(cString: strerror(errno)))", "free disk space or fix the folder's permissions")
        }
        try stop(.backupWritten)

        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: status.st_mode & 0o777, owner: (status.st_uid, status.st_gid),
                                 stopAfter: stopAfter.flatMap { AtomicFile.Step(rawValue: $0.rawValue - Step.temporaryCreated.rawValue) })
        } catch {
            if let step = error.stoppedAfter { throw fail("write stopped after \(step) (test)", "none") }
            throw fail("could not be replaced: \(error.detail)",
                       error.errno == ENOSPC ? "free disk space" : "check the folder's permissions and the storage")
        }
        return backup
    }

    /// Throws unless `path` can be rewritten: it exists, has a write bit (root ignores permission bits, so a
    /// file with none was made read-only on purpose), and its folder is writable (not a read-only mount).
    /// Commands call it before measuring, so a doomed `--write` fails at once and changes nothing.
    public static func checkWritable(_ path: String) throws(ConfigError) {
        _ = try writableStatus(path)
    }

    static func writableStatus(_ path: String) throws(ConfigError) -> stat {
        func fail(_ detail: String, _ remedy: String) -> ConfigError { ConfigError(.unreadable, file: path, detail: detail, remedy: remedy) }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw fail("cannot be rewritten: \(String(cString: strerror(errno)))", "check the path given to --config")
        }
        guard status.st_mode & 0o222 != 0 else {
            throw fail("is read-only (mode \(String(status.st_mode & 0o777, radix: 8)))", "make it writable (chmod u+w) or copy it and pass the copy to --config")
        }
        let folder = AtomicFile.folderOf(path)
        guard access(folder, W_OK) == 0 else {
            throw fail("its folder \(folder) is not writable (\(String(cString: strerror(errno))))", "run as a user who may write there, or remount the filesystem read-write")
        }
        // access() does not see a read-only mount for root in every case; a probe file does.
        let probe = "\(folder)/.clemap-edge-write-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw fail("its folder \(folder) is not writable (\(String(cString: strerror(errno))))", "remount the filesystem read-write, or copy the file elsewhere")
        }
        close(fd)
        unlink(probe)
        return status
    }

    /// `20261124T213045Z`.
    public static func utcTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// Creates `path` (which must not exist) with `bytes`, fsynced: the backup of the old file.
    static func writeNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return AtomicFile.writeFully(fd, bytes[...]) && fsync(fd) == 0
    }
}
