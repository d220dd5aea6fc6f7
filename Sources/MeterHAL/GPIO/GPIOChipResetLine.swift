// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import MeterClock
public import MeterGPIO

/// The ADE9000's RESET pin (active low) on a GPIO line (`[GPIO_SERVICE] chip_reset_pin`): requested as an
/// output that is high from the first moment, and pulsed low by the driver when the chip stops answering.
///
/// Works on any ``GPIOBackend``: libgpiod on the Pi, ``SimulatedGPIO`` with `--simulate` (wired there to the
/// simulated chip's RESET) and in the tests, which read the pulse back from its transitions.
public final class GPIOChipResetLine: ChipResetLine {
    /// The BCM GPIO number.
    public let offset: Int
    public let backend: any GPIOBackend
    private let clock: any MeterClock

    /// Requests the line as an output, high at once: a line that started low would reset the chip at every
    /// start of the service.
    /// - Throws: ``GPIOError`` `.busy` when another program holds the line, `.request` for a bad offset.
    public init(backend: any GPIOBackend, offset: Int, clock: any MeterClock, consumer: String = "clemap-edge") throws(GPIOError) {
        self.backend = backend; self.offset = offset; self.clock = clock
        try backend.requestOutput(offset: offset, consumer: "\(consumer):chip-reset", initial: true)
    }

    public var name: String { "GPIO \(offset)" }

    public func pulse(width: Duration) async throws -> Double {
        try backend.set(offset: offset, level: false)
        let low = clock.monotonic()
        do {
            if clock is SystemClock {
                // Real time: a 100 µs busy wait holds the width; an async sleep overshoots by milliseconds under load.
                let end = low + width.seconds
                while clock.monotonic() < end {}
            } else {
                try await clock.sleep(for: width)
            }
        } catch {
            // Never leave the chip held in reset.
            try? backend.set(offset: offset, level: true)
            throw error
        }
        let high = clock.monotonic()
        try backend.set(offset: offset, level: true)
        return high - low
    }
}
