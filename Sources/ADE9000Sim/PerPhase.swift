// SPDX-License-Identifier: Apache-2.0

/// Three of a kind, one per phase (A, B, C), held inline: an array's heap buffer would be retained and released with
/// every copy of ``ChipState``, which debug builds (the service's tests run the simulator at thousands of times real
/// time) make several times a step.
struct PerPhase<T> {
    var a: T, b: T, c: T

    init(repeating value: T) { a = value; b = value; c = value }
    /// `make` for phase index 0, 1, 2.
    init(each make: (Int) -> T) { a = make(0); b = make(1); c = make(2) }

    subscript(_ i: Int) -> T {
        get { i == 0 ? a : i == 1 ? b : c }
        set { if i == 0 { a = newValue } else if i == 1 { b = newValue } else { c = newValue } }
    }
}

/// One number per phase (A, B, C). Not SIMD3 nor ``PerPhase``: debug builds run their generic code slowly, and
/// these are compared every step.
struct PhaseValues: Equatable {
    var a = 0.0, b = 0.0, c = 0.0

    subscript(_ i: Int) -> Double {
        get { i == 0 ? a : i == 1 ? b : c }
        set { if i == 0 { a = newValue } else if i == 1 { b = newValue } else { c = newValue } }
    }
}
