// SPDX-License-Identifier: Apache-2.0

/// A calibration that must not be written: an unsteady or unsuitable reference, or a result out of range.
public struct CalibrationError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        fileprivate let name: String
        /// The reference moved more than ``CalibrationLimits/maximumSpread`` during the window.
        public static let unstable = Code(name: "unstable")
        /// The reference does not fit the hardware (beyond the sensor's rating or the ADC's full scale).
        public static let beyondRating = Code(name: "beyondRating")
        /// A load is needed and none is connected, or none is allowed and one is.
        public static let wrongLoad = Code(name: "wrongLoad")
        /// The reference itself is unusable (e.g. an angle outside the phase step's range).
        public static let badReference = Code(name: "badReference")
        /// The register that would correct the error is outside its range.
        public static let outOfRange = Code(name: "outOfRange")
    }

    public let code: Code
    /// The phase (`L1`…) or `reference`.
    public let subject: String
    public let detail: String
    public let remedy: String

    public init(_ code: Code, subject: String, detail: String, remedy: String) {
        self.code = code; self.subject = subject; self.detail = detail; self.remedy = remedy
    }

    public var description: String { "\(subject): \(detail). Fix: \(remedy)" }
}
