// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A Keras activation, computed in float32 as TensorFlow does. The definitions follow the TensorFlow backend
/// (`keras/src/backend/tensorflow/nn.py` in Keras 3.15; `keras/src/activations.py` and `backend.py` in tf.keras
/// 2.15). Where the versions differ (`hard_sigmoid`) the file's `keras_version` decides.
enum Activation: Hashable, Sendable {
    case linear, relu, relu6, sigmoid, tanh, softplus, softsign, elu, selu, exponential
    case swish            // swish = silu: x · sigmoid(x)
    case gelu             // exact: 0.5 x (1 + erf(x / √2)); what the name "gelu" means in Keras 2 and 3
    case leakyRelu        // negative slope 0.2 (Keras 3 default; tf.nn.leaky_relu's alpha in Keras 2)
    case mish, celu, hardTanh, squareplus, sparsePlus, tanhShrink, logSigmoid, sparseSigmoid
    case softShrink, hardShrink   // threshold 0.5
    /// Keras 2 (`backend.hard_sigmoid`): clip(0.2 x + 0.5, 0, 1).
    case hardSigmoidKeras2
    /// Keras 3 (`ops.hard_sigmoid`): relu6(x + 3) / 6.
    case hardSigmoidKeras3
    case hardSilu         // hard_silu = hard_swish: x · hard_sigmoid(x) (Keras 3 only)
    case softmax, logSoftmax      // over the layer's units

    /// The activation Keras means by `name` in a file written by Keras `major`; nil when this runtime lacks it.
    init?(kerasName name: String, kerasMajor major: Int) {
        switch name {
        case "linear", "None": self = .linear
        case "relu": self = .relu
        case "relu6": self = .relu6
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softplus": self = .softplus
        case "softsign": self = .softsign
        case "elu": self = .elu
        case "selu": self = .selu
        case "exponential": self = .exponential
        case "swish", "silu": self = .swish
        case "gelu": self = .gelu
        case "leaky_relu": self = .leakyRelu
        case "mish": self = .mish
        case "celu": self = .celu
        case "hard_tanh": self = .hardTanh
        case "squareplus": self = .squareplus
        case "sparse_plus": self = .sparsePlus
        case "tanh_shrink": self = .tanhShrink
        case "log_sigmoid": self = .logSigmoid
        case "sparse_sigmoid": self = .sparseSigmoid
        case "soft_shrink": self = .softShrink
        case "hard_shrink": self = .hardShrink
        case "hard_sigmoid": self = major >= 3 ? .hardSigmoidKeras3 : .hardSigmoidKeras2
        case "hard_silu", "hard_swish": self = .hardSilu
        case "softmax": self = .softmax
        case "log_softmax": self = .logSoftmax
        default: return nil
        }
    }

    /// The Keras name, for summaries.
    var kerasName: String {
        switch self {
        case .linear: "linear"
        case .relu: "relu"
        case .relu6: "relu6"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .softsign: "softsign"
        case .elu: "elu"
        case .selu: "selu"
        case .exponential: "exponential"
        case .swish: "swish"
        case .gelu: "gelu"
        case .leakyRelu: "leaky_relu"
        case .mish: "mish"
        case .celu: "celu"
        case .hardTanh: "hard_tanh"
        case .squareplus: "squareplus"
        case .sparsePlus: "sparse_plus"
        case .tanhShrink: "tanh_shrink"
        case .logSigmoid: "log_sigmoid"
        case .sparseSigmoid: "sparse_sigmoid"
        case .softShrink: "soft_shrink"
        case .hardShrink: "hard_shrink"
        case .hardSigmoidKeras2, .hardSigmoidKeras3: "hard_sigmoid"
        case .hardSilu: "hard_silu"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        }
    }

    /// Applies the activation in place to `count` values at `values`. No allocation.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .linear: return
        case .softmax, .logSoftmax:
            var peak = -Float.infinity
            for i in 0..<count { peak = max(peak, values[i]) }
            var sum: Double = 0
            for i in 0..<count { sum += Double(expf(values[i] - peak)) }
            if self == .softmax {
                for i in 0..<count { values[i] = Float(Double(expf(values[i] - peak)) / sum) }
            } else {
                let logSum = Float(log(sum))
                for i in 0..<count { values[i] = values[i] - peak - logSum }
            }
        default:
            for i in 0..<count { values[i] = scalar(values[i]) }
        }
    }

    /// One value (every activation except softmax and log_softmax, which need the whole row).
    @inline(__always)
    func scalar(_ x: Float) -> Float {
        switch self {
        case .linear, .softmax, .logSoftmax: return x
        case .relu: return x > 0 ? x : 0
        case .relu6: return min(max(x, 0), 6)
        case .sigmoid: return Self.sigmoid(x)
        case .tanh: return tanhf(x)
        case .softplus: return Self.softplus(x)
        case .softsign: return x / (1 + abs(x))
        case .elu: return x > 0 ? x : expm1f(x)
        case .selu:
            let scale: Float = 1.0507009873554805, alpha: Float = 1.6732632423543772
            return x > 0 ? scale * x : scale * alpha * expm1f(x)
        case .exponential: return expf(x)
        case .swish: return x * Self.sigmoid(x)
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .leakyRelu: return x >= 0 ? x : 0.2 * x
        case .mish: return x * tanhf(Self.softplus(x))
        case .celu: return max(x, 0) + expm1f(min(x, 0))
        case .hardTanh: return min(max(x, -1), 1)
        case .squareplus: return (x + (x * x + 4).squareRoot()) / 2
        case .sparsePlus: return x <= -1 ? 0 : (x < 1 ? 0.25 * (x + 1) * (x + 1) : x)
        case .tanhShrink: return x - tanhf(x)
        case .logSigmoid: return -Self.softplus(-x)
        case .sparseSigmoid: return x <= -1 ? 0 : (x >= 1 ? 1 : 0.5 * (x + 1))
        case .softShrink: return x > 0.5 ? x - 0.5 : (x < -0.5 ? x + 0.5 : 0)
        case .hardShrink: return abs(x) > 0.5 ? x : 0
        case .hardSigmoidKeras2: return min(max(0.2 * x + 0.5, 0), 1)
        case .hardSigmoidKeras3: return min(max(x + 3, 0), 6) / 6
        case .hardSilu: return x * (min(max(x + 3, 0), 6) / 6)
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// log(1 + eˣ) without overflow, as `tf.math.softplus`: x itself far right, eˣ far left.
    @inline(__always)
    static func softplus(_ x: Float) -> Float {
        if x > 20 { return x }
        if x < -20 { return expf(x) }
        return log1pf(expf(x))
    }
}
