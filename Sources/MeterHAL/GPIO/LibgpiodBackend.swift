// SPDX-License-Identifier: Apache-2.0
public import MeterGPIO
import Synchronization
import SystemPackage

/// A ``GPIOBackend`` over libgpiod (1.6 on Debian 12, 2.x on Debian 13; chosen when CGPIOD is compiled).
///
/// Holds one open chip and the lines requested from it. Calls are serialised by a mutex and each is one
/// short ioctl. ``close()`` (or deinit) releases every line and closes the chip; the kernel then keeps the
/// outputs' last levels, but another process may claim them.
public final class LibgpiodBackend: GPIOBackend {
    /// The libgpiod major API this build uses: 1 or 2.
    public static var apiVersion: Int { Libgpiod.apiVersion }
    /// The linked libgpiod's version, e.g. `1.6.3`.
    public static var libraryVersion: String { Libgpiod.libraryVersion }

    /// The opened chip: path, name, label, line count, libgpiod version.
    public let chip: GPIOChipInfo

    private struct State {
        var handle: Libgpiod.Chip?
        var lines: [Int: Libgpiod.Line] = [:]
    }
    private let state: Mutex<State>

    private init(handle: sending Libgpiod.Chip, path: String) {
        let identity = Libgpiod.identity(of: handle)
        chip = GPIOChipInfo(path: path, name: identity.name, label: identity.label, lineCount: identity.lineCount,
                            library: "libgpiod \(Libgpiod.libraryVersion)", api: Libgpiod.apiVersion)
        state = Mutex(State(handle: handle))
    }

    deinit { close() }

    /// Every `/dev/gpiochip*` with its label, or the errno of opening it.
    public static func scan() -> [GPIOChipCandidate] {
        Libgpiod.chipPaths().map { path in
            switch Libgpiod.openChip(path: path) {
            case .success(let handle):
                defer { Libgpiod.closeChip(handle) }
                return GPIOChipCandidate(path: path, label: Libgpiod.identity(of: handle).label)
            case .failure(let errno):
                return GPIOChipCandidate(path: path, label: nil, errno: errno.rawValue)
            }
        }
    }

    /// Opens the chip `request` names: a path as given, else the first `/dev/gpiochip*` with a wanted label.
    /// - Throws: ``GPIOError`` `.noChip` naming the labels looked for and the chips found; `.permission` with
    ///   how to join the `gpio` group.
    public static func open(_ request: GPIOChipRequest) throws(GPIOError) -> LibgpiodBackend {
        if case .path(let path) = request { return try open(path: path, request: request) }
        return try open(path: GPIOChipSelection.choose(request, among: scan()), request: request)
    }

    /// Opens the chip at `path`.
    /// - Throws: ``GPIOError`` `.noChip` or `.permission`.
    public static func open(path: String) throws(GPIOError) -> LibgpiodBackend {
        try open(path: path, request: .path(path))
    }

    private static func open(path: String, request: GPIOChipRequest) throws(GPIOError) -> LibgpiodBackend {
        switch Libgpiod.openChip(path: path) {
        case .success(let handle): return LibgpiodBackend(handle: handle, path: path)
        case .failure(let errno): throw .chipOpenFailed(path: path, request: request, errno: errno)
        }
    }

    public func requestOutput(offset: Int, consumer: String, initial: Bool) throws(GPIOError) {
        try request(offset: offset, consumer: consumer, what: "output") { handle in
            Libgpiod.requestOutput(handle, offset: offset, consumer: consumer, initial: initial)
        }
    }

    public func requestInput(offset: Int, consumer: String, bias: GPIOBias) throws(GPIOError) {
        try request(offset: offset, consumer: consumer, what: "input (\(bias.rawValue))") { handle in
            Libgpiod.requestInput(handle, offset: offset, consumer: consumer, bias: bias)
        }
    }

    private func request(offset: Int, consumer: String, what: String,
                         _ call: (Libgpiod.Chip) -> Result<Libgpiod.Line, Errno>) throws(GPIOError) {
        let chip = self.chip
        try state.withLock { state throws(GPIOError) in
            guard let handle = state.handle else { throw .closed(chip: chip, offset: offset) }
            guard (0..<chip.lineCount).contains(offset) else {
                throw .requestFailed(chip: chip, offset: offset, what: what, errno: .invalidArgument)
            }
            if state.lines[offset] != nil {
                throw .requestFailed(chip: chip, offset: offset, what: what, errno: .resourceBusy)
            }
            switch call(handle) {
            case .success(let line): state.lines[offset] = line
            case .failure(let errno): throw .requestFailed(chip: chip, offset: offset, what: what, errno: errno)
            }
        }
    }

    public func set(offset: Int, level: Bool) throws(GPIOError) {
        let chip = self.chip
        try state.withLock { state throws(GPIOError) in
            guard let line = state.lines[offset] else { throw .closed(chip: chip, offset: offset) }
            if case .failure(let errno) = Libgpiod.set(line, level) {
                throw .lineIOFailed(chip: chip, offset: offset, operation: "driving it to \(level ? 1 : 0)", errno: errno)
            }
        }
    }

    public func get(offset: Int) throws(GPIOError) -> Bool {
        let chip = self.chip
        return try state.withLock { state throws(GPIOError) in
            guard let line = state.lines[offset] else { throw .closed(chip: chip, offset: offset) }
            switch Libgpiod.get(line) {
            case .success(let level): return level
            case .failure(let errno): throw .lineIOFailed(chip: chip, offset: offset, operation: "reading it", errno: errno)
            }
        }
    }

    public func release(offset: Int) {
        let line = state.withLock { $0.lines.removeValue(forKey: offset) }
        if let line { Libgpiod.release(line) }
    }

    public func close() {
        let (handle, lines) = state.withLock { state in
            defer { state = State(handle: nil) }
            return (state.handle, Array(state.lines.values))
        }
        for line in lines { Libgpiod.release(line) }
        if let handle { Libgpiod.closeChip(handle) }
    }
}
