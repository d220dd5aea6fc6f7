// SPDX-License-Identifier: Apache-2.0
import SystemPackage

/// How ``SpidevTransport`` splits a batch of frames into `SPI_IOC_MESSAGE` calls. Pure, so it is tested
/// without a device.
enum SpidevBatching {
    /// spidev's default `bufsiz` module parameter (platform.md §2.4).
    static let defaultBufsiz = 4096
    /// Where the running kernel reports `bufsiz`; present whether spidev is a module or built in.
    static let bufsizPath = "/sys/module/spidev/parameters/bufsiz"

    /// A single frame longer than `bufsiz`: no message can carry it.
    struct OversizedFrame: Error, Equatable {
        /// Index of the frame in the caller's array.
        let index: Int
        /// Its length in bytes.
        let count: Int
    }

    /// Groups frames, in order, into messages that spidev accepts.
    ///
    /// spidev fails a message with `EMSGSIZE` when its summed tx (or rx) bytes exceed `bufsiz`, and
    /// `SPI_IOC_MESSAGE(n)` does nothing from n = 512. Empty frames are left out: they clock nothing.
    /// - Parameters:
    ///   - frameLengths: length of each frame, in bytes.
    ///   - bufsiz: the most bytes one message may carry.
    ///   - maxTransfers: the most frames one message may carry.
    /// - Returns: frame indices per message; every non-empty frame appears once, in order.
    /// - Throws: ``OversizedFrame`` for the first frame longer than `bufsiz`, before anything is planned.
    static func batches(
        frameLengths: [Int], bufsiz: Int, maxTransfers: Int = Spidev.maxTransfersPerMessage
    ) throws(OversizedFrame) -> [[Int]] {
        var batches: [[Int]] = []
        var current: [Int] = []
        var currentBytes = 0
        for (index, count) in frameLengths.enumerated() where count > 0 {
            guard count <= bufsiz else { throw OversizedFrame(index: index, count: count) }
            if currentBytes + count > bufsiz || current.count == maxTransfers {
                batches.append(current)
                current = []
                currentBytes = 0
            }
            current.append(index)
            currentBytes += count
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Reads `bufsiz` from sysfs; ``defaultBufsiz`` when the file is missing or does not hold a positive integer.
    static func bufsiz(readingFrom path: String = bufsizPath) -> Int {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) else {
            return defaultBufsiz
        }
        defer { try? fd.close() }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard let count = try? bytes.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return defaultBufsiz }
        let text = String(decoding: bytes[..<count], as: UTF8.self).filter { !$0.isWhitespace }
        guard let value = Int(text), value > 0 else { return defaultBufsiz }
        return value
    }
}
