// SPDX-License-Identifier: Apache-2.0

internal import CArchive

/// The regular files of a tar, tar.gz or zip (.keras) archive, read into memory with libarchive. All libarchive
/// calls of the module are here. Models are small (tens of kB), so whole entries in memory are fine; `limit`
/// guards the rest.
///
/// Nothing is ever unpacked to disk, but an archive a job hands over is refused whole, not filtered, when an entry
/// could do harm where it *would* be unpacked (an absolute path, a `..` component, a link, a device, a FIFO, a
/// socket), or when it is cut short: a model read from part of an archive, or without its scaler, is a wrong model.
struct ArchiveReader {
    /// One regular file of the archive: its path as stored (a leading `./` removed) and its bytes.
    struct Entry {
        var path: String
        var bytes: [UInt8]
        /// The last path component.
        var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    }

    /// Why an archive was not read.
    struct Failure: Error {
        enum Kind {
            /// The bytes are no archive libarchive reads here (tar, tar.gz, zip).
            case notAnArchive
            /// An archive, cut short or damaged.
            case damaged
            /// An entry that must not be unpacked: `entry` names it.
            case unsafeEntry
            /// More than the limit unpacked.
            case tooLarge
        }
        var kind: Kind
        /// What is wrong (libarchive's words, `archive_error_string`, where it says so).
        var message: String
        var remedy: String
        /// The entry's path as stored, for ``Kind/unsafeEntry``.
        var entry: String? = nil
    }

    /// The gzip, zip and tar signatures: bytes that start so are an archive, damaged if libarchive fails on them.
    static func looksLikeArchive(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: [0x1F, 0x8B]) || bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return true }
        return bytes.count >= 262 && Array(bytes[257..<262]) == Array("ustar".utf8)
    }

    /// Reads every regular file of an archive held in memory.
    /// - Parameter limit: the most bytes all regular files may hold unpacked.
    static func entries(bytes: [UInt8], limit: Int) throws(Failure) -> [Entry] {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(Failure) -> [Entry] in
                try read(limit: limit, isArchive: looksLikeArchive(bytes)) { archive_read_open_memory($0, buffer.baseAddress, buffer.count) }
            }
        }
        return try result.get()
    }

    private static func read(limit: Int, isArchive: Bool, open: (OpaquePointer) -> Int32) throws(Failure) -> [Entry] {
        guard let archive = archive_read_new() else {
            throw Failure(kind: .damaged, message: "libarchive: out of memory", remedy: "free memory and try again")
        }
        defer { archive_read_free(archive) }
        func failed(_ what: String = "") -> Failure {
            let words = what + message(archive)
            guard isArchive else {
                return Failure(kind: .notAnArchive, message: words,
                               remedy: "give the .h5 or .keras file Keras wrote, or the model.tar.gz of the training job")
            }
            return Failure(kind: .damaged, message: "the archive is cut short or damaged (\(words))",
                           remedy: "copy or download it again in full and compare its size with the original's")
        }
        // What model files come in: .keras (zip), SageMaker's model.tar.gz, a plain tar. Only these readers are
        // linked in (libarchive is linked statically), so xar's libxml2 and ICU never load.
        archive_read_support_filter_gzip(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_zip(archive)
        guard open(archive) == ARCHIVE_OK else { throw failed() }
        var entries: [Entry] = []
        var total = 0
        var header: OpaquePointer?
        var consumedBeforeEnd: Int64 = 0
        var lastPath: String?
        while true {
            consumedBeforeEnd = archive_filter_bytes(archive, 0)
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else { throw failed() }
            var path = archive_entry_pathname(header).map { String(cString: $0) } ?? ""
            try checkSafe(header, path: path)
            while path.hasPrefix("./") { path.removeFirst(2) }
            lastPath = path
            // Folders are fine (skipped); every other kind was refused by checkSafe.
            guard archive_entry_filetype(header) == carchive_ifreg() else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else { throw failed("\(path): ") }
                bytes.append(contentsOf: chunk[0..<count])
                total += count
                guard total <= limit else {
                    throw Failure(kind: .tooLarge, message: "the archive unpacks to more than \(mebibytes(limit)) (at \(path)), far more than a model for this device holds",
                                  remedy: "pack only model.h5 (or model.keras) and optionally scaler.json; a model this big needs a larger unpacked limit")
                }
            }
            entries.append(Entry(path: path, bytes: bytes))
        }
        // libarchive ends an uncompressed tar without complaint where the data ends at a block boundary ("some
        // writers omit the block of nulls"), so a tar cut between two members reads as a whole one; every tar
        // writer that matters (GNU tar, Python's tarfile) ends with the null blocks, so ask for them. (A gzip
        // stream cut anywhere fails above: its end is only reached through the gzip trailer.)
        let format = archive_format(archive) & ARCHIVE_FORMAT_BASE_MASK
        if format == ARCHIVE_FORMAT_TAR, archive_filter_code(archive, 0) == ARCHIVE_FILTER_NONE,
           archive_filter_bytes(archive, 0) - consumedBeforeEnd < 512 {
            throw Failure(kind: .damaged,
                          message: "the archive is cut short: the tar ends without its end-of-archive blocks\(lastPath.map { ", after \($0)" } ?? "")",
                          remedy: "copy or download it again in full and compare its size with the original's")
        }
        return entries
    }

    /// Refuses an entry that could write outside the folder it is unpacked in, or that is not a file or folder.
    private static func checkSafe(_ header: OpaquePointer, path: String) throws(Failure) {
        func unsafe(_ what: String, _ remedy: String) -> Failure {
            Failure(kind: .unsafeEntry, message: what, remedy: remedy, entry: path)
        }
        let relative = "pack paths relative to the model folder, e.g. tar czf model.tar.gz -C /opt/ml/model model.h5 scaler.json"
        let onlyFiles = "pack only model.h5 (or model.keras) and optionally scaler.json as plain files, e.g. tar czf model.tar.gz model.h5 scaler.json"
        if path.hasPrefix("/") {
            throw unsafe("an absolute path, which would be unpacked outside the model folder", relative)
        }
        if path.split(separator: "/").contains("..") {
            throw unsafe("a '..' path component, which would be unpacked outside the model folder", relative)
        }
        // A tar hard link has no file type of its own in libarchive (0, or that of its target).
        if let target = archive_entry_hardlink(header) {
            throw unsafe("a hard link (to \(String(cString: target))), not a file",
                         "pack the file itself, not a link: " + onlyFiles)
        }
        let type = archive_entry_filetype(header)
        switch type {
        case carchive_ifreg(), carchive_ifdir():
            return
        case carchive_iflnk():
            let target = archive_entry_symlink(header).map { String(cString: $0) } ?? "?"
            throw unsafe("a symbolic link (to \(target)), not a file",
                         "pack the file itself, not a link (tar's -h stores what a link points to): " + onlyFiles)
        case carchive_ifchr(): throw unsafe("a character device, not a file", onlyFiles)
        case carchive_ifblk(): throw unsafe("a block device, not a file", onlyFiles)
        case carchive_ififo(): throw unsafe("a FIFO (named pipe), not a file", onlyFiles)
        case carchive_ifsock(): throw unsafe("a socket, not a file", onlyFiles)
        default: throw unsafe("an entry of unknown type (mode 0o\(String(type, radix: 8))), not a file", onlyFiles)
        }
    }

    private static func message(_ archive: OpaquePointer) -> String {
        "libarchive: " + (archive_error_string(archive).map { String(cString: $0) } ?? "error \(archive_errno(archive))")
    }

    /// `64 MiB`, or the bytes when below a MiB.
    static func mebibytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}
