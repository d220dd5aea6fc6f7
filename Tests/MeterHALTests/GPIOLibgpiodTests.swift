// SPDX-License-Identifier: Apache-2.0

@testable import MeterHAL
import MeterGPIO
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine has GPIO character devices (CI and this build host have none).
private let hasGPIOChips = !Libgpiod.chipPaths().isEmpty

@Suite("libgpiod backend through the CGPIOD shim")
struct GPIOLibgpiodTests {
    @Test("the shim's API matches the linked library's major version")
    func apiVersion() throws {
        let major = try #require(Int(LibgpiodBackend.libraryVersion.prefix { $0 != "." }))
        #expect(LibgpiodBackend.apiVersion == major)
        #expect([1, 2].contains(LibgpiodBackend.apiVersion))
    }

    @Test("opening a missing device node fails with .noChip and ENOENT")
    func missingPath() {
        do {
            _ = try LibgpiodBackend.open(path: "/dev/gpiochip-clemap-missing")
            Issue.record("opened a missing chip")
        } catch {
            #expect(error.code == .noChip)
            #expect(error.errno == Errno.noSuchFileOrDirectory.rawValue)
            #expect("\(error)".hasPrefix("GPIO chip /dev/gpiochip-clemap-missing: no such device node"))
            #expect("\(error)".contains("pinctrl-bcm2835"))
        }
    }

    @Test("opening something that is not a GPIO chip fails cleanly")
    func notAChip() {
        do {
            _ = try LibgpiodBackend.open(path: "/dev/null")
            Issue.record("opened /dev/null as a chip")
        } catch {
            #expect(error.code == .noChip)
            #expect("\(error)".contains("not a GPIO character device"))
        }
    }

    @Test("without any /dev/gpiochip*, the automatic search names the labels and the gpio group",
          .enabled(if: !hasGPIOChips, "this machine has GPIO chips"))
    func noChips() {
        #expect(LibgpiodBackend.scan().isEmpty)
        do {
            _ = try LibgpiodBackend.open(.automatic)
            Issue.record("found a chip on a machine without any")
        } catch {
            #expect(error.code == .noChip)
            let text = "\(error)"
            #expect(text.contains("pinctrl-bcm2835, pinctrl-bcm2711 or pinctrl-rp1"))
            #expect(text.contains("sudo usermod -aG gpio $USER"))
        }
    }

    @Test("chip nodes are listed by number, symlinks included, other names skipped")
    func chipPaths() throws {
        var template = Array("/tmp/meterhal-gpio-XXXXXX".utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        defer {
            for name in ["gpiochip0", "gpiochip10", "gpiochip4", "gpiochipX", "spidev0.0"] { unlink(folder + "/" + name) }
            rmdir(folder)
        }
        for name in ["gpiochip10", "gpiochip0", "gpiochipX", "spidev0.0"] { close(open(folder + "/" + name, O_CREAT | O_WRONLY, 0o600)) }
        symlink("gpiochip0", folder + "/gpiochip4")
        #expect(Libgpiod.chipPaths(in: folder) == ["gpiochip0", "gpiochip4", "gpiochip10"].map { folder + "/" + $0 })
    }

    @Test("request errors say who to stop, which lines exist, or how to get access")
    func requestErrors() {
        let chip = GPIOChipInfo(path: "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-bcm2711", lineCount: 58,
                                library: "libgpiod 1.6.3", api: 1)
        let busy = GPIOError.requestFailed(chip: chip, offset: 21, what: "output", errno: .resourceBusy)
        #expect(busy.code == .busy)
        #expect("\(busy)".contains("systemctl stop clemap-edge"))
        let range = GPIOError.requestFailed(chip: chip, offset: 60, what: "output", errno: .invalidArgument)
        #expect(range.code == .request)
        #expect("\(range)".contains("0…57"))
        let denied = GPIOError.chipOpenFailed(path: "/dev/gpiochip0", request: .automatic, errno: .permissionDenied)
        #expect(denied.code == .permission)
        #expect("\(denied)".contains("usermod -aG gpio"))
    }
}
