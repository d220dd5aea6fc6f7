// SPDX-License-Identifier: Apache-2.0
import Synchronization
public import MeterClock

/// A ``GPIOBackend`` in memory, for `--simulate` and the tests.
///
/// Every level an output takes is recorded with its time from the injected ``GPIOClock`` (the level at
/// request time included), so tests compare LED patterns and output states against a trace. Inputs
/// follow a timeline the test writes with ``driveInput(offset:level:)`` or ``scheduleInput(offset:_:)``,
/// evaluated at the clock's time on each ``get(offset:)``, which is how a bouncing button is played.
/// An input nobody drives reads its bias: 1 with ``GPIOBias/pullUp``, else 0.
public final class SimulatedGPIO: GPIOBackend {
    /// One level an output took.
    public struct Transition: Sendable, Hashable, CustomStringConvertible {
        /// The line offset.
        public var offset: Int
        /// The new level.
        public var level: Bool
        /// When, on the backend's clock.
        public var time: Double

        /// Creates a transition.
        public init(offset: Int, level: Bool, time: Double) { self.offset = offset; self.level = level; self.time = time }

        /// `GPIO 25 → 1 at 0.100 s`.
        public var description: String { "GPIO \(offset) → \(level ? 1 : 0) at \(time) s" }
    }

    /// A requested line.
    public struct Request: Sendable, Hashable {
        /// `true` for an output.
        public var isOutput: Bool
        /// Who requested it.
        public var consumer: String
        /// The input bias (`.asIs` for outputs).
        public var bias: GPIOBias
    }

    private struct State {
        var requests: [Int: Request] = [:]
        var outputLevels: [Int: Bool] = [:]
        var transitions: [Transition] = []
        /// Per input offset: (time, level) steps, sorted by time.
        var inputTimelines: [Int: [(time: Double, level: Bool)]] = [:]
        var faults: [Int: GPIOError] = [:]
        var closed = false
        /// Per output offset: what the line is wired to (a simulated chip's RESET pin).
        var wires: [Int: @Sendable (Bool) -> Void] = [:]
    }

    /// A made-up chip: path `simulated`, library `simulated GPIO`, `api` nil.
    public let chip: GPIOChipInfo
    private let clock: any MeterClock
    private let state = Mutex(State())

    /// Creates a simulated chip.
    /// - Parameters:
    ///   - clock: Stamps transitions and evaluates input timelines.
    ///   - lineCount: Offsets `0..<lineCount` exist (54 like `pinctrl-bcm2835`).
    ///   - label: The chip label reported in ``chip``.
    public init(clock: any MeterClock, lineCount: Int = 54, label: String = "simulated") {
        self.clock = clock
        chip = GPIOChipInfo(path: "simulated", name: "gpiochip-sim", label: label, lineCount: lineCount,
                            library: "simulated GPIO", api: nil)
    }

    // MARK: GPIOBackend

    public func requestOutput(offset: Int, consumer: String, initial: Bool) throws(GPIOError) {
        let now = clock.monotonic()
        try state.withLock { state throws(GPIOError) in
            try check(&state, offset: offset, consumer: consumer)
            state.requests[offset] = Request(isOutput: true, consumer: consumer, bias: .asIs)
            state.outputLevels[offset] = initial
            state.transitions.append(Transition(offset: offset, level: initial, time: now))
        }
    }

    public func requestInput(offset: Int, consumer: String, bias: GPIOBias) throws(GPIOError) {
        try state.withLock { state throws(GPIOError) in
            try check(&state, offset: offset, consumer: consumer)
            state.requests[offset] = Request(isOutput: false, consumer: consumer, bias: bias)
        }
    }

    public func set(offset: Int, level: Bool) throws(GPIOError) {
        let now = clock.monotonic()
        let wire = try state.withLock { state throws(GPIOError) -> (@Sendable (Bool) -> Void)? in
            guard let request = state.requests[offset], !state.closed else { throw notRequested(offset) }
            guard request.isOutput else {
                throw GPIOError(.io, subject: subject(offset), detail: "is requested as an input and cannot be driven",
                                remedy: "request it as an output", errno: 1)
            }
            if let fault = state.faults[offset] { throw fault }
            guard state.outputLevels[offset] != level else { return nil }
            state.outputLevels[offset] = level
            state.transitions.append(Transition(offset: offset, level: level, time: now))
            return state.wires[offset]
        }
        // Outside the lock: the far end may take its own.
        wire?(level)
    }

    public func get(offset: Int) throws(GPIOError) -> Bool {
        let now = clock.monotonic()
        return try state.withLock { state throws(GPIOError) in
            guard let request = state.requests[offset], !state.closed else { throw notRequested(offset) }
            if let fault = state.faults[offset] { throw fault }
            if request.isOutput { return state.outputLevels[offset] ?? false }
            let level = state.inputTimelines[offset]?.last(where: { $0.time <= now })?.level
            return level ?? (request.bias == .pullUp)
        }
    }

    public func release(offset: Int) {
        state.withLock { state in
            state.requests[offset] = nil
            state.outputLevels[offset] = nil
        }
    }

    public func close() {
        state.withLock { state in
            state.requests = [:]
            state.outputLevels = [:]
            state.closed = true
        }
    }

    // MARK: Test controls

    /// Every level outputs took, in order; only `offset`'s if given.
    public func transitions(offset: Int? = nil) -> [Transition] {
        state.withLock { state in state.transitions.filter { offset == nil || $0.offset == offset } }
    }

    /// The requested lines, by offset.
    public var requests: [Int: Request] { state.withLock { $0.requests } }

    /// Drives an input to `level` from now on.
    public func driveInput(offset: Int, level: Bool) {
        let now = clock.monotonic()
        scheduleInput(offset: offset, [(now, level)])
    }

    /// Adds (time, level) steps to an input's timeline; ``get(offset:)`` returns the latest step at or before
    /// the clock's time. Use it to play a press with contact bounce.
    public func scheduleInput(offset: Int, _ steps: [(time: Double, level: Bool)]) {
        state.withLock { state in
            var timeline = state.inputTimelines[offset] ?? []
            timeline.append(contentsOf: steps)
            timeline.sort { $0.time < $1.time }
            state.inputTimelines[offset] = timeline
        }
    }

    /// Wires output `offset` to something that follows its level: `follow` gets every level the line is set
    /// to from now on (changes only). `--simulate` wires `chip_reset_pin` to the simulated ADE9000's RESET.
    public func wire(offset: Int, to follow: @escaping @Sendable (Bool) -> Void) {
        state.withLock { $0.wires[offset] = follow }
    }

    /// Makes requests, `set` and `get` on `offset` throw `error` until cleared with `nil`.
    public func injectFault(offset: Int, _ error: GPIOError?) {
        state.withLock { $0.faults[offset] = error }
    }

    // MARK: Helpers

    private func subject(_ offset: Int) -> String { "GPIO \(offset) on \(chip.path)" }

    private func notRequested(_ offset: Int) -> GPIOError {
        GPIOError(.notRequested, subject: subject(offset), detail: "the line is not requested",
                  remedy: "request it first (BoardIO.start or request(_:))")
    }

    private func check(_ state: inout State, offset: Int, consumer: String) throws(GPIOError) {
        guard !state.closed else { throw notRequested(offset) }
        if let fault = state.faults[offset] { throw fault }
        guard (0..<chip.lineCount).contains(offset) else {
            throw GPIOError(.request, subject: subject(offset),
                            detail: "no such line: the chip has lines 0…\(chip.lineCount - 1)",
                            remedy: "use a BCM GPIO number from 0 to \(chip.lineCount - 1) in [GPIO_SERVICE]", errno: 22)
        }
        if let holder = state.requests[offset] {
            throw GPIOError(.busy, subject: subject(offset), detail: "busy: already requested by '\(holder.consumer)'",
                            remedy: "release it first, or give each function its own pin", errno: 16)
        }
    }
}
