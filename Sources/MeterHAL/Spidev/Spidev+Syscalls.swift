// SPDX-License-Identifier: Apache-2.0
internal import CSpidev
internal import Glibc
import SystemPackage

/// Every C call MeterHAL makes on a spidev descriptor. Only this file imports `CSpidev` and `Glibc`
/// (style.md §5), so a fault-injection seam would go here.
enum Spidev {
    /// The most transfers one `SPI_IOC_MESSAGE(n)` can carry. From n = 512 the size field of the request
    /// wraps to 0 and the kernel returns 0 without clocking anything (platform.md §2.2).
    static let maxTransfersPerMessage = Int(CSPIDEV_MAX_TRANSFERS)

    /// `ioctl(fd, SPI_IOC_WR_MODE, &mode)` (u8).
    static func writeMode(_ fd: FileDescriptor, _ mode: UInt8) -> Result<Void, Errno> {
        var value = mode
        return valueOrErrno { ioctl(fd.rawValue, cspidev_ioc_wr_mode(), &value) }.map { _ in }
    }

    /// `ioctl(fd, SPI_IOC_WR_BITS_PER_WORD, &bits)` (u8).
    static func writeBitsPerWord(_ fd: FileDescriptor, _ bits: UInt8) -> Result<Void, Errno> {
        var value = bits
        return valueOrErrno { ioctl(fd.rawValue, cspidev_ioc_wr_bits_per_word(), &value) }.map { _ in }
    }

    /// `ioctl(fd, SPI_IOC_WR_MAX_SPEED_HZ, &hz)` (u32).
    static func writeMaxSpeedHz(_ fd: FileDescriptor, _ hz: UInt32) -> Result<Void, Errno> {
        var value = hz
        return valueOrErrno { ioctl(fd.rawValue, cspidev_ioc_wr_max_speed_hz(), &value) }.map { _ in }
    }

    /// `ioctl(fd, SPI_IOC_MESSAGE(lengths.count), xfers)` through `cspidev_message`: one transfer per
    /// length, taken in order from `tx` and written in order to `rx`, chip select released between them.
    /// - Precondition: `1...maxTransfersPerMessage` lengths, `tx` and `rx` each hold their sum.
    /// - Returns: the bytes the kernel reports transferred.
    static func message(
        _ fd: FileDescriptor, tx: [UInt8], rx: inout [UInt8], lengths: [UInt32], speedHz: UInt32
    ) -> Result<Int, Errno> {
        tx.withUnsafeBufferPointer { tx in
            rx.withUnsafeMutableBufferPointer { rx in
                lengths.withUnsafeBufferPointer { lengths in
                    valueOrErrno {
                        cspidev_message(
                            fd.rawValue, tx.baseAddress, rx.baseAddress, lengths.baseAddress,
                            UInt32(lengths.count), speedHz)
                    }.map(Int.init)
                }
            }
        }
    }

    /// Turns −1/`errno` into `Errno`, retrying `EINTR` (swift-system's `valueOrErrno(retryOnInterrupt:)`).
    /// Retrying a message is safe: spidev returns EINTR only before the transfer starts.
    private static func valueOrErrno(_ call: () -> CInt) -> Result<CInt, Errno> {
        while true {
            let result = call()
            if result != -1 { return .success(result) }
            let error = Errno(rawValue: Glibc.errno)
            if error != .interrupted { return .failure(error) }
        }
    }
}
