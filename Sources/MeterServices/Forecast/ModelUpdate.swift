// SPDX-License-Identifier: Apache-2.0
public import Forecast
import MeterFiles
#if canImport(Glibc)
import Glibc
#endif

/// A new model file handed over (by the exporter from S3, or by `clemap-edge model fetch`): verified before it
/// replaces `[FORECAST] model`, then swapped in atomically. ``ForecastService/offer(stagedFile:source:)`` does both
/// on the service's own history; a command without a running service calls these two itself.
///
/// Stage the file in the destination's folder (e.g. `models/.model.tar.gz.staged`): the swap is then one rename,
/// and a `scaler.json` beside it (used when the archive holds none) is the one the installed file will see.
public enum ModelUpdate {
    /// Loads the staged file and runs it over recent history.
    ///
    /// Loading refuses an unsafe or damaged archive, an unsupported layer or shape (``KerasModel``); the check
    /// refuses a model whose outputs are not all finite. Blocks on file I/O and a few hundred predictions.
    /// - Parameters:
    ///   - path: the staged model file.
    ///   - history: the minutes to check on (the forecaster's).
    ///   - minute: the newest minute to check up to.
    ///   - loader: loads a file as a servable model; the service's (``KerasServedModel/loader``) by default.
    /// - Returns: the model, and what the check found (for the event log).
    /// - Throws: ``NotYetCheckable`` when the history holds no window to check on yet (try again later); else why
    ///   the model cannot serve: a `KerasModelError`, ``KerasServedModel/Unsuitable``, or the loader's error.
    public static func verify(staged path: String, history: MinuteSeries, at minute: Int64,
                              loader: (String) throws -> any CheckedForecastModel = KerasServedModel.loader) throws
        -> (model: any CheckedForecastModel, check: String) {
        let model = try loader(path)
        let check = try model.check(history: history, at: minute)
        return (model, check)
    }

    /// Puts the staged file in place of `destination`, so that a crash or power cut at any moment leaves either
    /// the old file or the new one there, and keeps the replaced file as `<destination>.previous` (copying it
    /// back rolls back).
    ///
    /// The staged file is fsynced, the old one hard-linked (or, where links are not possible, copied) to
    /// `.previous`, the staged file renamed over `destination` and the folder fsynced. A staged file on another
    /// filesystem is copied into the destination's folder first and renamed from there (as `AtomicFile` writes).
    /// Blocks for the fsyncs.
    /// - Returns: the path the replaced file is kept at, nil when `destination` did not exist.
    /// - Throws: ``InstallError``; `destination` is then unchanged.
    @discardableResult
    public static func install(staged: String, destination: String) throws(InstallError) -> String? {
        var info = stat()
        guard stat(staged, &info) == 0 else {
            throw InstallError(detail: "cannot read the staged file \(staged): \(lastError())", remedy: "stage the file again")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw InstallError(detail: "the staged file \(staged) is not a regular file", remedy: "stage the model file itself")
        }
        // The data must be on disk before the rename that makes it the model is.
        let fd = open(staged, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InstallError(detail: "cannot open the staged file \(staged): \(lastError())", remedy: "stage the file again") }
        let synced = fsync(fd) == 0
        let syncError = lastError()
        close(fd)
        guard synced else { throw InstallError(detail: "fsync of \(staged) failed: \(syncError)", remedy: "check the disk (dmesg) and stage the file again") }

        let folder = AtomicFile.folderOf(destination)
        let writable = "let the service's user write the folder \(folder)"
        let previous = destination + ".previous"
        var kept: String?
        if stat(destination, &info) == 0 {
            try keep(destination, as: previous, folder: folder, remedy: writable)
            kept = previous
        }
        if rename(staged, destination) != 0 {
            guard errno == EXDEV else {
                throw InstallError(detail: "cannot rename \(staged) over \(destination): \(lastError())", remedy: writable)
            }
            // Another filesystem: copied into the destination's folder, then renamed there (AtomicFile).
            guard let bytes = AtomicFile.read(staged) else {
                throw InstallError(detail: "cannot read the staged file \(staged): \(lastError())", remedy: "stage the file again")
            }
            do { try AtomicFile.write(bytes, to: destination, mode: 0o644) } catch {
                throw InstallError(detail: "cannot copy \(staged) over \(destination): \(error)",
                                   remedy: writable + ", or stage the file in that folder")
            }
            unlink(staged)
        }
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 { fsync(folderFD); close(folderFD) }
        return kept
    }

    /// `previous` becomes the file at `path`: a hard link renamed into place (no copy), else a copy.
    private static func keep(_ path: String, as previous: String, folder: String, remedy: String) throws(InstallError) {
        let name = previous.split(separator: "/").last.map(String.init) ?? previous
        let temporary = "\(folder)/.\(name).tmp-\(getpid())"
        unlink(temporary)
        if link(path, temporary) == 0 {
            guard rename(temporary, previous) == 0 else {
                let error = lastError()
                unlink(temporary)
                throw InstallError(detail: "cannot keep \(path) as \(previous): \(error)", remedy: remedy)
            }
            return
        }
        // A filesystem without hard links (FAT): copy.
        guard let bytes = AtomicFile.read(path) else {
            throw InstallError(detail: "cannot read \(path) to keep it as \(previous): \(lastError())", remedy: remedy)
        }
        do { try AtomicFile.write(bytes, to: previous, mode: 0o644) } catch {
            throw InstallError(detail: "cannot keep \(path) as \(previous): \(error)", remedy: remedy)
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// Why a verified model file could not be put in place; the file there is unchanged.
    public struct InstallError: Error, CustomStringConvertible, Sendable {
        /// What was being done and the system's words, naming the files.
        public var detail: String
        /// What to do about it.
        public var remedy: String
        /// `<detail>. Fix: <remedy>`.
        public var description: String { "\(detail). Fix: \(remedy)" }
    }
}

/// What became of a model file offered to the running forecaster (``ForecastService/offer(stagedFile:source:)``).
public enum ModelOfferVerdict: Sendable, Equatable {
    /// Verified, installed over `[FORECAST] model` and served from the next minute on: the model's summary and
    /// what its check found.
    case served(summary: String)
    /// Not served, and the staged file deleted: why (the file or entry, what is wrong, and the fix). The model
    /// served before goes on.
    case refused(reason: String)
    /// Not decided: the history holds no window to check the model on yet, or the forecaster stopped first. The
    /// staged file stays; offer it again later.
    case notYet(reason: String)
}
