// SPDX-License-Identifier: Apache-2.0

/// The role of anything that clocks bytes to and from an ADE9000: Linux spidev, or the simulator.
///
/// A frame is one chip-select-framed transaction: chip select falls, `frame.count` bytes are clocked
/// full duplex (MOSI out, MISO in), chip select rises. The ADE9000 starts a transaction on the falling
/// edge of SS and aborts it when SS rises (TRM p.32), so frames never share a chip-select assertion.
///
/// Several frames in one call let a transport send them in one system call (spidev's
/// `SPI_IOC_MESSAGE(n)` with `cs_change` between transfers); they are still separate chip transactions.
///
/// Contract: called from one task at a time (the driver actor owns its transport). May block for the
/// duration of the bus transfer; never sleeps otherwise.
public protocol SPITransport: AnyObject, Sendable {
    /// Where the bytes go, for error messages: `/dev/spidev0.0`, `simulator`.
    var deviceName: String { get }

    /// Clocks each frame as its own chip-select-framed transaction, in order.
    /// - Parameter frames: MOSI bytes of each transaction.
    /// - Returns: MISO bytes of each transaction, each the length of its frame.
    /// - Throws: ``SPIError`` when the bus fails; no later frame is clocked.
    func transfer(_ frames: [[UInt8]]) throws(SPIError) -> [[UInt8]]

    /// Clocks the frames like ``transfer(_:)`` and says when: the moment the chip saw them, on the
    /// transport's own clock if it has one (the simulator's chip time), else `clock()` read right before
    /// the bus transfer. Energy is split between minutes by this time, so it must be the chip's moment.
    func stampedTransfer(_ frames: [[UInt8]], clock: () -> Double) throws(SPIError) -> (miso: [[UInt8]], at: Double)
}

extension SPITransport {
    public func stampedTransfer(_ frames: [[UInt8]], clock: () -> Double) throws(SPIError) -> (miso: [[UInt8]], at: Double) {
        let at = clock()
        return (try transfer(frames), at)
    }
}

/// Marks a transport that is a simulation, so messages can say what to change (a scenario, not wiring).
public protocol SimulatedBus: SPITransport {}

/// A failure of the bus itself (not of the chip's answer).
public struct SPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable { case open, configure, transfer, closed }
        fileprivate let value: Value
        /// The device node could not be opened.
        public static let open = Code(value: .open)
        /// An ioctl that sets mode, word size or clock failed.
        public static let configure = Code(value: .configure)
        /// `SPI_IOC_MESSAGE` failed or moved fewer bytes than asked.
        public static let transfer = Code(value: .transfer)
        /// The transport was closed.
        public static let closed = Code(value: .closed)
        public var description: String { "\(value)" }
    }

    public let code: Code
    /// The device node or transport name.
    public let device: String
    /// The C `errno`, when the failure came from a system call.
    public let errno: Int32?
    /// What happened, and what to do about it.
    public let detail: String

    public init(_ code: Code, device: String, errno: Int32? = nil, detail: String) {
        self.code = code; self.device = device; self.errno = errno; self.detail = detail
    }

    public var description: String {
        let number = errno.map { " (errno \($0))" } ?? ""
        return "\(device): \(detail)\(number)"
    }

}

extension SPIError.Code {
    /// Matches on the code only, so a caller can write `catch SPIError.Code.open`.
    public static func ~= (code: SPIError.Code, error: any Error) -> Bool {
        (error as? SPIError)?.code == code
    }
}
