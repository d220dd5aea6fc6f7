// SPDX-License-Identifier: Apache-2.0
import ADE9000
import SystemPackage

/// The actionable errors of ``SpidevTransport``: each says what failed and what to do.
/// `errno` parameters are the raw C value (`SPIError.errno`'s type), matched here as swift-system `Errno`.
extension SPIError {
    /// `open(2)` of the device node failed.
    static func openFailed(device: String, errno code: Int32) -> SPIError {
        let errno = Errno(rawValue: code)
        let detail =
            switch errno {
            case .noSuchFileOrDirectory:
                "no such device node: SPI is not enabled (or the path is not /dev/spidev<bus>.<cs>). "
                    + "On Raspberry Pi OS add `dtparam=spi=on` to /boot/firmware/config.txt "
                    + "(or run `sudo raspi-config nonint do_spi 0`), then reboot; or run with --simulate"
            case .permissionDenied:
                "permission denied: the `spi` group grants access to SPI device nodes. "
                    + "Run `sudo usermod -aG spi $USER`, then log out and in again; or run with --simulate"
            case .notPermitted:
                // EPERM, not EACCES: a device cgroup (systemd DeviceAllow=) refused it, not the file mode.
                "not permitted by the service's device list: the systemd unit must allow it (DeviceAllow=char-spi rw), "
                    + "and the spidev module must be loaded before the service starts (modprobe spidev)"
            default:
                "cannot open the SPI device node: \(errno)"
            }
        return SPIError(.open, device: device, errno: errno.rawValue, detail: detail)
    }

    /// A configuring ioctl (`request`, e.g. `SPI_IOC_WR_MODE`) failed.
    static func configureFailed(device: String, request: String, errno code: Int32) -> SPIError {
        let errno = Errno(rawValue: code)
        let detail =
            switch errno {
            case .inappropriateIOCTLForDevice:
                "\(request) failed (\(errno)): this is not a spidev device node; "
                    + "pass /dev/spidev<bus>.<cs>, or run with --simulate"
            case .invalidArgument:
                "\(request) failed (\(errno)): the SPI controller does not support this setting"
            default:
                "\(request) failed: \(errno)"
            }
        return SPIError(.configure, device: device, errno: errno.rawValue, detail: detail)
    }

    /// The requested clock is outside what the ADE9000 accepts; thrown before any I/O.
    static func speedOutOfRange(device: String, speedHz: UInt32, range: ClosedRange<UInt32>) -> SPIError {
        SPIError(
            .configure, device: device,
            detail: "SPI clock \(speedHz) Hz is outside \(range.lowerBound) Hz…\(range.upperBound) Hz "
                + "(ADE9000 SCLK maximum 20 MHz, datasheet Table 2); use 1–10 MHz on a Raspberry Pi, e.g. 5000000")
    }

    /// A frame longer than spidev's `bufsiz`; thrown before any frame is clocked.
    static func frameTooLong(device: String, index: Int, count: Int, bufsiz: Int) -> SPIError {
        SPIError(
            .transfer, device: device,
            detail: "frame \(index) is \(count) bytes, more than spidev's bufsiz of \(bufsiz) bytes; "
                + "read in chunks of at most \(bufsiz) bytes, or raise bufsiz (`spidev.bufsiz=65536` in "
                + "/boot/firmware/cmdline.txt, or `options spidev bufsiz=65536` in /etc/modprobe.d/) and reboot")
    }

    /// `SPI_IOC_MESSAGE(transfers)` of `bytes` failed.
    static func transferFailed(device: String, transfers: Int, bytes: Int, errno code: Int32) -> SPIError {
        let request = "SPI_IOC_MESSAGE(\(transfers)) of \(bytes) bytes"
        let errno = Errno(rawValue: code)
        let detail =
            switch errno {
            case .messageTooLong:
                "\(request) failed (\(errno)): more than spidev's bufsiz; raise it with "
                    + "`spidev.bufsiz=65536` in /boot/firmware/cmdline.txt and reboot"
            case .inappropriateIOCTLForDevice:
                "\(request) failed (\(errno)): this is not a spidev device node"
            default:
                "\(request) failed: \(errno)"
            }
        return SPIError(.transfer, device: device, errno: errno.rawValue, detail: detail)
    }

    /// `SPI_IOC_MESSAGE` returned fewer bytes than it was given.
    static func shortTransfer(device: String, transfers: Int, moved: Int, expected: Int) -> SPIError {
        SPIError(
            .transfer, device: device,
            detail: "SPI_IOC_MESSAGE(\(transfers)) moved \(moved) of \(expected) bytes; the frames were not all clocked")
    }

    /// The transport was used after ``SpidevTransport/close()``.
    static func closed(device: String) -> SPIError {
        SPIError(.closed, device: device, detail: "the SPI transport was closed; open a new SpidevTransport")
    }
}
