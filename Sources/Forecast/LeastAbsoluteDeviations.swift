// SPDX-License-Identifier: Apache-2.0

/// Least absolute deviations by iteratively reweighted least squares: each pass solves a weighted ridge
/// least squares with weights `1 / max(|residual|, epsilon)`, which converges to the median regression.
/// Household load has heavy tails (a kettle for two minutes); a squared loss chases them, an absolute one
/// forecasts what the next hour most likely is, which is what MAE scores.
struct LeastAbsoluteDeviations {
    /// Rows, one after another, `p` values each.
    var rows: [Double] = []
    var targets: [Double] = []
    let p: Int

    init(p: Int, reserve: Int = 0) {
        self.p = p
        rows.reserveCapacity(reserve * p)
        targets.reserveCapacity(reserve)
    }

    var count: Int { targets.count }

    mutating func append(_ x: [Double], target: Double) {
        rows.append(contentsOf: x[0..<p])
        targets.append(target)
    }

    /// - Parameters:
    ///   - start: coefficients to start from (a warm start); least squares when `nil`.
    ///   - iterations: reweighting passes.
    ///   - epsilon: the smallest residual a weight is taken from (bounds the weights).
    ///   - ridge: added to the diagonal (except the intercept, column 0) times the mean diagonal.
    /// - Returns: `p` coefficients; zeros (persistence, for our features) when there are no rows.
    func fit(start: [Double]?, iterations: Int, epsilon: Double, ridge: Double) -> [Double] {
        guard count > p else { return [Double](repeating: 0, count: p) }
        var w = start ?? solve(weights: nil, ridge: ridge)
        var weights = [Double](repeating: 1, count: count)
        for _ in 0..<iterations {
            rows.withUnsafeBufferPointer { X in
                for i in 0..<count {
                    var r = targets[i]
                    for j in 0..<p { r -= X[i * p + j] * w[j] }
                    weights[i] = 1 / max(abs(r), epsilon)
                }
            }
            w = solve(weights: weights, ridge: ridge)
        }
        return w
    }

    /// Weighted ridge least squares through the normal equations and a Cholesky factorisation.
    func solve(weights: [Double]?, ridge: Double) -> [Double] {
        var a = [Double](repeating: 0, count: p * p)
        var rhs = [Double](repeating: 0, count: p)
        rows.withUnsafeBufferPointer { X in
            a.withUnsafeMutableBufferPointer { A in
                for i in 0..<count {
                    let wi = weights?[i] ?? 1
                    let base = i * p
                    for j in 0..<p {
                        let wx = wi * X[base + j]
                        rhs[j] += wx * targets[i]
                        for k in j..<p { A[j * p + k] += wx * X[base + k] }
                    }
                }
            }
        }
        for j in 0..<p { for k in 0..<j { a[j * p + k] = a[k * p + j] } }
        var trace = 0.0
        for j in 0..<p { trace += a[j * p + j] }
        var lambda = max(ridge * trace / Double(p), 1e-12)
        for _ in 0..<8 {
            var m = a
            for j in 1..<p { m[j * p + j] += lambda }
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
