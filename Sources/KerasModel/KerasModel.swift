// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// A Keras model read from the file Keras wrote, computed without TensorFlow.
///
/// Files: `model.save("m.h5")` from Keras 2 (tf.keras ≤ 2.15) or Keras 3; a Keras 3 `.keras` zip; a tar,
/// tar.gz or tgz holding one such file, as SageMaker packs `/opt/ml/model/` (`model.tar.gz` with `model.h5`),
/// optionally with `scaler.json` beside it, and nothing else. A TensorFlow SavedModel folder is refused; so is an
/// archive cut short or holding an entry that must not be unpacked (an absolute or `..` path, a link, a device).
///
/// Layers: InputLayer, Dense, LSTM, GRU (`reset_after` true and false), SimpleRNN, Normalization, Flatten,
/// Activation, Dropout and the noise layers (identity at inference). The architecture comes from the file's own
/// `model_config` (`.keras`: `config.json`), the weights from `model_weights` (`.keras`: `model.weights.h5`).
/// Anything else, and every option that changes the computation (`go_backwards`, `stateful`, an unknown
/// activation, a non-float32 dtype, …), is refused with a ``KerasModelError`` naming the layer and option;
/// so are NaN or infinite weights.
///
/// ## Topics
/// - ``load(contentsOf:limits:)``
/// - ``Limits``
/// - ``makeRunner()``
/// - ``KerasRunner``
public struct KerasModel: Sendable {
    /// The file given to ``load(contentsOf:limits:)``.
    public var path: String
    /// Time steps of the input window (the InputLayer's `batch_shape[1]`), nil when the model leaves it open.
    public var windowLength: Int?
    /// Values per time step (`batch_shape[2]`).
    public var featureCount: Int
    /// Values the model puts out for one window.
    public var outputCount: Int
    /// The layers in words with the Keras version, e.g. `LSTM(32, relu) → Dense(1) (Keras 3.15.1)`.
    public var summary: String
    /// The `keras_version` the file was written with.
    public var kerasVersion: String
    /// The input and target scaling, nil when the model takes raw values.
    public var scaler: KerasScaler?
    /// Where ``scaler`` came from (`scaler.json in model.tar.gz`, `clemap_scaler attribute`, a path), nil without one.
    public var scalerSource: String?
    /// What the output forecasts; the next one-minute value unless `scaler.json` says otherwise.
    public var forecastTarget: KerasOutputTarget

    let layers: [Layer]

    /// How large a model file may be. A model for this device is tens of kB; the limits only keep a wrong or
    /// hostile file (a gzip bomb) from filling the memory, since files are read whole.
    public struct Limits: Sendable, Hashable {
        /// The file as given (an `.h5`, a `.keras`, or the packed archive).
        public var fileBytes: Int
        /// An archive's regular files unpacked, together (a `.keras` inside a tar.gz is counted again).
        public var unpackedBytes: Int
        /// - Parameters:
        ///   - fileBytes: 64 MiB by default.
        ///   - unpackedBytes: 256 MiB by default.
        public init(fileBytes: Int = 64 << 20, unpackedBytes: Int = 256 << 20) {
            self.fileBytes = fileBytes; self.unpackedBytes = unpackedBytes
        }
    }

    /// Loads and checks a model file. Blocks on file I/O; safe from any thread (HDF5 access is serialised).
    ///
    /// - Parameters:
    ///   - path: an `.h5`, `.keras`, `.tar`, `.tar.gz` or `.tgz` file (the format is read from the file's first
    ///     bytes, not its name).
    ///   - limits: the largest file, and archive unpacked, that is read.
    /// - Returns: the model, ready for ``makeRunner()``.
    /// - Throws: ``KerasModelError`` naming the file (and the archive entry, layer and option where one is involved).
    public static func load(contentsOf path: String, limits: Limits = Limits()) throws(KerasModelError) -> KerasModel {
        let bytes: [UInt8]
        switch LocalFile.read(path, limit: limits.fileBytes) {
        case .folder:
            if LocalFile.exists(path + "/saved_model.pb") { throw savedModel(path) }
            throw KerasModelError(.notAModel, file: path, detail: "a folder, not a model file",
                                  remedy: "give the path of an .h5, .keras or model.tar.gz file")
        case .failure(let message):
            throw KerasModelError(.unreadable, file: path, detail: "cannot read the file: \(message)",
                                  remedy: "check the path and its permissions; give an .h5, .keras or model.tar.gz file")
        case .tooLarge(let size):
            throw KerasModelError(.tooLarge, file: path,
                                  detail: "the file is \(size) bytes, more than the \(ArchiveReader.mebibytes(limits.fileBytes)) a model file may be",
                                  remedy: "give the model file itself (an .h5, .keras or model.tar.gz of tens of kB to a few MiB); a larger one needs a larger limit")
        case .contents(let contents):
            bytes = contents
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let beside = folder + "/scaler.json"
        var besideScaler: (text: String, source: String)? = nil
        if case .contents(let contents) = LocalFile.read(beside) {
            besideScaler = (String(decoding: contents, as: UTF8.self), beside)
        }
        var model = try HDF5File.withLibrary { () throws(KerasModelError) -> KerasModel in
            try ModelFile(path: path, limits: limits).load(bytes: bytes, display: path, archiveScaler: nil, allowArchive: true)
        }
        if model.scaler == nil, let besideScaler {
            (model.scaler, model.forecastTarget) = try ScalerFile.parse(besideScaler.text, source: besideScaler.source)
            model.scalerSource = besideScaler.source
        }
        return model
    }

    /// A runner with its own scratch memory for this model. Runners are cheap; use one per thread.
    public func makeRunner() -> KerasRunner { KerasRunner(model: self) }

    static func savedModel(_ file: String) -> KerasModelError {
        KerasModelError(.savedModel, file: file,
                        detail: "a TensorFlow SavedModel (saved_model.pb) is a graph, not a Keras layer list, and cannot be read without TensorFlow",
                        remedy: "load it in Keras and save it as .h5 or .keras: keras.models.load_model(...).save(\"model.h5\") (or model.save(\"model.keras\")); for a Keras 3 export, rebuild the Sequential model and save it the same way")
    }
}

/// Recognises the format and reads the configuration, weights and scaler.
private struct ModelFile {
    var path: String
    var limits: KerasModel.Limits

    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    static let zipSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

    static func isHDF5(_ bytes: [UInt8]) -> Bool {
        // The superblock is at 0, 512, 1024, 2048, … (a user block may precede it). A tar also puts its first
        // member at 512, so a tar (`ustar` at 257) holding an HDF5 file is not one.
        if bytes.starts(with: hdf5Signature) { return true }
        if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) { return false }
        var offset = 512
        while offset + 8 <= bytes.count {
            if Array(bytes[offset..<offset + 8]) == hdf5Signature { return true }
            offset *= 2
        }
        return false
    }

    func load(bytes: [UInt8], display: String, archiveScaler: (text: String, source: String)?,
              allowArchive: Bool) throws(KerasModelError) -> KerasModel {
        if Self.isHDF5(bytes) {
            guard let hdf5 = HDF5File(image: bytes, name: display) else {
                throw KerasModelError(.unreadable, file: display, detail: "HDF5 cannot open the file: it is truncated or damaged",
                                      remedy: "copy the model file again (compare its size and checksum with the original)")
            }
            guard let configText = hdf5.strings(attribute: "model_config")?.first else {
                if hdf5.exists("layers") || hdf5.exists("vars") {
                    throw KerasModelError(.notAModel, file: display,
                                          detail: "the file holds weights only (model.save_weights / model.weights.h5), no architecture",
                                          remedy: "save the whole model: model.save(\"model.h5\") or model.save(\"model.keras\")")
                }
                throw KerasModelError(.notAModel, file: display, detail: "an HDF5 file without the model_config attribute Keras writes",
                                      remedy: "save the model with Keras: model.save(\"model.h5\")")
            }
            let version = hdf5.strings(attribute: "keras_version")?.first
                ?? hdf5.strings(attribute: "keras_version", at: "model_weights")?.first ?? "2"
            var scaler = archiveScaler
            if scaler == nil, let text = hdf5.strings(attribute: "clemap_scaler")?.first {
                scaler = (text, "\(display) attribute clemap_scaler")
            }
            return try build(config: configText, version: version, hdf5: hdf5, layout: .legacyH5, display: display, scaler: scaler)
        }
        let entries: [ArchiveReader.Entry]
        do {
            entries = try ArchiveReader.entries(bytes: bytes, limit: limits.unpackedBytes)
        } catch {
            switch error.kind {
            case .notAnArchive:
                throw KerasModelError(.notAModel, file: display,
                                      detail: "neither an HDF5 model (.h5), a .keras zip, nor a tar/tar.gz archive (\(error.message))",
                                      remedy: error.remedy)
            case .damaged:
                throw KerasModelError(.unreadable, file: display, detail: error.message, remedy: error.remedy)
            case .unsafeEntry:
                throw KerasModelError(.unsafeArchive, file: "\(display) (\(error.entry ?? "?"))",
                                      detail: "the archive entry is \(error.message); the whole archive is refused", remedy: error.remedy)
            case .tooLarge:
                throw KerasModelError(.tooLarge, file: display, detail: error.message, remedy: error.remedy)
            }
        }
        if bytes.starts(with: Self.zipSignature), let config = entries.first(where: { $0.path == "config.json" }) {
            return try loadKeras(entries, config: config, display: display, archiveScaler: archiveScaler)
        }
        guard allowArchive else {
            throw KerasModelError(.notAModel, file: display, detail: "an archive inside an archive",
                                  remedy: "pack model.h5 (or model.keras) itself into the tar.gz")
        }
        if entries.contains(where: { $0.name == "saved_model.pb" }) { throw KerasModel.savedModel(display) }
        let models = entries.filter {
            let name = $0.name.lowercased()
            return !$0.path.hasPrefix("__MACOSX/") && !name.hasPrefix("._")
                && (name.hasSuffix(".h5") || name.hasSuffix(".hdf5") || name.hasSuffix(".keras"))
        }
        guard models.count == 1, let member = models.first else {
            throw KerasModelError(.notAModel, file: display,
                                  detail: models.isEmpty
                                      ? "the archive holds no .h5 or .keras file (entries: \(entries.map(\.path).joined(separator: ", ")))"
                                      : "the archive holds \(models.count) models (\(models.map(\.path).joined(separator: ", "))); which one is meant is unclear",
                                  remedy: "pack exactly one model.h5 (or model.keras), optionally with scaler.json, e.g. tar czf model.tar.gz model.h5 scaler.json")
        }
        // Exactly the model and an optional scaler.json: anything else means the archive is not the one meant (a
        // job that packed its code or checkpoints, a wrong folder), and which scaler applies would be a guess.
        // macOS tar's AppleDouble companions (`._model.h5`, `__MACOSX/`) are metadata and pass.
        let scalerEntry = entries.first(where: { $0.name == "scaler.json" })
        let extra = entries.filter {
            $0.path != member.path && $0.path != scalerEntry?.path && !$0.path.hasPrefix("__MACOSX/") && !$0.name.hasPrefix("._")
        }
        guard extra.isEmpty else {
            throw KerasModelError(.unexpectedEntries, file: display,
                                  detail: "the archive holds files besides \(member.path)\(scalerEntry.map { " and \($0.path)" } ?? ""): \(extra.map(\.path).joined(separator: ", "))",
                                  remedy: "pack only model.h5 (or model.keras) and optionally scaler.json, e.g. tar czf model.tar.gz model.h5 scaler.json")
        }
        let memberDisplay = "\(display) (\(member.path))"
        var scaler: (text: String, source: String)? = nil
        if let entry = scalerEntry {
            scaler = (String(decoding: entry.bytes, as: UTF8.self), "\(display) (\(entry.path))")
        }
        return try load(bytes: member.bytes, display: memberDisplay, archiveScaler: scaler, allowArchive: false)
    }

    /// A Keras 3 `.keras` zip: `config.json`, `metadata.json` (`keras_version`), `model.weights.h5`.
    private func loadKeras(_ entries: [ArchiveReader.Entry], config: ArchiveReader.Entry, display: String,
                           archiveScaler: (text: String, source: String)?) throws(KerasModelError) -> KerasModel {
        guard let weights = entries.first(where: { $0.path == "model.weights.h5" }),
              let hdf5 = HDF5File(image: weights.bytes, name: "\(display) (model.weights.h5)") else {
            throw KerasModelError(.unreadable, file: display, option: "model.weights.h5",
                                  detail: "the .keras file has no readable model.weights.h5",
                                  remedy: "save the model again with model.save(\"model.keras\")")
        }
        var version = "3"
        if let metadata = entries.first(where: { $0.path == "metadata.json" }),
           let value = JSONValue.parse(String(decoding: metadata.bytes, as: UTF8.self))?["keras_version"]?.string {
            version = value
        }
        var scaler = archiveScaler
        if scaler == nil, let entry = entries.first(where: { $0.name == "scaler.json" }) {
            scaler = (String(decoding: entry.bytes, as: UTF8.self), "\(display) (\(entry.path))")
        }
        return try build(config: String(decoding: config.bytes, as: UTF8.self), version: version, hdf5: hdf5,
                         layout: .kerasV3, display: display, scaler: scaler)
    }

    private func build(config text: String, version: String, hdf5: HDF5File, layout: WeightLayout, display: String,
                       scaler: (text: String, source: String)?) throws(KerasModelError) -> KerasModel {
        guard let config = JSONValue.parse(text) else {
            throw KerasModelError(.badConfig, file: display, option: "model_config", detail: "the model configuration is not valid JSON",
                                  remedy: "save the model again with Keras")
        }
        let result = try ModelBuilder(file: display, config: config, kerasVersion: version, hdf5: hdf5, layout: layout).build()
        var model = KerasModel(path: path, windowLength: result.windowLength, featureCount: result.featureCount,
                               outputCount: result.outputCount, summary: result.summary, kerasVersion: version,
                               scaler: nil, scalerSource: nil, forecastTarget: KerasOutputTarget(), layers: result.layers)
        if let scaler {
            (model.scaler, model.forecastTarget) = try ScalerFile.parse(scaler.text, source: scaler.source)
            model.scalerSource = scaler.source
        }
        return model
    }
}
