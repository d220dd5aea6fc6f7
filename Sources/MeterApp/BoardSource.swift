// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock
public import MeterGPIO
import MeterHTTP
import MeterHAL
import MeterModbus
import MeterMQTT
#if canImport(Glibc)
import Glibc
#endif

/// Opens the board's GPIO: the simulated chip or libgpiod. Shared by `run`, `gpio-selftest` and `output`.
public enum BoardSource {
    /// - Throws: ``GPIOError`` `.noChip` or `.permission` with what to do.
    public static func open(_ pins: GPIOPins, simulate: Bool, clock: any MeterClock) throws(GPIOError) -> any GPIOBackend {
        if simulate { return SimulatedGPIO(clock: clock) }
        return try LibgpiodBackend.open(GPIOChipRequest(configValue: pins.chip))
    }

    /// `--state-file`, else ``OutputStateFile/defaultPath``; with `--simulate`, a file under `$TMPDIR` (or /tmp)
    /// so a demo never writes into /var/lib.
    public static func stateFile(path: String?, simulate: Bool) -> OutputStateFile {
        if let path { return OutputStateFile(path: path) }
        guard simulate else { return OutputStateFile() }
        return OutputStateFile(path: simulationFolder() + "/outputs.state")
    }

    /// `$TMPDIR/clemap-edge-sim` (or /tmp/…): where simulated runs keep state, never /var/lib.
    public static func simulationFolder() -> String {
        let temporary = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return temporary + "/clemap-edge-sim"
    }

    /// `libgpiod 1.6.3` and the shim's API (1 or 2), for the self-test report.
    public static var library: (version: String, api: Int) { (LibgpiodBackend.libraryVersion, LibgpiodBackend.apiVersion) }

    /// The GPIO chip for the running service, or nil (logged once) when it cannot be opened: a missing chip
    /// does not stop metering, the service runs without LED, button, outputs and the chip's RESET pin.
    static func openBackend(_ pins: GPIOPins, simulate: Bool, clock: any MeterClock, logger: Logger) -> (any GPIOBackend)? {
        do {
            return try open(pins, simulate: simulate, clock: clock)
        } catch {
            logger.error("GPIO unavailable; metering continues without LED, button, outputs and the chip's RESET pin",
                         metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The board's lines on an opened chip.
    static func board(_ pins: GPIOPins, backend: any GPIOBackend, simulate: Bool, logger: Logger) -> BoardIO {
        BoardIO(configuration: pins, backend: backend, stateFile: stateFile(path: nil, simulate: simulate), logger: logger)
    }

    /// The ADE9000's RESET pin (`chip_reset_pin`) on `backend`, driven high from now on; nil (logged: a wedged
    /// chip then needs a power cycle) when there is no chip or the line cannot be had.
    static func chipResetLine(pin: Int, backend: (any GPIOBackend)?, clock: any MeterClock, logger: Logger) -> GPIOChipResetLine? {
        guard let backend else { return nil }
        do {
            return try GPIOChipResetLine(backend: backend, offset: pin, clock: clock)
        } catch {
            logger.error("the ADE9000's RESET pin cannot be driven; a chip that stops answering will need a power cycle",
                         metadata: ["error": "\(error)", "config.key": "[GPIO_SERVICE] chip_reset_pin = \(pin)"])
            return nil
        }
    }

    /// The board's outputs for the HTTP API: switched and stored as `clemap-edge output` does; the state shown is the
    /// stored one (what the line is driven to while the service holds it).
    static func outputs(_ board: BoardIO, pins: GPIOPins) -> MeterAPI.Outputs {
        @Sendable func channel(_ output: MeterAPI.Output) -> OutputChannel { output == .a ? .a : .b }
        @Sendable func fitted(_ output: MeterAPI.Output) -> Bool { pins.offset(of: output == .a ? .outputA : .outputB) != nil }
        return MeterAPI.Outputs(
            set: { output, on in try board.setOutput(channel(output), on: on) },
            state: { output in fitted(output) ? (try? board.storedOutputs())?[channel(output)] : nil },
            fitted: fitted)
    }

    /// The same outputs for Modbus (holding registers 20100 and 20101): index 0 is A, 1 is B.
    static func modbusOutputs(_ board: BoardIO, pins: GPIOPins) -> ModbusOutputs {
        let outputs = outputs(board, pins: pins)
        @Sendable func output(_ index: Int) -> MeterAPI.Output { index == 0 ? .a : .b }
        return ModbusOutputs(set: { index, on in try outputs.set(output(index), on) },
                             state: { index in outputs.state(output(index)) },
                             fitted: { index in (0...1).contains(index) && outputs.fitted(output(index)) })
    }

    /// The board's outputs for MQTT: switched and stored as `clemap-edge output` does, the stored state published.
    static func mqttOutputs(_ board: BoardIO, pins: GPIOPins) -> MQTTOutputs {
        @Sendable func channel(_ output: MQTTOutputs.Output) -> OutputChannel { output == .a ? .a : .b }
        let fitted = MQTTOutputs.Output.allCases.filter { pins.offset(of: $0 == .a ? .outputA : .outputB) != nil }
        return MQTTOutputs(
            set: { output, on in try board.setOutput(channel(output), on: on) },
            state: { output in (try? board.storedOutputs())?[channel(output)] },
            fitted: fitted)
    }
}
