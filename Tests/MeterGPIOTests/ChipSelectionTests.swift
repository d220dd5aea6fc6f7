// SPDX-License-Identifier: Apache-2.0

import MeterGPIO
import Testing

@Suite("Finding the GPIO chip (pure)")
struct ChipSelectionTests {
    @Test("gpio_chip: absent/auto, a path, a chip name, a label")
    func configValue() {
        #expect(GPIOChipRequest(configValue: nil) == .automatic)
        #expect(GPIOChipRequest(configValue: " auto ") == .automatic)
        #expect(GPIOChipRequest(configValue: "") == .automatic)
        #expect(GPIOChipRequest(configValue: "/dev/gpiochip4") == .path("/dev/gpiochip4"))
        #expect(GPIOChipRequest(configValue: "gpiochip0") == .path("/dev/gpiochip0"))
        #expect(GPIOChipRequest(configValue: "pinctrl-rp1") == .label("pinctrl-rp1"))
        #expect(GPIOChipRequest(configValue: "gpiochip") == .label("gpiochip"))
        #expect(GPIOChipRequest.automatic.wantedLabels == ["pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-rp1"])
    }

    @Test("Pi 4: gpiochip0 is pinctrl-bcm2711, gpiochip1 the expander")
    func pi4() throws {
        let chips = [GPIOChipCandidate(path: "/dev/gpiochip0", label: "pinctrl-bcm2711"),
                     GPIOChipCandidate(path: "/dev/gpiochip1", label: "raspberrypi-exp-gpio")]
        #expect(try GPIOChipSelection.choose(.automatic, among: chips) == "/dev/gpiochip0")
    }

    @Test("Pi 5 before 6.6.45: the header chip is gpiochip4; on 2026 kernels gpiochip13 with no gpiochip0")
    func pi5() throws {
        let old = (0..<4).map { GPIOChipCandidate(path: "/dev/gpiochip\($0)", label: "gpio-brcmstb@107d5085\($0)0") }
            + [GPIOChipCandidate(path: "/dev/gpiochip4", label: "pinctrl-rp1")]
        #expect(try GPIOChipSelection.choose(.automatic, among: old) == "/dev/gpiochip4")
        let new = [GPIOChipCandidate(path: "/dev/gpiochip11", label: "gpio-brcmstb@107d508500"),
                   GPIOChipCandidate(path: "/dev/gpiochip13", label: "pinctrl-rp1")]
        #expect(try GPIOChipSelection.choose(.automatic, among: new) == "/dev/gpiochip13")
    }

    @Test("a configured label or path wins")
    func configured() throws {
        let chips = [GPIOChipCandidate(path: "/dev/gpiochip0", label: "pinctrl-bcm2711"),
                     GPIOChipCandidate(path: "/dev/gpiochip2", label: "my-expander")]
        #expect(try GPIOChipSelection.choose(.label("my-expander"), among: chips) == "/dev/gpiochip2")
        #expect(try GPIOChipSelection.choose(.path("/dev/gpiochip9"), among: []) == "/dev/gpiochip9")
    }

    @Test("no chip at all: the error names the labels looked for and how to get access")
    func none() {
        do {
            _ = try GPIOChipSelection.choose(.automatic, among: [])
            Issue.record("chose a chip among none")
        } catch {
            #expect(error.code == .noChip)
            let text = "\(error)"
            for needle in ["pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-rp1", "no /dev/gpiochip*", "--simulate",
                           "sudo usermod -aG gpio $USER", "KERNEL==\"gpiochip*\", GROUP=\"gpio\"", "Fix: "] {
                #expect(text.contains(needle), "missing \(needle) in: \(text)")
            }
        }
    }

    @Test("chips without a wanted label are listed")
    func wrongLabels() {
        do {
            _ = try GPIOChipSelection.choose(.automatic, among: [GPIOChipCandidate(path: "/dev/gpiochip0", label: "gpio-mockup-A")])
            Issue.record("chose a chip without a wanted label")
        } catch {
            #expect(error.code == .noChip)
            #expect("\(error)".contains("found only /dev/gpiochip0 (gpio-mockup-A)"))
            #expect("\(error)".contains("gpio_chip"))
        }
    }

    @Test("chips that cannot be opened for lack of permission: a permission error with the gpio group")
    func permission() {
        do {
            _ = try GPIOChipSelection.choose(.automatic, among: [GPIOChipCandidate(path: "/dev/gpiochip0", label: nil, errno: 13)])
            Issue.record("chose an unreadable chip")
        } catch {
            #expect(error.code == .permission)
            #expect(error.errno == 13)
            #expect("\(error)".contains("permission denied opening /dev/gpiochip0"))
            #expect("\(error)".contains("sudo usermod -aG gpio $USER"))
        }
    }
}
