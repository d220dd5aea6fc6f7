// SPDX-License-Identifier: Apache-2.0

/// Computes a ``KerasModel`` on windows of values. It owns preallocated scratch memory, so ``predict(_:into:)``
/// allocates nothing; it is therefore not `Sendable`: use one runner per thread (``KerasModel/makeRunner()``).
///
/// Arithmetic: float32 values as Keras keeps them, sums of products (matrix rows, gate pre-activations) in
/// float64 and then rounded to float32, activations in float32. The scaler is applied in float64.
public final class KerasRunner {
    /// The model this runner computes.
    public let model: KerasModel
    private let layers: [Layer]
    private var steps: Int
    private var bufferA: UnsafeMutablePointer<Float>
    private var bufferB: UnsafeMutablePointer<Float>
    private var capacity: Int
    private let widest: Int
    private let accumulator: UnsafeMutablePointer<Double>  // 2 × widest gate row
    private let gates: UnsafeMutablePointer<Float>         // widest gate row
    private let state: UnsafeMutablePointer<Float>         // h, c, r·h: 3 × widest units
    private let single: UnsafeMutablePointer<Float>        // one output for predict(_:) -> Float

    init(model: KerasModel) {
        self.model = model
        layers = model.layers
        var widestRow = max(model.featureCount, 1)
        var columns = model.featureCount
        for layer in layers {
            switch layer {
            case .dense(let d): columns = d.units; widestRow = max(widestRow, d.units)
            case .recurrent(let r): columns = r.units; widestRow = max(widestRow, r.kind.gates * r.units)
            case .flatten: columns *= model.windowLength ?? 1
            default: break
            }
            widestRow = max(widestRow, columns)
        }
        widest = widestRow
        steps = model.windowLength ?? 1
        capacity = max(steps * widestRow, model.outputCount, 1)
        bufferA = .allocate(capacity: capacity)
        bufferB = .allocate(capacity: capacity)
        accumulator = .allocate(capacity: 2 * widestRow)
        gates = .allocate(capacity: widestRow)
        state = .allocate(capacity: 3 * widestRow)
        single = .allocate(capacity: max(model.outputCount, 1))
    }

    deinit {
        bufferA.deallocate()
        bufferB.deallocate()
        accumulator.deallocate()
        gates.deallocate()
        state.deallocate()
        single.deallocate()
    }

    /// The number of values a window must have: `windowLength × featureCount` (any whole number of steps when
    /// the model leaves the length open).
    public var inputCount: Int? { model.windowLength.map { $0 * model.featureCount } }

    /// Runs the model on one window of raw values (time-major: step 0's features, then step 1's, …), applying
    /// the scaler on the way in and out, and writes ``KerasModel/outputCount`` values.
    ///
    /// Calling contract: `window.count` is ``inputCount`` (a whole number of steps when open) and `output.count`
    /// is at least `outputCount`; anything else is a programmer error and traps. Allocates nothing, except
    /// once when an open-length model first gets a longer window than before.
    public func predict(_ window: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let features = model.featureCount
        precondition(window.count % features == 0 && window.count > 0 && (inputCount == nil || window.count == inputCount),
                     "KerasRunner.predict: \(window.count) values, the model takes \(inputCount.map(String.init) ?? "n × \(features)")")
        precondition(output.count >= model.outputCount, "KerasRunner.predict: room for \(output.count) outputs, need \(model.outputCount)")
        let windowSteps = window.count / features
        if windowSteps * widest > capacity { grow(to: windowSteps * widest) }
        steps = windowSteps
        if let scaler = model.scaler {
            for i in 0..<window.count { bufferA[i] = Float((Double(window[i]) - scaler.mean) / scaler.std) }
        } else {
            for i in 0..<window.count { bufferA[i] = window[i] }
        }
        var input = bufferA, spare = bufferB
        var rows = steps, columns = features
        for layer in layers {
            switch layer {
            case .dense(let dense):
                for row in 0..<rows { denseRow(dense, input + row * columns, spare + row * dense.units) }
                swap(&input, &spare)
                columns = dense.units
            case .recurrent(let recurrent):
                run(recurrent, input, rows: rows, into: spare)
                swap(&input, &spare)
                if !recurrent.returnSequences { rows = 1 }
                columns = recurrent.units
            case .normalization(let normalization):
                normalize(normalization, input, rows: rows, columns: columns)
            case .activation(let activation):
                for row in 0..<rows { activation.apply(input + row * columns, count: columns) }
            case .flatten:
                columns *= rows
                rows = 1
            case .identity:
                break
            }
        }
        let count = rows * columns
        if let scaler = model.scaler {
            for i in 0..<count { output[i] = Float(Double(input[i]) * scaler.targetStd + scaler.targetMean) }
        } else {
            for i in 0..<count { output[i] = input[i] }
        }
    }

    /// The first output for one window of raw values (see ``predict(_:into:)``). Allocates nothing.
    public func predict(_ window: [Float]) -> Float {
        window.withUnsafeBufferPointer { values in
            predict(values, into: UnsafeMutableBufferPointer(start: single, count: model.outputCount))
        }
        return single[0]
    }

    /// The first output for a window of raw values given as doubles (e.g. watts from the database), converted
    /// to float32 on the way in as Keras does (`np.float32`). Allocates nothing for windows up to 64 values.
    public func predict(_ window: [Double]) -> Double {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: window.count) { values in
            for i in 0..<window.count { values[i] = Float(window[i]) }
            predict(UnsafeBufferPointer(values), into: UnsafeMutableBufferPointer(start: single, count: model.outputCount))
        }
        return Double(single[0])
    }

    private func grow(to needed: Int) {
        bufferA.deallocate()
        bufferB.deallocate()
        capacity = needed
        bufferA = .allocate(capacity: capacity)
        bufferB = .allocate(capacity: capacity)
    }

    /// out = activation(x · kernel + bias) for one row.
    private func denseRow(_ dense: DenseLayer, _ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let units = dense.units
        if let bias = dense.bias {
            for j in 0..<units { accumulator[j] = Double(bias[j]) }
        } else {
            for j in 0..<units { accumulator[j] = 0 }
        }
        dense.kernel.withUnsafeBufferPointer { kernel in
            accumulate(x, count: dense.inputs, kernel.baseAddress!, width: units, into: accumulator)
        }
        for j in 0..<units { out[j] = Float(accumulator[j]) }
        dense.activation.apply(out, count: units)
    }

    /// acc[0..<width] += Σᵢ x[i] · matrix[i, 0..<width] (row-major `(count, stride)`, first `width` columns from `column`).
    @inline(__always)
    private func accumulate(_ x: UnsafePointer<Float>, count: Int, _ matrix: UnsafePointer<Float>, width: Int,
                            stride: Int? = nil, column: Int = 0, into acc: UnsafeMutablePointer<Double>) {
        let stride = stride ?? width
        for i in 0..<count {
            let xi = Double(x[i])
            let row = matrix + i * stride + column
            for j in 0..<width { acc[j] += xi * Double(row[j]) }
        }
    }

    private func normalize(_ layer: NormalizationLayer, _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let perFeature = layer.mean.count > 1
        for row in 0..<rows {
            for column in 0..<columns {
                let k = perFeature ? column : 0
                let i = row * columns + column
                values[i] = (values[i] - layer.mean[k]) / layer.denominator[k]
            }
        }
    }

    /// Runs an LSTM, GRU or SimpleRNN over `rows` steps from a zero state; writes every step's h (sequences) or
    /// the last one to `out`.
    private func run(_ layer: RecurrentLayer, _ input: UnsafeMutablePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let units = layer.units, width = layer.kind.gates * units, inputs = layer.inputs
        let h = state, c = state + widest, resetH = state + 2 * widest
        for j in 0..<units { h[j] = 0; c[j] = 0 }
        let accX = accumulator, accH = accumulator + widest
        layer.kernel.withUnsafeBufferPointer { kernelBuffer in
        layer.recurrentKernel.withUnsafeBufferPointer { recurrentBuffer in
            let kernel = kernelBuffer.baseAddress!, recurrent = recurrentBuffer.baseAddress!
            for t in 0..<rows {
                let x = input + t * inputs
                // Input part with its bias (GRU reset_after: the input bias, row 0).
                if let bias = layer.bias {
                    for j in 0..<width { accX[j] = Double(bias[j]) }
                } else {
                    for j in 0..<width { accX[j] = 0 }
                }
                accumulate(x, count: inputs, kernel, width: width, into: accX)
                switch layer.kind {
                case .lstm:
                    accumulate(h, count: units, recurrent, width: width, into: accX)
                    for j in 0..<width { gates[j] = Float(accX[j]) }
                    let ra = layer.recurrentActivation, a = layer.activation
                    for j in 0..<units {
                        let i = ra.scalar(gates[j]), f = ra.scalar(gates[units + j])
                        let g = a.scalar(gates[2 * units + j]), o = ra.scalar(gates[3 * units + j])
                        c[j] = f * c[j] + i * g
                        h[j] = o * a.scalar(c[j])
                    }
                case .gru(let resetAfter):
                    let ra = layer.recurrentActivation, a = layer.activation
                    if resetAfter {
                        // Recurrent part with its own bias (row 1), all three blocks: r multiplies h·U_h + b_h.
                        if let bias = layer.bias {
                            for j in 0..<width { accH[j] = Double(bias[width + j]) }
                        } else {
                            for j in 0..<width { accH[j] = 0 }
                        }
                        accumulate(h, count: units, recurrent, width: width, into: accH)
                        for j in 0..<units {
                            let z = ra.scalar(Float(accX[j]) + Float(accH[j]))
                            let r = ra.scalar(Float(accX[units + j]) + Float(accH[units + j]))
                            let candidate = a.scalar(Float(accX[2 * units + j]) + r * Float(accH[2 * units + j]))
                            gates[j] = z * h[j] + (1 - z) * candidate
                        }
                    } else {
                        // z and r from h·U[:, 0..<2u]; the candidate from (r ⊙ h)·U[:, 2u..<3u].
                        for j in 0..<2 * units { accH[j] = 0 }
                        accumulate(h, count: units, recurrent, width: 2 * units, stride: width, into: accH)
                        for j in 0..<units {
                            gates[j] = ra.scalar(Float(accX[j]) + Float(accH[j]))                   // z
                            resetH[j] = ra.scalar(Float(accX[units + j]) + Float(accH[units + j])) * h[j]
                        }
                        let accC = accH + 2 * units
                        for j in 0..<units { accC[j] = 0 }
                        accumulate(resetH, count: units, recurrent, width: units, stride: width, column: 2 * units, into: accC)
                        for j in 0..<units {
                            let z = gates[j]
                            let candidate = a.scalar(Float(accX[2 * units + j]) + Float(accC[j]))
                            gates[j] = z * h[j] + (1 - z) * candidate
                        }
                    }
                    for j in 0..<units { h[j] = gates[j] }
                case .simpleRNN:
                    accumulate(h, count: units, recurrent, width: width, into: accX)
                    for j in 0..<units { h[j] = layer.activation.scalar(Float(accX[j])) }
                }
                if layer.returnSequences {
                    let row = out + t * units
                    for j in 0..<units { row[j] = h[j] }
                }
            }
        }
        }
        if !layer.returnSequences {
            for j in 0..<units { out[j] = h[j] }
        }
    }
}
