// SPDX-License-Identifier: Apache-2.0

/// The board's GPIO pins and fitted functions, as `[GPIO_SERVICE]` of `config.ini` sets them (BCM numbers).
public struct GPIOPins: Sendable, Hashable {
    /// `output_pin_setup`: the fitted outputs, letters from `ab` (e.g. `ab`).
    public var outputPinSetup: String
    /// `pin_out_a`: GPIO of output A.
    public var pinOutA: Int
    /// `pin_out_b`: GPIO of output B.
    public var pinOutB: Int
    /// `default_input_value`: the value (0 or 1) an input is taken to have by default.
    public var defaultInputValue: Int
    /// `input_pin_setup`: the fitted inputs, letters from `ab` (e.g. `b`).
    public var inputPinSetup: String
    /// `pin_in_a`: GPIO of input A; optional, required when `input_pin_setup` contains `a`.
    public var pinInA: Int?
    /// `pin_in_b`: GPIO of input B.
    public var pinInB: Int
    /// `led_pin`: GPIO of the status LED.
    public var ledPin: Int
    /// `reset_button_pin`: GPIO of the reset button.
    public var resetButtonPin: Int
    /// `chip_reset_pin` (optional, ours): GPIO wired to the ADE9000's RESET pin (active low); driven high while
    /// the service runs and pulsed low when the chip stops answering. `nil`: not wired.
    public var chipResetPin: Int?
    /// `gpio_chip` (optional, ours): the gpiochip name or path; `nil` (absent, empty or `auto`) means find the header's chip.
    public var chip: String?

    /// Creates the GPIO settings.
    public init(outputPinSetup: String, pinOutA: Int, pinOutB: Int, defaultInputValue: Int, inputPinSetup: String,
                pinInA: Int? = nil, pinInB: Int, ledPin: Int, resetButtonPin: Int, chipResetPin: Int? = nil,
                chip: String? = nil) {
        self.outputPinSetup = outputPinSetup; self.pinOutA = pinOutA; self.pinOutB = pinOutB
        self.defaultInputValue = defaultInputValue; self.inputPinSetup = inputPinSetup; self.pinInA = pinInA
        self.pinInB = pinInB; self.ledPin = ledPin; self.resetButtonPin = resetButtonPin
        self.chipResetPin = chipResetPin; self.chip = chip
    }
}
