// SPDX-License-Identifier: Apache-2.0

/// The pull resistor of an input line.
public enum GPIOBias: String, Sendable, Hashable, CaseIterable {
    /// Leave the pin's bias as it is.
    case asIs = "as-is"
    /// No pull resistor.
    case disabled
    /// Pull up to 3.3 V: an open button reads 1 (the reset button is wired to ground, active low).
    case pullUp = "pull-up"
    /// Pull down to ground.
    case pullDown = "pull-down"
}

/// Which chip a backend opened, for logs and the self-test table.
public struct GPIOChipInfo: Sendable, Hashable, CustomStringConvertible {
    /// The device node, e.g. `/dev/gpiochip0`, or `simulated`.
    public var path: String
    /// The kernel's chip name, e.g. `gpiochip0`.
    public var name: String
    /// The chip label, e.g. `pinctrl-bcm2711`.
    public var label: String
    /// Number of lines; valid offsets are `0..<lineCount`.
    public var lineCount: Int
    /// The library behind it, e.g. `libgpiod 1.6.3`.
    public var library: String
    /// The libgpiod major API the shim was compiled against (1 or 2); `nil` for the simulator.
    public var api: Int?

    /// Creates a chip description.
    public init(path: String, name: String, label: String, lineCount: Int, library: String, api: Int?) {
        self.path = path; self.name = name; self.label = label; self.lineCount = lineCount
        self.library = library; self.api = api
    }

    /// `/dev/gpiochip0 (pinctrl-bcm2711, 58 lines, libgpiod 1.6.3)`; `simulated GPIO: simulated, 54 lines`.
    public var description: String {
        api == nil ? "\(library): \(label), \(lineCount) lines" : "\(path) (\(label), \(lineCount) lines, \(library))"
    }
}

/// Line-level access to one GPIO chip: request lines, drive and read them, release them.
///
/// Two implementations: `LibgpiodBackend` (MeterHAL: libgpiod 1.6 or 2.x through the CGPIOD shim) and
/// ``SimulatedGPIO`` (records every transition, lets tests drive inputs). Offsets are BCM GPIO numbers,
/// which equal line offsets on the Pi header's chip (platform.md §1.4). Levels are physical: `true` = high.
///
/// Calls are synchronous and short (one ioctl each); implementations serialise them internally.
public protocol GPIOBackend: AnyObject, Sendable {
    /// The opened chip.
    var chip: GPIOChipInfo { get }
    /// Requests `offset` as an output and drives it to `initial` at once (no glitch through the other level).
    /// - Throws: ``GPIOError`` `.busy` if another consumer holds it, `.request` for a bad offset.
    func requestOutput(offset: Int, consumer: String, initial: Bool) throws(GPIOError)
    /// Requests `offset` as an input with `bias`.
    /// - Throws: ``GPIOError`` `.busy`, `.request`.
    func requestInput(offset: Int, consumer: String, bias: GPIOBias) throws(GPIOError)
    /// Drives a requested output.
    /// - Throws: ``GPIOError`` `.notRequested`, `.io`.
    func set(offset: Int, level: Bool) throws(GPIOError)
    /// Reads a requested line: an input's level, or the level an output is driven to.
    /// - Throws: ``GPIOError`` `.notRequested`, `.io`.
    func get(offset: Int) throws(GPIOError) -> Bool
    /// Releases a line; releasing one that is not requested does nothing.
    func release(offset: Int)
    /// Releases every line and closes the chip. Later calls throw `.notRequested`.
    func close()
}
