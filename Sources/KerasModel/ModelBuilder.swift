// SPDX-License-Identifier: Apache-2.0

/// Where a layer's weights are in the HDF5 file.
enum WeightLayout {
    /// `model.save("m.h5")` (Keras 2 and 3): `model_weights/<layer name>/` with the attribute `weight_names`
    /// listing dataset paths relative to that group (Keras 2 names end in `:0`).
    case legacyH5
    /// `model.weights.h5` inside a `.keras` zip (Keras 3): `layers/<snake_case class>[_n]/vars/0…`, recurrent
    /// layers under `layers/<…>/cell/vars/0…`; the order is the layer's `weights` order.
    case kerasV3
}

/// Turns the file's `model_config` and weights into layers, checking every option and shape on the way.
struct ModelBuilder {
    var file: String
    var config: JSONValue
    var kerasVersion: String
    var hdf5: HDF5File
    var layout: WeightLayout

    struct Result {
        var layers: [Layer]
        var windowLength: Int?
        var featureCount: Int
        var outputCount: Int
        var summary: String
    }

    var kerasMajor: Int { Int(kerasVersion.split(separator: ".").first ?? "") ?? 3 }

    func build() throws(KerasModelError) -> Result {
        let className = config["class_name"]?.string ?? "?"
        guard className == "Sequential" else {
            throw KerasModelError(.unsupportedLayer, file: file, option: "model class \(className)",
                                  detail: "only Sequential models are supported",
                                  remedy: "build the model with keras.Sequential([keras.Input(shape=(steps, features)), …]) and save it again")
        }
        guard let layerConfigs = config["config"]?["layers"]?.array, !layerConfigs.isEmpty else {
            throw KerasModelError(.badConfig, file: file, option: "model_config", detail: "the model has no layers",
                                  remedy: "save the model after building it")
        }
        var inputShape: [Int?]? = config["config"]?["build_input_shape"]?.shape
        var layers: [Layer] = []
        var parts: [String] = []
        var rows: Int? = nil, columns = 0, shapeKnown = false
        var counters: [String: Int] = [:]
        var index = -1
        for entry in layerConfigs {
            let layerClass = entry["class_name"]?.string ?? "?"
            let options = entry["config"] ?? .object([:])
            if layerClass == "InputLayer" {
                inputShape = options["batch_shape"]?.shape ?? options["batch_input_shape"]?.shape ?? inputShape
                continue
            }
            index += 1
            let info = KerasModelError.Layer(index: index, name: options["name"]?.string ?? "?", className: layerClass)
            if !shapeKnown {
                // Keras 2 without an InputLayer keeps the shape on the first layer; Keras 3 in its build_config.
                let shape = inputShape ?? options["batch_input_shape"]?.shape ?? options["batch_shape"]?.shape
                    ?? entry["build_config"]?["input_shape"]?.shape
                guard let shape, shape.count == 3, let features = shape[2] else {
                    throw KerasModelError(.badConfig, file: file, layer: info, option: "input shape",
                                          detail: "the model's input shape is \(shape.map { "\($0)" } ?? "not recorded"); need (batch, steps, features) with a fixed feature count",
                                          remedy: "start the model with keras.Input(shape=(steps, features))")
                }
                inputShape = shape
                rows = shape[1]
                columns = features
                shapeKnown = true
            }
            try checkDtype(options, info)
            let snake = Self.snakeCase(layerClass)
            let key = counters[snake].map { "\(snake)_\($0)" } ?? snake
            counters[snake, default: 0] += 1
            let layer = LayerContext(builder: self, info: info, options: options, weightKey: key)
            switch layerClass {
            case "Dense":
                let dense = try layer.dense(inputs: columns)
                layers.append(.dense(dense))
                columns = dense.units
                parts.append("Dense(\(dense.units)\(dense.activation == .linear ? "" : ", " + dense.activation.kerasName))")
            case "LSTM", "GRU", "SimpleRNN":
                let recurrent = try layer.recurrent(inputs: columns)
                layers.append(.recurrent(recurrent))
                columns = recurrent.units
                if !recurrent.returnSequences { rows = 1 }
                parts.append(Self.describe(recurrent, className: layerClass))
            case "Normalization":
                let normalization = try layer.normalization(features: columns)
                layers.append(.normalization(normalization))
                parts.append("Normalization")
            case "Flatten":
                if let format = options["data_format"]?.string, format != "channels_last" {
                    throw layer.unsupported("data_format", options["data_format"]!, remedy: "use Flatten() with the default channels_last")
                }
                guard let steps = rows else {
                    throw KerasModelError(.badConfig, file: file, layer: info, detail: "Flatten over an unknown number of time steps",
                                          remedy: "give the Input a fixed number of steps")
                }
                layers.append(.flatten)
                columns *= steps
                rows = 1
                parts.append("Flatten")
            case "Activation":
                let activation = try layer.activation("activation")
                layers.append(.activation(activation))
                parts.append("Activation(\(activation.kerasName))")
            case "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout":
                layers.append(.identity)
                let rate = options["rate"]?.number ?? options["stddev"]?.number
                parts.append("\(layerClass)\(rate.map { "(\($0))" } ?? "")")
            default:
                throw KerasModelError(.unsupportedLayer, file: file, layer: info,
                                      detail: "\(layerClass) layers are not supported (supported: Dense, LSTM, GRU, SimpleRNN, Normalization, Flatten, Dropout, Activation, InputLayer)",
                                      remedy: "rebuild the model from supported layers, or run it with TensorFlow")
            }
        }
        if rows != 1 && rows != nil {
            // The output is a sequence: every step's values, flattened, are the outputs.
        }
        let outputCount = columns * (rows ?? 1)
        let window = inputShape?[1] ?? nil
        let features = inputShape?[2] ?? nil
        guard let features else {
            throw KerasModelError(.badConfig, file: file, option: "input shape", detail: "the model records no input shape",
                                  remedy: "start the model with keras.Input(shape=(steps, features))")
        }
        if rows == nil, window == nil {
            throw KerasModelError(.badConfig, file: file, option: "input shape",
                                  detail: "the model returns a sequence of unknown length (input steps are None)",
                                  remedy: "give the Input a fixed number of steps, or end with an RNN without return_sequences")
        }
        let summary = parts.joined(separator: " → ") + " (Keras \(kerasVersion))"
        return Result(layers: layers, windowLength: window, featureCount: features, outputCount: outputCount, summary: summary)
    }

    private func checkDtype(_ options: JSONValue, _ info: KerasModelError.Layer) throws(KerasModelError) {
        guard let dtype = options["dtype"], !dtype.isNull else { return }
        let name = dtype.string ?? dtype["config"]?["name"]?.string
        guard name == "float32" else {
            throw KerasModelError(.unsupportedOption, file: file, layer: info, option: "dtype",
                                  detail: "dtype \(dtype.text) is not supported: this runtime computes in float32",
                                  remedy: "save the model with the float32 dtype policy")
        }
    }

    static func describe(_ layer: RecurrentLayer, className: String) -> String {
        var text = "\(className)(\(layer.units)"
        if layer.activation != .tanh { text += ", \(layer.activation.kerasName)" }
        if layer.kind != .simpleRNN, layer.recurrentActivation != .sigmoid {
            text += ", recurrent \(layer.recurrentActivation.kerasName)"
        }
        if case .gru(let resetAfter) = layer.kind, !resetAfter { text += ", reset_after=False" }
        if layer.returnSequences { text += ", sequences" }
        return text + ")"
    }

    /// Keras's `naming.to_snake_case`: `SimpleRNN` → `simple_rnn`, `LSTM` → `lstm`, `GaussianNoise` → `gaussian_noise`.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
        var out = ""
        for (i, c) in characters.enumerated() {
            let next = i + 1 < characters.count ? characters[i + 1] : nil
            let previous = i > 0 ? characters[i - 1] : nil
            if c.isUppercase, let previous, previous != "_",
               (next?.isLowercase ?? false) || previous.isLowercase {
                out.append("_")
            }
            out.append(c)
        }
        return out.lowercased()
    }
}

/// One layer's options and weights, with errors that name the layer.
private struct LayerContext {
    var builder: ModelBuilder
    var info: KerasModelError.Layer
    var options: JSONValue
    var weightKey: String

    var file: String { builder.file }

    func unsupported(_ option: String, _ value: JSONValue, remedy: String) -> KerasModelError {
        KerasModelError(.unsupportedOption, file: file, layer: info, option: option,
                        detail: "\(option)=\(value.text) is not supported", remedy: remedy)
    }

    /// Refuses an option whose value differs from the one this runtime computes.
    func require(_ option: String, is expected: JSONValue, remedy: String) throws(KerasModelError) {
        guard let value = options[option], !value.isNull else { return }
        if value != expected { throw unsupported(option, value, remedy: remedy) }
    }

    func activation(_ option: String, default name: String = "linear") throws(KerasModelError) -> Activation {
        let value = options[option] ?? .string(name)
        let kerasName: String?
        switch value {
        case .null: kerasName = "linear"
        case .string(let text): kerasName = text
        default:
            // Keras 3 may serialise a built-in activation as {"class_name": "function", "config": "relu", …}.
            kerasName = value["config"]?.string ?? value["config"]?["name"]?.string
        }
        guard let kerasName, let activation = Activation(kerasName: kerasName, kerasMajor: builder.kerasMajor) else {
            throw KerasModelError(.unsupportedOption, file: file, layer: info, option: option,
                                  detail: "activation \(value.text) is not supported",
                                  remedy: "use one of relu, sigmoid, hard_sigmoid, tanh, linear, elu, selu, softplus, softsign, swish/silu, gelu, relu6, leaky_relu, mish, exponential, softmax, or run the model with TensorFlow")
        }
        return activation
    }

    func dense(inputs: Int) throws(KerasModelError) -> DenseLayer {
        let units = try positive("units")
        let activation = try activation("activation")
        try require("lora_rank", is: .null, remedy: "merge the LoRA weights into the kernel before saving")
        let useBias = options["use_bias"]?.bool ?? true
        let weights = try weights(roles: useBias ? ["kernel", "bias"] : ["kernel"])
        let kernel = try weight(weights, "kernel", shape: [inputs, units])
        let bias = useBias ? try weight(weights, "bias", shape: [units]) : nil
        return DenseLayer(inputs: inputs, units: units, kernel: kernel, bias: bias, activation: activation)
    }

    func recurrent(inputs: Int) throws(KerasModelError) -> RecurrentLayer {
        let units = try positive("units")
        let kind: RecurrentLayer.Kind
        switch info.className {
        case "LSTM": kind = .lstm
        case "GRU": kind = .gru(resetAfter: options["reset_after"]?.bool ?? (builder.kerasMajor >= 2))
        default: kind = .simpleRNN
        }
        let remedy = "save the model without it (a forecaster over one window needs none of these)"
        try require("go_backwards", is: .bool(false), remedy: remedy)
        try require("stateful", is: .bool(false), remedy: remedy)
        try require("return_state", is: .bool(false), remedy: remedy)
        try require("time_major", is: .bool(false), remedy: remedy)
        let activation = try activation("activation", default: "tanh")
        let recurrentActivation = kind == .simpleRNN ? .sigmoid : try self.activation("recurrent_activation", default: "sigmoid")
        let useBias = options["use_bias"]?.bool ?? true
        let weights = try weights(roles: useBias ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"])
        let width = kind.gates * units
        let kernel = try weight(weights, "kernel", shape: [inputs, width])
        let recurrentKernel = try weight(weights, "recurrent_kernel", shape: [units, width])
        var bias: [Float]? = nil
        if useBias {
            if case .gru(true) = kind { bias = try weight(weights, "bias", shape: [2, width]) }
            else { bias = try weight(weights, "bias", shape: [width]) }
        }
        return RecurrentLayer(kind: kind, inputs: inputs, units: units, kernel: kernel, recurrentKernel: recurrentKernel,
                              bias: bias, activation: activation, recurrentActivation: recurrentActivation,
                              returnSequences: options["return_sequences"]?.bool ?? false)
    }

    func normalization(features: Int) throws(KerasModelError) -> NormalizationLayer {
        try require("invert", is: .bool(false), remedy: "save the model without an inverting Normalization; put the target scale in scaler.json")
        let axis = options["axis"] ?? .number(-1)
        guard axis == .number(-1) || axis == .array([.number(-1)]) || axis == .number(2) || axis == .array([.number(2)]) else {
            throw unsupported("axis", axis, remedy: "use Normalization(axis=-1), one mean and variance per feature")
        }
        var mean: [Float], variance: [Float]
        if let configMean = options["mean"], !configMean.isNull, let configVariance = options["variance"], !configVariance.isNull {
            mean = Self.numbers(configMean)
            variance = Self.numbers(configVariance)
        } else {
            let weights = try weights(roles: ["mean", "variance", "count"])
            guard let m = weights["mean"], let v = weights["variance"] else {
                throw missing("mean and variance")
            }
            mean = m.values
            variance = v.values
        }
        guard mean.count == variance.count, mean.count == 1 || mean.count == features else {
            throw KerasModelError(.badWeights, file: file, layer: info, option: "mean",
                                  detail: "\(mean.count) means and \(variance.count) variances for \(features) features",
                                  remedy: "adapt the Normalization on data shaped (samples, steps, features)")
        }
        try finite(mean, "mean")
        try finite(variance, "variance")
        return NormalizationLayer(mean: mean, denominator: variance.map { max($0.squareRoot(), 1e-7) })
    }

    private static func numbers(_ value: JSONValue) -> [Float] {
        if let number = value.number { return [Float(number)] }
        return (value.array ?? []).flatMap { numbers($0) }
    }

    private func positive(_ option: String) throws(KerasModelError) -> Int {
        guard let value = options[option]?.number, value >= 1, value == value.rounded() else {
            throw KerasModelError(.badConfig, file: file, layer: info, option: option,
                                  detail: "\(option) is \(options[option]?.text ?? "missing"), not a positive integer",
                                  remedy: "save the model again with Keras")
        }
        return Int(value)
    }

    private func missing(_ what: String) -> KerasModelError {
        KerasModelError(.badWeights, file: file, layer: info, option: what, detail: "the file holds no \(what) for this layer",
                        remedy: "save the whole model (model.save), not a model built but never given weights")
    }

    /// The layer's weights by role (`kernel`, `recurrent_kernel`, `bias`, `mean`, …).
    private func weights(roles: [String]) throws(KerasModelError) -> [String: (shape: [Int], values: [Float])] {
        var found: [String: (shape: [Int], values: [Float])] = [:]
        let hdf5 = builder.hdf5
        switch builder.layout {
        case .legacyH5:
            let group = "model_weights/\(info.name)"
            guard let names = hdf5.strings(attribute: "weight_names", at: group) else { throw missing("weights (\(group))") }
            for name in names {
                guard let data = hdf5.floats(at: "\(group)/\(name)") else {
                    throw KerasModelError(.unreadable, file: file, layer: info, option: name,
                                          detail: "the weight \(group)/\(name) cannot be read (truncated or damaged file?)",
                                          remedy: "copy the model file again")
                }
                var role = String(name.split(separator: "/").last ?? "")
                if let colon = role.firstIndex(of: ":") { role = String(role[..<colon]) }
                found[role] = data
            }
        case .kerasV3:
            let isRecurrent = ["LSTM", "GRU", "SimpleRNN"].contains(info.className)
            let group = "layers/\(weightKey)" + (isRecurrent ? "/cell/vars" : "/vars")
            for (index, role) in roles.enumerated() where hdf5.exists("\(group)/\(index)") {
                guard let data = hdf5.floats(at: "\(group)/\(index)") else {
                    throw KerasModelError(.unreadable, file: file, layer: info, option: role,
                                          detail: "the weight \(group)/\(index) cannot be read (truncated or damaged file?)",
                                          remedy: "copy the model file again")
                }
                found[role] = data
            }
        }
        return found
    }

    private func weight(_ weights: [String: (shape: [Int], values: [Float])], _ role: String,
                        shape: [Int]) throws(KerasModelError) -> [Float] {
        guard let data = weights[role] else { throw missing(role) }
        guard data.shape == shape else {
            throw KerasModelError(.badWeights, file: file, layer: info, option: role,
                                  detail: "the weight has shape \(data.shape), the configuration needs \(shape)",
                                  remedy: "save the model again with Keras (the file does not match its own configuration)")
        }
        try finite(data.values, role)
        return data.values
    }

    private func finite(_ values: [Float], _ role: String) throws(KerasModelError) {
        let nan = values.count { $0.isNaN }
        let infinite = values.count { $0.isInfinite }
        guard nan == 0 && infinite == 0 else {
            let what = nan > 0 ? "NaN" : "infinite values"
            let count = nan > 0 ? nan : infinite
            throw KerasModelError(.nonFiniteWeights, file: file, layer: info, option: role,
                                  detail: "the model's weights contain \(what): the training diverged (\(count) of \(values.count) values of \(role))",
                                  remedy: "retrain with scaled inputs and targets (see scaler.json) or a lower learning rate, and deploy a model whose weights are finite")
        }
    }
}
