// SPDX-License-Identifier: Apache-2.0

/// Why a model could not be loaded: a ``Code``, the file (and the archive member), the layer and option involved,
/// what is wrong and what to do.
///
/// `description` is one line:
/// `<file>: layer <index> '<name>' (<class>), <option>: <detail>. Fix: <remedy>` (the layer and option parts only
/// when they apply). Match on the code: `catch KerasModelError.Code.nonFiniteWeights { … }`.
public struct KerasModelError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure. New codes may be added; match the ones you handle and keep a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case unreadable, notAModel, savedModel, unsupportedLayer, unsupportedOption, badConfig, badWeights,
                 nonFiniteWeights, badScaler, unsafeArchive, unexpectedEntries, tooLarge
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file is missing, cannot be read, or is damaged (truncated HDF5, an archive cut short).
        public static let unreadable = Code(.unreadable)
        /// The file is readable but holds no Keras model (no `model_config`, no model in the archive, …).
        public static let notAModel = Code(.notAModel)
        /// A TensorFlow SavedModel folder (`saved_model.pb`): a graph, not a Keras layer list.
        public static let savedModel = Code(.savedModel)
        /// A layer class this runtime does not compute (Conv1D, Bidirectional, Masking, …).
        public static let unsupportedLayer = Code(.unsupportedLayer)
        /// A supported layer with an option this runtime does not compute (go_backwards, stateful, an activation…).
        public static let unsupportedOption = Code(.unsupportedOption)
        /// The model configuration is inconsistent or incomplete (no input shape, shapes that do not chain).
        public static let badConfig = Code(.badConfig)
        /// A weight is missing or has the wrong shape for its layer.
        public static let badWeights = Code(.badWeights)
        /// A weight is NaN or infinite: the training diverged.
        public static let nonFiniteWeights = Code(.nonFiniteWeights)
        /// `scaler.json` (or the `clemap_scaler` attribute) is malformed or has a zero or non-finite std.
        public static let badScaler = Code(.badScaler)
        /// An archive entry that must not be unpacked: an absolute path, a `..` component, a symbolic or hard
        /// link, a device, a FIFO or a socket. The whole archive is refused.
        public static let unsafeArchive = Code(.unsafeArchive)
        /// An archive holding files besides the one model and an optional `scaler.json`.
        public static let unexpectedEntries = Code(.unexpectedEntries)
        /// The file, or the archive unpacked, is larger than the limit (``KerasModel/Limits``).
        public static let tooLarge = Code(.tooLarge)

        /// The code's name, e.g. `nonFiniteWeights`.
        public var description: String { value.rawValue }

        /// True when `error` is a ``KerasModelError`` with this code, so that `catch KerasModelError.Code.savedModel` works.
        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? KerasModelError)?.code == pattern
        }
    }

    /// A layer of the model: its position in the model's layer list (0 = the first after the input), its Keras
    /// name and its class.
    public struct Layer: Hashable, Sendable, CustomStringConvertible {
        public var index: Int
        public var name: String
        public var className: String
        /// `layer 1 'lstm' (LSTM)`.
        public var description: String { "layer \(index) '\(name)' (\(className))" }
    }

    /// What kind of failure.
    public var code: Code
    /// The file given to ``KerasModel/load(contentsOf:)``, with the archive member in parentheses when it is one,
    /// e.g. `model.tar.gz (model.h5)`.
    public var file: String
    /// The layer involved, if any.
    public var layer: Layer?
    /// The option or weight involved, e.g. `go_backwards`, `activation`, `kernel`.
    public var option: String?
    /// What is wrong.
    public var detail: String
    /// What to do about it.
    public var remedy: String

    public init(_ code: Code, file: String, layer: Layer? = nil, option: String? = nil, detail: String, remedy: String) {
        self.code = code
        self.file = file
        self.layer = layer
        self.option = option
        self.detail = detail
        self.remedy = remedy
    }

    public var description: String {
        var subject = file
        if let layer { subject += ": \(layer)" }
        if let option { subject += (layer == nil ? ": " : ", ") + option }
        return "\(subject): \(detail). Fix: \(remedy)"
    }
}
