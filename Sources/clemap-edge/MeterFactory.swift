// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Logging
import MeterCore
import MeterHAL
#if canImport(Glibc)
import Glibc
#endif

/// Builds the meter the options ask for: real spidev or the simulator, with the configuration's
/// calibration and scale. One place, so every command wires the meter the same way.
enum MeterFactory {
    /// - Parameters:
    ///   - simulatedSeconds: the simulated chip's clock (the service's monotonic clock); real time if nil.
    ///   - wallClock: Unix seconds for reading timestamps; the system clock if nil.
    static func makeMeter(configuration: MeterConfiguration, source: MeterSourceOptions, logger: Logger,
                          simulatedSeconds: (@Sendable () -> Double)? = nil,
                          wallClock: (@Sendable () -> Double)? = nil,
                          sleep: (@Sendable (Duration) async throws -> Void)? = nil,
                          timestamp: (@Sendable () -> Double)? = nil) throws -> Meter {
        let transport: any SPITransport
        if source.simulate {
            let scenario: Scenario
            if let inline = source.inlineScenario {
                scenario = inline
            } else if let path = source.scenario {
                do { scenario = try Scenario.load(path: path) } catch { throw CLIError(description: "\(error)", exitCode: 2) }
            } else {
                scenario = .balanced(voltage: 230, current: 10, angle: 0, frequency: Double(configuration.lineFrequencyHz))
            }
            let origin = ContinuousClock.now
            transport = SimulatedADE9000(scenario: scenario, deviceName: "simulator", wall: wallClock ?? unixSeconds, now: simulatedSeconds ?? {
                let elapsed = ContinuousClock.now - origin
                let (seconds, attoseconds) = elapsed.components
                return Double(seconds) + Double(attoseconds) * 1e-18
            })
        } else {
            let path = source.device ?? configuration.spiDevice
            do {
                transport = try SpidevTransport(path: path, mode: SPIMode(rawValue: UInt8(configuration.spiMode)) ?? .mode3,
                                                speedHz: UInt32(configuration.spiSpeedHz))
            } catch {
                throw CLIError(description: "\(error)")
            }
        }
        let setup = ADE9000Setup(lineFrequency: configuration.lineFrequencyHz == 60 ? .hz60 : .hz50,
                                 calibration: configuration.calibration)
        let driver = ADE9000Driver(transport: transport, setup: setup, logger: logger,
                                   sleep: sleep ?? { try await Task.sleep(for: $0) }, timestamp: timestamp ?? { 0 })
        return Meter(driver: driver, scales: configuration.scales, logger: logger, wallClock: wallClock ?? unixSeconds)
    }

    /// Unix seconds, UTC, from the system clock.
    @Sendable static func unixSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}
