// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole small file (a model, `scaler.json`) with `open`/`read`, reporting errno in words.
enum LocalFile {
    enum Outcome {
        case contents([UInt8])
        case folder
        case failure(String)
        /// Larger than the limit given: its size in bytes (nothing read).
        case tooLarge(Int64)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// - Parameter limit: the most bytes to read; a larger file is ``Outcome/tooLarge(_:)`` (a file that grows
    ///   while read is cut at one byte over, and is too large too).
    static func read(_ path: String, limit: Int = .max) -> Outcome {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .folder }
        if info.st_size > limit { return .tooLarge(Int64(info.st_size)) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return .contents(bytes) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(String(cString: strerror(errno)))
            }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { return .tooLarge(Int64(bytes.count)) }
        }
    }
}
