// SPDX-License-Identifier: Apache-2.0

/// A fully connected layer, applied to every row (time step) of its input, as Keras applies `Dense` to the last axis.
struct DenseLayer: Sendable {
    var inputs: Int
    var units: Int
    /// `(inputs, units)`, row-major, as Keras stores it.
    var kernel: [Float]
    var bias: [Float]?
    var activation: Activation
}

/// LSTM, GRU or SimpleRNN over the rows (time steps) of its input, state starting at zero.
struct RecurrentLayer: Sendable {
    enum Kind: Hashable, Sendable {
        case lstm
        /// `resetAfter`: Keras's `reset_after` (the reset gate multiplies the recurrent term after its matrix product).
        case gru(resetAfter: Bool)
        case simpleRNN

        /// Blocks of `units` columns in the kernels: LSTM i, f, c, o; GRU z, r, h; SimpleRNN one.
        var gates: Int {
            switch self {
            case .lstm: 4
            case .gru: 3
            case .simpleRNN: 1
            }
        }
    }

    var kind: Kind
    var inputs: Int
    var units: Int
    /// `(inputs, gates · units)`, row-major.
    var kernel: [Float]
    /// `(units, gates · units)`, row-major.
    var recurrentKernel: [Float]
    /// `gates · units`; for GRU with `reset_after`, `2 · gates · units` (input bias, then recurrent bias).
    var bias: [Float]?
    var activation: Activation
    /// Unused by SimpleRNN.
    var recurrentActivation: Activation
    var returnSequences: Bool
}

/// `Normalization`: `(x − mean) / max(√variance, 1e-7)` per feature (the last axis), as Keras 2 and 3 compute it.
struct NormalizationLayer: Sendable {
    /// One value for every feature, or one for all.
    var mean: [Float]
    /// `max(√variance, 1e-7)`, one per feature or one for all.
    var denominator: [Float]
}

/// One layer of the model as computed.
enum Layer: Sendable {
    case dense(DenseLayer)
    case recurrent(RecurrentLayer)
    case normalization(NormalizationLayer)
    /// `Activation` layer: the activation alone.
    case activation(Activation)
    /// (rows, columns) → (1, rows · columns).
    case flatten
    /// Dropout and the noise layers: the identity at inference.
    case identity
}
