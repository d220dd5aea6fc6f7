// SPDX-License-Identifier: Apache-2.0

@testable import Forecast
import Testing

@Suite struct FittingTests {
    @Test func recoversKnownCoefficients() {
        var rng = SplitMix64(state: 1)
        var fit = LeastAbsoluteDeviations(p: 3)
        for _ in 0..<4000 {
            let x1 = rng.normal(), x2 = rng.normal()
            fit.append([1, x1, x2], target: 2 + 3 * x1 - x2 + 0.1 * rng.laplace())
        }
        let w = fit.fit(start: nil, iterations: 20, epsilon: 1e-6, ridge: 1e-9)
        #expect(abs(w[0] - 2) < 0.01 && abs(w[1] - 3) < 0.01 && abs(w[2] + 1) < 0.01, "\(w)")
    }

    @Test func absoluteLossIgnoresOutliersThatSquaresChase() {
        var rng = SplitMix64(state: 2)
        var fit = LeastAbsoluteDeviations(p: 2)
        for i in 0..<2000 {
            let x = rng.uniform() * 10
            let outlier = i % 10 == 0 ? 100.0 : 0  // a kettle: 10 % of rows far above the line
            fit.append([1, x], target: 1 + 2 * x + 0.05 * rng.normal() + outlier)
        }
        let lad = fit.fit(start: nil, iterations: 30, epsilon: 1e-6, ridge: 1e-9)
        let squares = fit.solve(weights: nil, ridge: 1e-9)
        #expect(abs(lad[0] - 1) < 0.05 && abs(lad[1] - 2) < 0.01, "\(lad)")
        #expect(abs(squares[0] - 1) > 5, "least squares moves the intercept by about 10: \(squares)")
    }

    @Test func noRowsGivesPersistence() {
        let fit = LeastAbsoluteDeviations(p: 4)
        #expect(fit.fit(start: nil, iterations: 3, epsilon: 1e-3, ridge: 1e-6) == [0, 0, 0, 0])
    }
}
