// SPDX-License-Identifier: Apache-2.0
public import Logging
public import MeterClock

/// One row of the self-test table.
public struct GPIOSelftestCheck: Sendable, Hashable {
    /// What was checked, e.g. `output A`.
    public var name: String
    /// Whether it passed.
    public var passed: Bool
    /// What was seen, or what failed and how to fix it.
    public var detail: String

    /// Creates a row.
    public init(name: String, passed: Bool, detail: String) { self.name = name; self.passed = passed; self.detail = detail }
}

/// The checks of `clemap-edge gpio-selftest`, on any ``GPIOBackend``.
///
/// In order: request every fitted line; play every LED pattern (each for at least ``minimumPatternSeconds``),
/// reading the LED line back after each level; switch each fitted output on and off, reading it back, then
/// restore its stored state; read each fitted input; read the idle button (it must read released); and,
/// when asked, wait for a press of the button. A read-back checks the level the chip drives, not the relay.
public struct GPIOSelftestRunner: Sendable {
    /// Each LED pattern plays for at least this long (whole repetitions), so a person can see it.
    public var minimumPatternSeconds = 1.0

    private let board: BoardIO
    private let clock: any MeterClock
    private let logger: Logger

    /// - Parameters:
    ///   - board: The board's lines over an opened chip; lines not yet requested are requested by ``run(interactiveTimeout:prompt:)``.
    ///   - clock: Times LED steps and the wait for the button.
    public init(board: BoardIO, clock: any MeterClock, logger: Logger) {
        self.board = board; self.clock = clock; self.logger = logger
    }

    /// Runs every check; never throws, every failure is a row.
    /// - Parameters:
    ///   - interactiveTimeout: When set, ask for a button press and wait this many seconds for it.
    ///   - prompt: Shows the request to press the button (the CLI writes it to stderr; `--simulate` also
    ///     plays a press on the simulated line from here).
    /// - Returns: The rows, in order.
    public func run(interactiveTimeout: Double? = nil, prompt: @Sendable (String) -> Void = { _ in }) async -> [GPIOSelftestCheck] {
        var checks: [GPIOSelftestCheck] = []
        for function in board.fittedFunctions {
            let offset = board.offset(of: function) ?? -1
            let kind = function == .resetButton ? "input, pull-up" : function.isOutput ? "output" : "input"
            do {
                if !board.isRequested(function) { try board.request(function) }
                checks.append(.init(name: "request \(function)", passed: true, detail: "GPIO \(offset), \(kind)"))
            } catch {
                checks.append(.init(name: "request \(function)", passed: false, detail: "\(error)"))
            }
        }
        if board.isRequested(.led) { checks.append(await ledPatterns()) }
        for channel in OutputChannel.allCases where board.isRequested(channel == .a ? .outputA : .outputB) {
            checks.append(toggle(channel))
        }
        for channel in InputChannel.allCases where board.isRequested(channel == .a ? .inputA : .inputB) {
            let function: GPIOFunction = channel == .a ? .inputA : .inputB
            let offset = board.offset(of: function) ?? -1
            do {
                checks.append(.init(name: "\(function)", passed: true, detail: "GPIO \(offset) reads \(try board.readInput(channel))"))
            } catch {
                checks.append(.init(name: "\(function)", passed: false, detail: "\(error)"))
            }
        }
        if board.isRequested(.resetButton) {
            checks.append(idleButton())
            if let interactiveTimeout { checks.append(await buttonPress(timeout: interactiveTimeout, prompt: prompt)) }
        }
        return checks
    }

    private func ledPatterns() async -> GPIOSelftestCheck {
        let offset = board.configuration.ledPin
        var steps = 0
        for state in StatusLEDState.allCases {
            let pattern = state.pattern
            let repetitions = max(1, Int((minimumPatternSeconds / pattern.periodSeconds).rounded(.up)))
            logger.debug("LED pattern", metadata: ["led.state": "\(state)", "repetitions": "\(repetitions)"])
            for _ in 0..<repetitions {
                for step in pattern.steps {
                    let started = clock.monotonic()
                    do {
                        try board.backend.set(offset: offset, level: step.on)
                        let read = try board.backend.get(offset: offset)
                        guard read == step.on else {
                            return .init(name: "status LED patterns", passed: false,
                                         detail: "GPIO \(offset) reads \(read ? 1 : 0) after driving \(step.on ? 1 : 0) "
                                            + "(pattern \(state)). Fix: check that led_pin is the LED's GPIO")
                        }
                        steps += 1
                        try await clock.sleep(untilMonotonic: started + Double(step.milliseconds) / 1000)
                    } catch {
                        return .init(name: "status LED patterns", passed: false, detail: "\(error) (pattern \(state))")
                    }
                }
            }
        }
        try? board.backend.set(offset: offset, level: false)
        let names = StatusLEDState.allCases.map(\.rawValue).joined(separator: ", ")
        return .init(name: "status LED patterns", passed: true,
                     detail: "GPIO \(offset): \(names); \(steps) levels, each read back")
    }

    private func toggle(_ channel: OutputChannel) -> GPIOSelftestCheck {
        let function: GPIOFunction = channel == .a ? .outputA : .outputB
        let offset = board.offset(of: function) ?? -1
        let stored = (try? board.storedOutputs()[channel]) ?? false
        var seen: [String] = []
        do {
            for level in [!stored, stored] {
                try board.backend.set(offset: offset, level: level)
                let read = try board.backend.get(offset: offset)
                seen.append("\(level ? "on" : "off") → read \(read ? 1 : 0)")
                guard read == level else {
                    try? board.backend.set(offset: offset, level: stored)
                    return .init(name: "\(function)", passed: false,
                                 detail: "GPIO \(offset): \(seen.joined(separator: ", ")). Fix: check pin_out_\(channel.rawValue)")
                }
            }
        } catch {
            try? board.backend.set(offset: offset, level: stored)
            return .init(name: "\(function)", passed: false, detail: "\(error)")
        }
        return .init(name: "\(function)", passed: true,
                     detail: "GPIO \(offset): \(seen.joined(separator: ", ")); left \(stored ? "on" : "off") (stored state)")
    }

    private func idleButton() -> GPIOSelftestCheck {
        let offset = board.configuration.resetButtonPin
        do {
            if try board.isResetButtonPressed() {
                return .init(name: "reset button (idle)", passed: false,
                             detail: "GPIO \(offset) reads 0 (pressed) with its pull-up on. Fix: release the button; "
                                + "if nobody presses it, it is stuck or reset_button_pin is not the button's GPIO")
            }
            return .init(name: "reset button (idle)", passed: true, detail: "GPIO \(offset) reads 1 (released, pull-up)")
        } catch {
            return .init(name: "reset button (idle)", passed: false, detail: "\(error)")
        }
    }

    private func buttonPress(timeout: Double, prompt: @Sendable (String) -> Void) async -> GPIOSelftestCheck {
        let offset = board.configuration.resetButtonPin
        prompt("Press and release the reset button (GPIO \(offset)) within \(Int(timeout)) s …")
        let monitor = ResetButtonMonitor(backend: board.backend, offset: offset, clock: clock, logger: logger)
        do {
            guard let event = try await monitor.waitForPress(timeout: timeout) else {
                return .init(name: "reset button press", passed: false,
                             detail: "no press within \(Int(timeout)) s. Fix: check that the button connects GPIO \(offset) "
                                + "to ground, and reset_button_pin")
            }
            return .init(name: "reset button press", passed: true, detail: "\(event), debounced \(Int(ResetButton.debounceSeconds * 1000)) ms")
        } catch {
            return .init(name: "reset button press", passed: false, detail: "interrupted: \(error)")
        }
    }
}
