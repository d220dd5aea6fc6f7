// SPDX-License-Identifier: Apache-2.0

/// Which GPIO chip to open: from `[GPIO_SERVICE] gpio_chip`, or found by label.
///
/// Chip numbers move between kernels (the Pi 5's header chip was gpiochip4, then gpiochip0, and on some
/// 2026 kernels there is no gpiochip0), so the default finds the chip by its label (platform.md §1.4).
public enum GPIOChipRequest: Sendable, Hashable, CustomStringConvertible {
    /// The first chip labelled ``headerLabels``, tried in that order.
    case automatic
    /// A device node, e.g. `/dev/gpiochip0`.
    case path(String)
    /// A chip label, e.g. `pinctrl-rp1`.
    case label(String)

    /// The labels of the 40-pin header's chip: Pi 0–3, Pi 4/400/CM4, Pi 5.
    public static let headerLabels = ["pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-rp1"]

    /// Reads `gpio_chip`: `nil` → automatic; `/…` → that path; `gpiochipN` → `/dev/gpiochipN`; otherwise a label.
    public init(configValue: String?) {
        guard let value = configValue?.trimmingWhitespace(), !value.isEmpty, value.lowercased() != "auto" else {
            self = .automatic
            return
        }
        if value.hasPrefix("/") {
            self = .path(value)
        } else if value.hasPrefix("gpiochip"), value.dropFirst(8).allSatisfy(\.isNumber), value.count > 8 {
            self = .path("/dev/" + value)
        } else {
            self = .label(value)
        }
    }

    /// The labels searched, in order (empty for a path).
    public var wantedLabels: [String] {
        switch self {
        case .automatic: Self.headerLabels
        case .path: []
        case .label(let label): [label]
        }
    }

    /// `the chip labelled pinctrl-bcm2835, pinctrl-bcm2711 or pinctrl-rp1`, `/dev/gpiochip0`.
    public var description: String {
        switch self {
        case .path(let path): path
        case .automatic, .label: "the chip labelled " + Self.orList(wantedLabels)
        }
    }

    static func orList(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items[items.count - 1]
    }
}

/// One `/dev/gpiochip*` seen while looking for a chip.
public struct GPIOChipCandidate: Sendable, Hashable {
    /// The device node.
    public var path: String
    /// Its label, or `nil` when it could not be opened.
    public var label: String?
    /// The `errno` of a failed open.
    public var errno: Int32?

    /// Creates a candidate.
    public init(path: String, label: String?, errno: Int32? = nil) { self.path = path; self.label = label; self.errno = errno }
}

/// Picks the chip for a ``GPIOChipRequest`` among the chips found. Pure, so every outcome is tested without hardware.
public enum GPIOChipSelection {
    /// EACCES and EPERM.
    static let permissionErrnos: Set<Int32> = [13, 1]

    /// The path of the chip to open for an automatic or label request.
    /// - Parameters:
    ///   - request: ``GPIOChipRequest/automatic`` or ``GPIOChipRequest/label(_:)``; a path is returned as is.
    ///   - candidates: Every `/dev/gpiochip*` with its label or open error, in path order.
    /// - Throws: ``GPIOError`` `.permission` when no chip matched and some could not be opened for lack of
    ///   permission; `.noChip` otherwise, naming the labels looked for and the chips found.
    public static func choose(_ request: GPIOChipRequest, among candidates: [GPIOChipCandidate]) throws(GPIOError) -> String {
        if case .path(let path) = request { return path }
        for label in request.wantedLabels {
            if let match = candidates.first(where: { $0.label == label }) { return match.path }
        }
        let wanted = GPIOChipRequest.orList(request.wantedLabels)
        let denied = candidates.filter { $0.errno.map(permissionErrnos.contains) ?? false }
        if !denied.isEmpty {
            throw GPIOError(.permission, subject: "GPIO chip (looked for labels \(wanted))",
                            detail: "permission denied opening \(denied.map(\.path).joined(separator: ", "))",
                            remedy: GPIOAccess.remedy, errno: denied[0].errno)
        }
        let detail = candidates.isEmpty ? "there is no /dev/gpiochip* on this machine"
            : "no chip has \(request.wantedLabels.count == 1 ? "this label" : "one of these labels"); found only "
                + candidates.map { "\($0.path) (\($0.label ?? "unreadable"))" }.joined(separator: ", ")
        let remedy = request == .automatic
            ? "run on the Raspberry Pi; if its header chip has another label, name it or its path in "
                + "[GPIO_SERVICE] gpio_chip; or run with --simulate. If the chips exist but cannot be opened, "
                + GPIOAccess.remedy
            : "set [GPIO_SERVICE] gpio_chip to the label or path of an existing chip (`gpiodetect` lists them), "
                + "or remove it to find the header's chip automatically; or run with --simulate"
        throw GPIOError(.noChip, subject: "GPIO chip (looked for labels \(wanted))",
                        detail: detail,
                        remedy: remedy)
    }
}
