// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The simulator's own solution of DS eq. 4 (p.31) for φ, independent of the driver's bisection:
/// r·sin(2ω − φ) = sin(φ − ω) + sin ω  ⇔  A·cos φ − B·sin φ = sin ω, with A = r·sin 2ω + sin ω and
/// B = r·cos 2ω + cos ω, r = xPHCAL / 2^27, ω = 2π·f/8000. Then φ = acos(sin ω / R) − δ, R = √(A² + B²),
/// δ = atan2(B, A), on the branch through φ = 0 at r = 0.
enum PhaseCompensationModel {
    static func degrees(register: Double, lineFrequency: Double) -> Double {
        let r = register / 134_217_728
        let w = 2 * Double.pi * lineFrequency / 8000
        let a = r * sin(2 * w) + sin(w)
        let b = r * cos(2 * w) + cos(w)
        let radius = (a * a + b * b).squareRoot()
        let delta = atan2(b, a)
        let phi = acos(min(1, max(-1, sin(w) / radius))) - delta
        return phi * 180 / .pi
    }
}
