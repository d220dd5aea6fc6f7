// SPDX-License-Identifier: Apache-2.0

/// The reference a technician connects while calibrating: a source or load of known RMS voltage, RMS
/// current and angle (current lagging the voltage), the same on every phase being calibrated.
public struct CalibrationReference: Sendable, Hashable {
    /// RMS voltage, V.
    public var voltage: Double
    /// RMS current, A (0 for a no-load offset trim).
    public var current: Double
    /// Angle by which the current lags the voltage, degrees (0 = PF 1, 60 = PF 0.5 lagging).
    public var angleDegrees: Double

    public init(voltage: Double, current: Double, angleDegrees: Double = 0) {
        self.voltage = voltage; self.current = current; self.angleDegrees = angleDegrees
    }
}

/// Limits a reference must meet, documented in `calibration/PROCEDURE.md`.
public enum CalibrationLimits {
    /// Largest (max − min) / mean of RMS and power over the window: above it the reference is unstable.
    public static let maximumSpread = 0.01
    /// A load step needs at least this fraction of the expected current actually flowing.
    public static let minimumLoadFraction = 0.5
    /// The offset step accepts at most this fraction of the sensor rating as its "small known current".
    public static let maximumOffsetCurrentFraction = 0.05
    /// Phase calibration needs a reference angle in this range, so both energies are large.
    public static let phaseAngleRange = 20.0...80.0
}
