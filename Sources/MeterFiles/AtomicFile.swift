// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
public import Glibc
#endif

/// Replaces a file so that a crash or power cut at any moment leaves either the old file or the new one,
/// never a mix: the bytes go to a temporary file in the same folder, which is fsynced and renamed over the
/// target (rename is atomic within a filesystem), then the folder is fsynced so the rename is durable.
///
/// Used for `config.ini` (calibration), the output state file and the storage spill file.
/// Blocks the calling thread for the fsyncs (milliseconds on an SD card). POSIX calls, no Foundation.
public enum AtomicFile {
    /// The steps of ``write(_:to:mode:owner:createFolder:stopAfter:)``, in order; tests stop a write after any of them.
    public enum Step: Int, CaseIterable, Sendable {
        case temporaryCreated, temporaryPartlyWritten, temporaryWritten, temporarySynced, renamed, folderSynced
    }

    /// Why a write failed: what was being done, the `errno`, and whether it was a test's planned stop.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// E.g. "cannot create /var/lib/x/.outputs.state.tmp-42: Permission denied".
        public let detail: String
        /// The `errno` of the failed call; 0 for a planned stop.
        public let errno: Int32
        /// The step a test asked to stop after, nil for a real failure.
        public let stoppedAfter: Step?
        public var description: String { detail }
        public init(detail: String, errno: Int32, stoppedAfter: Step?) {
            self.detail = detail; self.errno = errno; self.stoppedAfter = stoppedAfter
        }
    }

    /// Writes `bytes` over `path` atomically.
    /// - Parameters:
    ///   - mode: permission bits of the new file.
    ///   - owner: user and group to give it (keeping an edited file's owner); nil keeps the writer's.
    ///   - createFolder: create the folder and its parents first when missing (`mkdir -p`, 0755).
    ///   - stopAfter: testing only: throw right after this step, as a crash there would (the temporary file
    ///     is left behind, as after a crash).
    /// - Throws: ``Failure``; the old file is then unchanged.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, owner: (uid: uid_t, gid: gid_t)? = nil,
                             createFolder: Bool = false, stopAfter: Step? = nil) throws(Failure) {
        func stop(_ step: Step) throws(Failure) {
            if stopAfter == step { throw Failure(detail: "write of \(path) stopped after \(step) (test)", errno: 0, stoppedAfter: step) }
        }
        func failure(_ what: String) -> Failure {
            let code = Glibc.errno
            return Failure(detail: "\(what): \(String(cString: strerror(code)))", errno: code, stoppedAfter: nil)
        }
        let folder = folderOf(path)
        if createFolder { try createFolders(folder) }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let temporary = "\(folder)/.\(name).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var closed = false, keep = false
        defer {
            if !closed { close(fd) }
            if !keep { unlink(temporary) }
        }
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        // The mode given at open is masked by the umask; an edited file keeps its own.
        _ = fchmod(fd, mode)
        do throws(Failure) {
            try stop(.temporaryCreated)
            let half = bytes.count / 2
            guard writeFully(fd, bytes[..<half]) else { throw failure("cannot write \(temporary)") }
            try stop(.temporaryPartlyWritten)
            guard writeFully(fd, bytes[half...]) else { throw failure("cannot write \(temporary)") }
            try stop(.temporaryWritten)
            guard fsync(fd) == 0 else { throw failure("fsync of \(temporary) failed") }
            close(fd); closed = true
            try stop(.temporarySynced)
            guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) over \(path)") }
        } catch {
            // A planned stop leaves the temporary file, as a crash would; a failure removes it.
            if error.stoppedAfter != nil { keep = true }
            throw error
        }
        keep = true  // renamed: nothing left to remove
        try stop(.renamed)
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 { fsync(folderFD); close(folderFD) }
        try stop(.folderSynced)
    }

    /// The whole file, nil when it cannot be read (`errno` says why).
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 { if errno == EINTR { continue }; return nil }
            if count == 0 { return result }
            result += buffer[..<count]
        }
    }

    /// The folder part of `path` (`"."` for a bare file name, `"/"` for a file in the root).
    public static func folderOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Creates `folder` and its missing parents (`mkdir -p`, mode 0755). The corresponding C call is `mkdir`.
    /// - Throws: ``Failure`` naming the folder that could not be made.
    public static func createFolders(_ folder: String) throws(Failure) {
        var partial = folder.hasPrefix("/") ? "" : "."
        for component in folder.split(separator: "/") {
            partial += "/" + component
            var info = stat()
            if stat(partial, &info) == 0 { continue }
            if mkdir(partial, 0o755) != 0 && errno != EEXIST {
                let code = errno
                throw Failure(detail: "cannot create the folder \(partial): \(String(cString: strerror(code)))", errno: code, stoppedAfter: nil)
            }
        }
    }

    /// Writes all of `bytes`, retrying `EINTR` and short writes.
    public static func writeFully(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 { if errno == EINTR { continue }; return false }
            offset += written
        }
        return true
    }
}
