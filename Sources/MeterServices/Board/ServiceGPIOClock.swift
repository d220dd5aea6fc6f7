// SPDX-License-Identifier: Apache-2.0

public import MeterGPIO

/// The service clock seen by the GPIO parts, so LED patterns and button timing follow the same
/// (possibly simulated, accelerated) time as sampling.
public struct ServiceGPIOClock: GPIOClock {
    public let clock: any ServiceClock
    public init(_ clock: any ServiceClock) { self.clock = clock }
    public func now() -> Double { clock.monotonic() }
    public func sleep(until deadline: Double) async throws {
        try await clock.sleep(untilMonotonic: deadline)
        try Task.checkCancellation()
    }
}
