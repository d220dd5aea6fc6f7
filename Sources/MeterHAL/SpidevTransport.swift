// SPDX-License-Identifier: Apache-2.0
public import ADE9000
import Synchronization
import SystemPackage

/// An ``SPITransport`` over a Linux spidev device node (`/dev/spidevB.C`).
///
/// Opens and configures the node once (mode, 8 bits per word, clock), then sends each batch of frames with
/// as few `ioctl(fd, SPI_IOC_MESSAGE(n), …)` calls as spidev's `bufsiz` allows, chip select released
/// between frames. Transfers are serialised by a mutex and block for the duration of the bus transfer.
///
/// Sendable without `@unchecked`: every stored property is an immutable `let`, and the descriptor, which
/// ``close()`` ends, lives inside a `Mutex`.
public final class SpidevTransport: SPITransport {
    /// The clock rates accepted by ``init(path:mode:speedHz:)``: up to the ADE9000's 20 MHz SCLK maximum
    /// (datasheet Table 2).
    public static let speedRange: ClosedRange<UInt32> = 1...20_000_000

    /// The device node path, e.g. `/dev/spidev0.0`.
    public let deviceName: String
    /// The mode set with `SPI_IOC_WR_MODE`.
    public let mode: SPIMode
    /// The clock set with `SPI_IOC_WR_MAX_SPEED_HZ`; the controller may round it down.
    public let speedHz: UInt32
    /// The most bytes one `SPI_IOC_MESSAGE` may carry: spidev's `bufsiz` module parameter, read from
    /// `/sys/module/spidev/parameters/bufsiz` (4096 when absent). A longer frame is rejected by ``transfer(_:)``.
    public let bufsiz: Int

    /// `nil` once closed.
    private let descriptor: Mutex<FileDescriptor?>

    /// Opens and configures a spidev device node.
    ///
    /// Calls `open(path, O_RDWR | O_CLOEXEC)`, then `ioctl` with `SPI_IOC_WR_MODE`, `SPI_IOC_WR_BITS_PER_WORD`
    /// (8) and `SPI_IOC_WR_MAX_SPEED_HZ`.
    /// - Parameters:
    ///   - path: The device node, `/dev/spidev<bus>.<chip-select>`.
    ///   - mode: Clock polarity and phase; the ADE9000 wants ``SPIMode/mode3``.
    ///   - speedHz: The SCLK rate, within ``speedRange``.
    /// - Throws: ``SPIError`` `.configure` when `speedHz` is out of range (before any I/O) or an ioctl
    ///   fails (e.g. `ENOTTY`: not a spidev node); `.open` when the node cannot be opened, saying how to
    ///   enable SPI or gain access.
    public convenience init(
        path: String = "/dev/spidev0.0", mode: SPIMode = .mode3, speedHz: UInt32 = 5_000_000
    ) throws(SPIError) {
        guard Self.speedRange.contains(speedHz) else {
            throw .speedOutOfRange(device: path, speedHz: speedHz, range: Self.speedRange)
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readWrite, options: .closeOnExec)
        } catch {
            throw .openFailed(device: path, errno: (error as? Errno ?? .ioError).rawValue)
        }
        let steps: [(request: String, call: () -> Result<Void, Errno>)] = [
            ("SPI_IOC_WR_MODE (\(mode))", { Spidev.writeMode(fd, mode.rawValue) }),
            ("SPI_IOC_WR_BITS_PER_WORD (8)", { Spidev.writeBitsPerWord(fd, 8) }),
            ("SPI_IOC_WR_MAX_SPEED_HZ (\(speedHz))", { Spidev.writeMaxSpeedHz(fd, speedHz) }),
        ]
        for step in steps {
            if case .failure(let errno) = step.call() {
                try? fd.close()
                throw .configureFailed(device: path, request: step.request, errno: errno.rawValue)
            }
        }
        self.init(descriptor: fd, path: path, mode: mode, speedHz: speedHz, bufsiz: SpidevBatching.bufsiz())
    }

    /// Takes ownership of an open, configured descriptor.
    init(descriptor: FileDescriptor, path: String, mode: SPIMode, speedHz: UInt32, bufsiz: Int) {
        self.descriptor = Mutex(descriptor)
        self.deviceName = path
        self.mode = mode
        self.speedHz = speedHz
        self.bufsiz = bufsiz
    }

    /// Takes ownership of any open descriptor, unconfigured; tests use it to reach the transfer path
    /// without a device.
    convenience init(adopting rawDescriptor: Int32, path: String, bufsiz: Int = SpidevBatching.defaultBufsiz) {
        self.init(
            descriptor: FileDescriptor(rawValue: rawDescriptor), path: path, mode: .mode3, speedHz: 5_000_000,
            bufsiz: bufsiz)
    }

    deinit { close() }

    /// Clocks each frame as its own chip-select-framed transaction, in order.
    ///
    /// Frames are concatenated and sent with `ioctl(fd, SPI_IOC_MESSAGE(n), …)`, `cs_change` set between
    /// them; a batch larger than ``bufsiz`` bytes or 511 frames takes several ioctls. Empty frames clock
    /// nothing and return empty. `EINTR` is retried. Blocks for the bus transfer, under a mutex.
    /// - Parameter frames: MOSI bytes of each transaction.
    /// - Returns: MISO bytes of each transaction, each the length of its frame.
    /// - Throws: ``SPIError`` `.transfer` when a frame exceeds ``bufsiz`` (before any frame is clocked), when
    ///   the ioctl fails or moves fewer bytes than given (no later ioctl is made); `.closed` after ``close()``.
    public func transfer(_ frames: [[UInt8]]) throws(SPIError) -> [[UInt8]] {
        let batches: [[Int]]
        do {
            batches = try SpidevBatching.batches(frameLengths: frames.map(\.count), bufsiz: bufsiz)
        } catch {
            throw .frameTooLong(device: deviceName, index: error.index, count: error.count, bufsiz: bufsiz)
        }
        return try descriptor.withLock { (fd) throws(SPIError) -> [[UInt8]] in
            guard let fd else { throw .closed(device: deviceName) }
            var replies = frames.map { _ in [UInt8]() }
            for batch in batches {
                let tx = batch.flatMap { frames[$0] }
                var rx = [UInt8](repeating: 0, count: tx.count)
                let lengths = batch.map { UInt32(frames[$0].count) }
                switch Spidev.message(fd, tx: tx, rx: &rx, lengths: lengths, speedHz: speedHz) {
                case .failure(let errno):
                    throw .transferFailed(
                        device: deviceName, transfers: batch.count, bytes: tx.count, errno: errno.rawValue)
                case .success(let moved) where moved != tx.count:
                    throw .shortTransfer(device: deviceName, transfers: batch.count, moved: moved, expected: tx.count)
                case .success:
                    var offset = 0
                    for index in batch {
                        replies[index] = Array(rx[offset..<offset + frames[index].count])
                        offset += frames[index].count
                    }
                }
            }
            return replies
        }
    }

    /// Closes the device node (`close(2)`). Later transfers throw `.closed`; closing again does nothing.
    ///
    /// Never throws: Linux releases the descriptor even when `close` reports an error, so there is
    /// nothing to retry. `deinit` calls it.
    public func close() {
        let fd = descriptor.withLock { fd in
            defer { fd = nil }
            return fd
        }
        try? fd?.close()
    }
}
