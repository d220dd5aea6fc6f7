// SPDX-License-Identifier: Apache-2.0

/// Least absolute deviations by iteratively reweighted least squares: each pass solves a weighted ridge
/// least squares with weights `1 / max(|residual|, epsilon)`, which converges to the median regression.
/// Household load has heavy tails (a kettle for two minutes); a squared loss chases them, an absolute one
/// forecasts what the next hour most likely is, which is what MAE scores.
///
/// Up to 16 features; a row is two `SIMD8<Double>` (zero-padded), so a pass over 11,000 rows is a few
/// hundred thousand vector operations (most of a training's time).
struct LeastAbsoluteDeviations {
    static let maximumFeatures = 16
    /// Two vectors a row: features 0 ..< 8 and 8 ..< 16.
    private(set) var rows: [SIMD8<Double>] = []
    private(set) var targets: [Double] = []
    let p: Int

    init(p: Int, reserve: Int = 0) {
        precondition(p >= 1 && p <= Self.maximumFeatures, "1 … 16 features")
        self.p = p
        rows.reserveCapacity(reserve * 2)
        targets.reserveCapacity(reserve)
    }

    var count: Int { targets.count }

    mutating func append(_ x: [Double], target: Double) {
        var lo = SIMD8<Double>.zero, hi = SIMD8<Double>.zero
        for j in 0..<min(p, 8) { lo[j] = x[j] }
        for j in 8..<max(8, p) { hi[j - 8] = x[j] }
        rows.append(lo)
        rows.append(hi)
        targets.append(target)
    }

    /// Feature `j` of row `i`.
    func feature(_ i: Int, _ j: Int) -> Double { j < 8 ? rows[2 * i][j] : rows[2 * i + 1][j - 8] }

    /// `x · w` for row `i`.
    func predict(_ i: Int, _ w: [Double]) -> Double {
        let (wlo, whi) = Self.split(w)
        return (rows[2 * i] * wlo + rows[2 * i + 1] * whi).sum()
    }

    private static func split(_ w: [Double]) -> (SIMD8<Double>, SIMD8<Double>) {
        var lo = SIMD8<Double>.zero, hi = SIMD8<Double>.zero
        for j in 0..<min(w.count, 8) { lo[j] = w[j] }
        for j in 8..<max(8, w.count) { hi[j - 8] = w[j] }
        return (lo, hi)
    }

    /// - Parameters:
    ///   - start: coefficients to start from (a warm start); least squares when `nil`.
    ///   - iterations: reweighting passes.
    ///   - epsilon: the smallest residual a weight is taken from (bounds the weights).
    ///   - ridge: added to the diagonal (except the intercept, column 0) times the mean diagonal.
    /// - Returns: `p` coefficients; zeros (persistence, for our features) when there are not more rows than features.
    func fit(start: [Double]?, iterations: Int, epsilon: Double, ridge: Double) -> [Double] {
        guard count > p else { return [Double](repeating: 0, count: p) }
        var w = start ?? solve(weights: nil, ridge: ridge)
        var weights = [Double](repeating: 1, count: count)
        for _ in 0..<iterations {
            let (wlo, whi) = Self.split(w)
            rows.withUnsafeBufferPointer { X in
                targets.withUnsafeBufferPointer { Y in
                    weights.withUnsafeMutableBufferPointer { W in
                        for i in 0..<Y.count {
                            let r = Y[i] - (X[2 * i] * wlo + X[2 * i + 1] * whi).sum()
                            W[i] = 1 / max(abs(r), epsilon)
                        }
                    }
                }
            }
            w = solve(weights: weights, ridge: ridge)
        }
        return w
    }

    /// Weighted ridge least squares through the normal equations and a Cholesky factorisation.
    func solve(weights: [Double]?, ridge: Double) -> [Double] {
        // Row j of XᵀWX as two vectors; only the upper triangle is read (rows 8 … 15 need their high half only).
        var acc = [SIMD8<Double>](repeating: .zero, count: 32)
        var rhsLo = SIMD8<Double>.zero, rhsHi = SIMD8<Double>.zero
        rows.withUnsafeBufferPointer { X in
            targets.withUnsafeBufferPointer { Y in
                acc.withUnsafeMutableBufferPointer { A in
                    for i in 0..<Y.count {
                        let lo = X[2 * i], hi = X[2 * i + 1]
                        let wi = weights?[i] ?? 1
                        let wlo = lo * wi, whi = hi * wi
                        rhsLo += wlo * Y[i]
                        rhsHi += whi * Y[i]
                        for j in 0..<8 {
                            A[2 * j] += wlo[j] * lo
                            A[2 * j + 1] += wlo[j] * hi
                        }
                        if p > 8 { for j in 8..<16 { A[2 * j + 1] += whi[j - 8] * hi } }
                    }
                }
            }
        }
        var a = [Double](repeating: 0, count: p * p)
        var rhs = [Double](repeating: 0, count: p)
        for j in 0..<p {
            rhs[j] = j < 8 ? rhsLo[j] : rhsHi[j - 8]
            for k in j..<p {
                let v = k < 8 ? acc[2 * j][k] : acc[2 * j + 1][k - 8]
                a[j * p + k] = v
                a[k * p + j] = v
            }
        }
        var trace = 0.0
        for j in 0..<p { trace += a[j * p + j] }
        var lambda = max(ridge * trace / Double(p), 1e-12)
        for _ in 0..<8 {
            var m = a
            for j in 1..<max(1, p) { m[j * p + j] += lambda }
            if let x = Self.cholesky(&m, rhs, p) { return x }
            lambda *= 100
        }
        return [Double](repeating: 0, count: p)
    }

    /// Solves `m x = b` for symmetric positive definite `m` (overwritten); `nil` when it is not.
    static func cholesky(_ m: inout [Double], _ b: [Double], _ p: Int) -> [Double]? {
        for j in 0..<p {
            var d = m[j * p + j]
            for k in 0..<j { d -= m[j * p + k] * m[j * p + k] }
            guard d > 0, d.isFinite else { return nil }
            let l = d.squareRoot()
            m[j * p + j] = l
            for i in (j + 1)..<p {
                var s = m[i * p + j]
                for k in 0..<j { s -= m[i * p + k] * m[j * p + k] }
                m[i * p + j] = s / l
            }
        }
        var y = b
        for i in 0..<p {
            for k in 0..<i { y[i] -= m[i * p + k] * y[k] }
            y[i] /= m[i * p + i]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for k in (i + 1)..<p { y[i] -= m[k * p + i] * y[k] }
            y[i] /= m[i * p + i]
        }
        return y
    }
}
