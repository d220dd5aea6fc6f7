// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Phase compensation xPHCAL0 (DS eq. 4 p.31):
/// `xPHCAL = (sin(φ − ω) + sin ω) / sin(2ω − φ) · 2^27`, `ω = 2π · f_line / 8000`.
///
/// φ > 0 corrects a current that lags the voltage, φ < 0 one that leads (a CT usually leads). The usable
/// range is −15° … +ω (+2.25° at 50 Hz, +2.7° at 60 Hz), where the register reaches 2^27.
public enum PhaseCompensation {
    public static let minimumDegrees: Double = -15

    /// ω in radians for a line frequency.
    public static func omega(lineFrequency: Double) -> Double { 2 * Double.pi * lineFrequency / DSPRate.samplesPerSecond }

    /// Largest correction, in degrees: φ = ω.
    public static func maximumDegrees(lineFrequency: Double) -> Double { omega(lineFrequency: lineFrequency) * 180 / .pi }

    /// The register value that corrects `degrees` at `lineFrequency`, unrounded.
    public static func exactRegister(degrees: Double, lineFrequency: Double) -> Double {
        let w = omega(lineFrequency: lineFrequency)
        let phi = degrees * .pi / 180
        return (sin(phi - w) + sin(w)) / sin(2 * w - phi) * Gain.unity
    }

    /// The register value that corrects `degrees`, rounded; nil outside −15° … +ω.
    public static func register(degrees: Double, lineFrequency: Double) -> Int32? {
        guard degrees >= minimumDegrees - 1e-9, degrees <= maximumDegrees(lineFrequency: lineFrequency) + 1e-9 else { return nil }
        let code = exactRegister(degrees: degrees, lineFrequency: lineFrequency).rounded()
        guard code >= Double(Int32.min), code <= Double(Int32.max) else { return nil }
        return Int32(code)
    }

    /// The correction in degrees a register applies (inverse of ``register(degrees:lineFrequency:)``),
    /// by bisection: the forward formula is monotonic on −15° … +ω.
    public static func degrees(register: Int32, lineFrequency: Double) -> Double {
        var low = minimumDegrees - 5, high = maximumDegrees(lineFrequency: lineFrequency)
        let target = Double(register)
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if exactRegister(degrees: mid, lineFrequency: lineFrequency) < target { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
