// SPDX-License-Identifier: Apache-2.0
public import Logging

import Synchronization

/// A function of the board's GPIO, as `[GPIO_SERVICE]` assigns it a pin.
public enum GPIOFunction: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The status LED (`led_pin`), an output.
    case led
    /// Relay output A (`pin_out_a`).
    case outputA = "output-a"
    /// Relay output B (`pin_out_b`).
    case outputB = "output-b"
    /// Digital input A (`pin_in_a`).
    case inputA = "input-a"
    /// Digital input B (`pin_in_b`), recorded in each `meter_data` row.
    case inputB = "input-b"
    /// The reset button (`reset_button_pin`): input with pull-up, active low.
    case resetButton = "reset-button"

    /// `output A`, `reset button`.
    public var description: String {
        switch self {
        case .led: "status LED"
        case .outputA: "output A"
        case .outputB: "output B"
        case .inputA: "input A"
        case .inputB: "input B"
        case .resetButton: "reset button"
        }
    }

    /// Whether the line is requested as an output.
    public var isOutput: Bool { self == .led || self == .outputA || self == .outputB }
}

/// Digital input A or B (`pin_in_a`, `pin_in_b`).
public enum InputChannel: String, Sendable, Hashable, CaseIterable {
    /// Input A (`pin_in_a`).
    case a
    /// Input B (`pin_in_b`).
    case b
}

/// The board's digital I/O over one ``GPIOBackend``: status LED, relay outputs A/B, inputs A/B, reset button.
///
/// Lines come from `[GPIO_SERVICE]`; only fitted outputs and inputs (`output_pin_setup`, `input_pin_setup`)
/// are requested. Outputs start in their stored state from the ``OutputStateFile``, or off (the safe state)
/// when nothing is stored or the file is unreadable; ``setOutput(_:on:)`` stores before it drives, so the
/// state survives a restart. Levels: an output on = line high; the button is active low with a pull-up.
///
/// ## Topics
/// ### Lines
/// - ``start()``
/// - ``request(_:)``
/// - ``close()``
/// ### Outputs and inputs
/// - ``setOutput(_:on:)``
/// - ``readOutput(_:)``
/// - ``readInput(_:)``
/// ### LED and button
/// - ``setLED(_:)``
/// - ``isResetButtonPressed()``
public final class BoardIO: Sendable {
    /// `[GPIO_SERVICE]`.
    public let configuration: GPIOPins
    /// The chip.
    public let backend: any GPIOBackend
    /// Where output states persist; `nil` keeps them in memory only (outputs then start off).
    public let stateFile: OutputStateFile?
    private let consumer: String
    private let logger: Logger
    private let requested = Mutex<Set<GPIOFunction>>([])

    /// - Parameters:
    ///   - configuration: `[GPIO_SERVICE]` of the config file.
    ///   - backend: The opened chip (libgpiod or simulated).
    ///   - stateFile: The output state file (default path: ``OutputStateFile/defaultPath``).
    ///   - consumer: The consumer name the kernel shows for each line (`gpioinfo`), suffixed with the function.
    ///   - logger: Where warnings go.
    public init(configuration: GPIOPins, backend: any GPIOBackend, stateFile: OutputStateFile?,
                consumer: String = "clemap-edge", logger: Logger) {
        self.configuration = configuration; self.backend = backend; self.stateFile = stateFile
        self.consumer = consumer; self.logger = logger
    }

    /// The functions this board has: LED, button, and the outputs and inputs the setup lists as fitted.
    public var fittedFunctions: [GPIOFunction] {
        GPIOFunction.allCases.filter { offset(of: $0) != nil }
    }

    /// The line offset (BCM GPIO) of a function, or `nil` when it is not fitted.
    public func offset(of function: GPIOFunction) -> Int? { configuration.offset(of: function) }

    /// Requests every fitted line: LED off, outputs in their stored (or safe) state, inputs as they are,
    /// the button with its pull-up.
    /// - Throws: ``GPIOError`` of the first line that fails; the lines requested before it are released.
    public func start() throws(GPIOError) {
        var done: [GPIOFunction] = []
        for function in fittedFunctions where !isRequested(function) {
            do {
                try request(function)
                done.append(function)
            } catch {
                for function in done { release(function) }
                throw error
            }
        }
    }

    /// Requests one line. An output gets its stored state as the initial level.
    /// - Throws: ``GPIOError`` `.notFitted` for a function the setup does not list; the backend's errors.
    public func request(_ function: GPIOFunction) throws(GPIOError) {
        let offset = try fittedOffset(function)
        let name = "\(consumer):\(function.rawValue)"
        switch function {
        case .led:
            try backend.requestOutput(offset: offset, consumer: name, initial: false)
        case .outputA, .outputB:
            try backend.requestOutput(offset: offset, consumer: name, initial: initialState(of: function == .outputA ? .a : .b))
        case .inputA, .inputB:
            try backend.requestInput(offset: offset, consumer: name, bias: .asIs)
        case .resetButton:
            try backend.requestInput(offset: offset, consumer: name, bias: .pullUp)
        }
        _ = requested.withLock { $0.insert(function) }
    }

    /// Releases one line (nothing happens if it is not requested).
    public func release(_ function: GPIOFunction) {
        guard let offset = offset(of: function), requested.withLock({ $0.remove(function) != nil }) else { return }
        backend.release(offset: offset)
    }

    /// Whether ``request(_:)`` has succeeded for `function` (and it was not released since).
    public func isRequested(_ function: GPIOFunction) -> Bool { requested.withLock { $0.contains(function) } }

    /// Releases every line and closes the chip.
    public func close() {
        requested.withLock { $0.removeAll() }
        backend.close()
    }

    // MARK: Outputs

    /// The stored output states, or ``OutputStates/safe`` when nothing is stored.
    /// - Throws: ``GPIOError`` `.stateFile` when the file exists but cannot be read or parsed.
    public func storedOutputs() throws(GPIOError) -> OutputStates {
        try stateFile?.load() ?? .safe
    }

    /// Stores the desired state of an output, then drives it if its line is requested.
    ///
    /// Storing first means a crash between the two steps leaves the state to be applied at the next start.
    /// - Throws: ``GPIOError`` `.notFitted`; `.stateFile` (nothing changed); the backend's errors.
    public func setOutput(_ channel: OutputChannel, on: Bool) throws(GPIOError) {
        let function: GPIOFunction = channel == .a ? .outputA : .outputB
        let offset = try fittedOffset(function)
        if let stateFile {
            var states = try stateFile.load() ?? .safe
            if states[channel] != on {
                states[channel] = on
                try stateFile.save(states)
            }
        }
        if isRequested(function) { try backend.set(offset: offset, level: on) }
    }

    /// The level an output is driven to (its line must be requested).
    public func readOutput(_ channel: OutputChannel) throws(GPIOError) -> Bool {
        try backend.get(offset: fittedOffset(channel == .a ? .outputA : .outputB))
    }

    // MARK: Inputs, LED, button

    /// An input's level as 0 or 1, for the `meter_data` row. An input that is not fitted reads
    /// `default_input_value`.
    /// - Throws: ``GPIOError`` when the line cannot be read (it must be requested: ``start()``).
    public func readInput(_ channel: InputChannel = .b) throws(GPIOError) -> Int {
        let function: GPIOFunction = channel == .a ? .inputA : .inputB
        guard let offset = offset(of: function) else { return configuration.defaultInputValue }
        return try backend.get(offset: offset) ? 1 : 0
    }

    /// Turns the status LED on or off (``StatusLEDDriver`` plays patterns instead).
    public func setLED(_ on: Bool) throws(GPIOError) {
        try backend.set(offset: configuration.ledPin, level: on)
    }

    /// The raw (not debounced) button state: pressed when the line reads low.
    public func isResetButtonPressed() throws(GPIOError) -> Bool {
        try !backend.get(offset: configuration.resetButtonPin)
    }

    // MARK: Helpers

    private func fittedOffset(_ function: GPIOFunction) throws(GPIOError) -> Int {
        try configuration.fittedOffset(function)
    }

    private func initialState(of channel: OutputChannel) -> Bool {
        do {
            return try storedOutputs()[channel]
        } catch {
            logger.warning("output state file unreadable; \(channel) starts off", metadata: ["error": "\(error)"])
            return false
        }
    }
}

extension GPIOPins {
    /// The line offset (BCM GPIO) of a function, or `nil` when it is not fitted: outputs and inputs count
    /// only if `output_pin_setup` / `input_pin_setup` list their letter; the LED and the button always do.
    public func offset(of function: GPIOFunction) -> Int? {
        switch function {
        case .led: ledPin
        case .resetButton: resetButtonPin
        case .outputA: outputPinSetup.contains("a") ? pinOutA : nil
        case .outputB: outputPinSetup.contains("b") ? pinOutB : nil
        case .inputA: inputPinSetup.contains("a") ? pinInA : nil
        case .inputB: inputPinSetup.contains("b") ? pinInB : nil
        }
    }

    /// The line offset of a fitted function.
    /// - Throws: ``GPIOError`` `.notFitted`, naming the setup key to change.
    public func fittedOffset(_ function: GPIOFunction) throws(GPIOError) -> Int {
        if let offset = offset(of: function) { return offset }
        let isOutput = function == .outputA || function == .outputB
        let key = isOutput ? "output_pin_setup" : "input_pin_setup"
        let letter = function == .outputA || function == .inputA ? "a" : "b"
        let value = isOutput ? outputPinSetup : inputPinSetup
        throw GPIOError(.notFitted, subject: "\(function)",
                        detail: "not fitted: [GPIO_SERVICE] \(key) = \(value.isEmpty ? "(empty)" : value)",
                        remedy: "add '\(letter)' to \(key) if the board has it"
                            + (function == .inputA ? ", and set pin_in_a" : ""))
    }
}
