// SPDX-License-Identifier: Apache-2.0

/// A GPIO failure the user can act on: `<subject>: <detail>. Fix: <remedy>` (style.md §3).
///
/// Thrown by every ``GPIOBackend`` (the libgpiod one in MeterHAL and ``SimulatedGPIO``), by ``OutputStateFile``
/// and by ``BoardIO``. The set of codes is closed.
public struct GPIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure it is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable { case noChip, permission, busy, request, io, notRequested, notFitted, stateFile }
        fileprivate let value: Value
        /// No GPIO chip with a wanted label or path exists.
        public static let noChip = Code(value: .noChip)
        /// A chip or line exists but this user may not open it.
        public static let permission = Code(value: .permission)
        /// Another consumer (process) holds the line.
        public static let busy = Code(value: .busy)
        /// The kernel refused a line request for another reason (bad offset, unsupported bias …).
        public static let request = Code(value: .request)
        /// Reading or driving a requested line failed.
        public static let io = Code(value: .io)
        /// The line was never requested, or was released.
        public static let notRequested = Code(value: .notRequested)
        /// The configuration does not fit this output or input (`output_pin_setup`, `input_pin_setup`).
        public static let notFitted = Code(value: .notFitted)
        /// The output state file could not be read, parsed or written.
        public static let stateFile = Code(value: .stateFile)
        public var description: String { "\(value)" }
    }

    /// The kind of failure.
    public let code: Code
    /// What failed, e.g. `GPIO 21 (output A) on /dev/gpiochip0`.
    public let subject: String
    /// What happened.
    public let detail: String
    /// What to do about it.
    public let remedy: String
    /// The C `errno`, when a system call or libgpiod failed.
    public let errno: Int32?

    /// Creates an error; `description` joins the parts as `<subject>: <detail> (errno n). Fix: <remedy>`.
    public init(_ code: Code, subject: String, detail: String, remedy: String, errno: Int32? = nil) {
        self.code = code; self.subject = subject; self.detail = detail; self.remedy = remedy; self.errno = errno
    }

    /// One line: `<subject>: <detail> (errno n). Fix: <remedy>`.
    public var description: String {
        "\(subject): \(detail)\(errno.map { " (errno \($0))" } ?? ""). Fix: \(remedy)"
    }
}

/// How to let a user open `/dev/gpiochip*`: the remedy of every permission error.
public enum GPIOAccess {
    /// The `gpio` group, `usermod`, and the udev rule that gives the group the chips (udev/60-clemap-edge.rules).
    public static let remedy = "add the user to the gpio group (`sudo usermod -aG gpio $USER`, then log out and in); "
        + "if the chips are not group gpio (`ls -l /dev/gpiochip*`), install the udev rule "
        + "SUBSYSTEM==\"gpio\", KERNEL==\"gpiochip*\", GROUP=\"gpio\", MODE=\"0660\" "
        + "(udev/60-clemap-edge.rules) in /etc/udev/rules.d/ and run "
        + "`sudo udevadm control --reload && sudo udevadm trigger`"
}
