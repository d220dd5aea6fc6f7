// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import ADE9000Sim
public import Logging
public import MeterClock
public import MeterConfig
import MeterHAL
import MeterServices
public import MeterReadings

/// Where readings come from: the ADE9000 on spidev, or the simulated chip with a scenario.
public enum MeterSource: Sendable {
    /// The chip on `device` (nil: `[METER_SERVICE] spi_device`).
    case spidev(device: String?)
    /// The simulated chip.
    case simulator(Scenario)

    /// The meter this source gives, with the configuration's calibration and scale, running on `clock` (the
    /// simulated chip lives on it too, and the driver stamps each snapshot with it). One place, so every
    /// command wires the meter the same way. `resetLine`: the chip's RESET pin, when `chip_reset_pin` is wired
    /// (the driver pulses it when the chip stops answering).
    /// - Throws: ``MeterAppError`` naming the device and what to do (exit 1).
    public func makeMeter(configuration: MeterConfiguration, clock: any MeterClock, logger: Logger,
                          resetLine: (any ChipResetLine)? = nil) throws(MeterAppError) -> Meter {
        let transport: any SPITransport
        switch self {
        case .simulator(let scenario):
            transport = SimulatedADE9000(scenario: scenario, deviceName: "simulator", clock: clock)
        case .spidev(let device):
            let path = device ?? configuration.spiDevice
            do {
                transport = try SpidevTransport(path: path, mode: SPIMode(rawValue: UInt8(configuration.spiMode)) ?? .mode3,
                                                speedHz: UInt32(configuration.spiSpeedHz))
            } catch {
                throw MeterAppError(description: "\(error)")
            }
        }
        // The half-cycle detectors are set up only when [POWER_QUALITY] is on: off, they stay at reset values that never fire.
        let setup = ADE9000Setup(lineFrequency: configuration.lineFrequencyHz == 60 ? .hz60 : .hz50,
                                 calibration: configuration.calibration,
                                 powerQuality: configuration.powerQuality.enabled ? configuration.powerQuality.chipLevels(scales: configuration.scales) : nil)
        let driver = ADE9000Driver(transport: transport, setup: setup, logger: logger, clock: clock, resetLine: resetLine)
        return Meter(driver: driver, scales: configuration.scales, logger: logger)
    }
}

/// A failure to build or run the service that the user must act on; `description` says what and how.
/// `exitCode` 1 for the world (no chip, storage), 2 for usage and configuration.
public struct MeterAppError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public var exitCode: Int32 = 1
    public init(description: String, exitCode: Int32 = 1) { self.description = description; self.exitCode = exitCode }
}
