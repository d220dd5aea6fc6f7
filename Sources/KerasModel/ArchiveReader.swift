// SPDX-License-Identifier: Apache-2.0

internal import CArchive

/// The regular files of a tar, tar.gz or zip (.keras) archive, read into memory with libarchive
/// (`archive_read_support_filter_all`, `archive_read_support_format_all`). All libarchive calls of the module
/// are here. Models are small (tens of kB), so whole entries in memory are fine; `limit` guards the rest.
struct ArchiveReader {
    /// One regular file of the archive: its path as stored (a leading `./` removed) and its bytes.
    struct Entry {
        var path: String
        var bytes: [UInt8]
        /// The last path component.
        var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    }

    /// What went wrong, in libarchive's words (`archive_error_string`).
    struct Failure: Error { var message: String }

    /// Reads every regular file of the archive at `path`.
    static func entries(path: String, limit: Int = 256 << 20) throws(Failure) -> [Entry] {
        try read(limit: limit) { archive_read_open_filename($0, path, 64 * 1024) }
    }

    /// Reads every regular file of an archive held in memory (a .keras inside a tar.gz).
    static func entries(bytes: [UInt8], limit: Int = 256 << 20) throws(Failure) -> [Entry] {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(Failure) -> [Entry] in
                try read(limit: limit) { archive_read_open_memory($0, buffer.baseAddress, buffer.count) }
            }
        }
        return try result.get()
    }

    private static func read(limit: Int, open: (OpaquePointer) -> Int32) throws(Failure) -> [Entry] {
        guard let archive = archive_read_new() else { throw Failure(message: "libarchive: out of memory") }
        defer { archive_read_free(archive) }
        // What model files come in: .keras (zip), SageMaker's model.tar.gz, a plain tar. Only these readers are
        // linked in (libarchive is linked statically), so xar's libxml2 and ICU never load.
        archive_read_support_filter_gzip(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_zip(archive)
        guard open(archive) == ARCHIVE_OK else { throw Failure(message: message(archive)) }
        var entries: [Entry] = []
        var total = 0
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else {
                throw Failure(message: message(archive))
            }
            guard archive_entry_filetype(header) == carchive_ifreg() else { continue }
            var path = archive_entry_pathname(header).map { String(cString: $0) } ?? ""
            while path.hasPrefix("./") { path.removeFirst(2) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else { throw Failure(message: "\(path): " + message(archive)) }
                bytes.append(contentsOf: chunk[0..<count])
                total += count
                guard total <= limit else { throw Failure(message: "more than \(limit >> 20) MiB unpacked") }
            }
            entries.append(Entry(path: path, bytes: bytes))
        }
        return entries
    }

    private static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "libarchive error \(archive_errno(archive))"
    }
}
