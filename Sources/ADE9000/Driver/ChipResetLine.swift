// SPDX-License-Identifier: Apache-2.0

/// The ADE9000's RESET pin (active low), wired to a GPIO the firmware drives: the only way back for a chip
/// that stopped answering and ignores a software reset, short of a power cycle.
///
/// The driver only needs the pulse; the line itself (requested as an output, idle high) lives with the
/// hardware code (MeterHAL's `GPIOChipResetLine`), so this module stays free of GPIO.
public protocol ChipResetLine: Sendable {
    /// Where RESET is wired, for logs and errors: `GPIO 24`.
    var name: String { get }
    /// Drives RESET low for about `width` (the chip needs ≥ 1 µs, DS pin table p.13), then high again.
    /// - Returns: how long the line was low, in seconds, as measured around the two writes.
    func pulse(width: Duration) async throws -> Double
}
