// SPDX-License-Identifier: Apache-2.0
import MeterGPIO
import SystemPackage

/// The actionable errors of ``LibgpiodBackend``: each says what failed and what to do.
extension GPIOError {
    /// Opening a chip's device node failed.
    static func chipOpenFailed(path: String, request: GPIOChipRequest, errno: Errno) -> GPIOError {
        let subject = "GPIO chip \(path)"
        switch errno {
        case .permissionDenied, .notPermitted:
            return GPIOError(.permission, subject: subject, detail: "permission denied", remedy: GPIOAccess.remedy,
                             errno: errno.rawValue)
        case .noSuchFileOrDirectory:
            return GPIOError(.noChip, subject: subject, detail: "no such device node",
                             remedy: "set [GPIO_SERVICE] gpio_chip to an existing chip (`ls /dev/gpiochip*`, `gpiodetect`), "
                                + "or remove it to find the header's chip by label ("
                                + GPIOChipRequest.headerLabels.joined(separator: ", ") + "); or run with --simulate",
                             errno: errno.rawValue)
        case .inappropriateIOCTLForDevice, .operationNotSupportedByDevice, .notSupported:
            return GPIOError(.noChip, subject: subject, detail: "not a GPIO character device (\(errno))",
                             remedy: "name a /dev/gpiochipN node in [GPIO_SERVICE] gpio_chip", errno: errno.rawValue)
        default:
            return GPIOError(.noChip, subject: subject, detail: "cannot open: \(errno)",
                             remedy: "check the device node and the kernel log (`dmesg | grep -i gpio`)", errno: errno.rawValue)
        }
    }

    /// A line request was refused.
    static func requestFailed(chip: GPIOChipInfo, offset: Int, what: String, errno: Errno) -> GPIOError {
        let subject = "GPIO \(offset) on \(chip.path) (\(chip.label))"
        switch errno {
        case .resourceBusy:
            return GPIOError(.busy, subject: subject,
                             detail: "busy: another consumer holds the line (the running clemap-edge service, or another program; "
                                + "`gpioinfo \(chip.name)` shows who)",
                             remedy: "stop that program (`sudo systemctl stop clemap-edge` for the service), "
                                + "or give this function another pin in [GPIO_SERVICE]", errno: errno.rawValue)
        case .invalidArgument:
            return GPIOError(.request, subject: subject,
                             detail: "the kernel refused it as \(what): the chip has lines 0…\(chip.lineCount - 1), "
                                + "and bias settings need Linux 5.5 or later",
                             remedy: "use a BCM GPIO number from 0 to \(chip.lineCount - 1) in [GPIO_SERVICE]",
                             errno: errno.rawValue)
        case .permissionDenied, .notPermitted:
            return GPIOError(.permission, subject: subject, detail: "permission denied requesting it as \(what)",
                             remedy: GPIOAccess.remedy, errno: errno.rawValue)
        default:
            return GPIOError(.request, subject: subject, detail: "cannot request it as \(what): \(errno)",
                             remedy: "check the kernel log (`dmesg | grep -i gpio`) and the pin in [GPIO_SERVICE]",
                             errno: errno.rawValue)
        }
    }

    /// Driving or reading a requested line failed.
    static func lineIOFailed(chip: GPIOChipInfo, offset: Int, operation: String, errno: Errno) -> GPIOError {
        GPIOError(.io, subject: "GPIO \(offset) on \(chip.path)", detail: "\(operation) failed: \(errno)",
                  remedy: "check the kernel log (`dmesg | grep -i gpio`); the chip may have gone away", errno: errno.rawValue)
    }

    /// A line that was not requested, or a closed chip.
    static func closed(chip: GPIOChipInfo, offset: Int) -> GPIOError {
        GPIOError(.notRequested, subject: "GPIO \(offset) on \(chip.path)", detail: "the line is not requested (or the chip is closed)",
                  remedy: "request it first (BoardIO.start or request(_:))")
    }
}
