// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Forecast
import KerasModel
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterServices
import MeterStore
import S3Client
#if canImport(Glibc)
import Glibc
#endif

extension CLEMAPEdge {
    /// `clemap-edge model`: the forecaster's model from the cloud.
    struct ModelCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model", abstract: "The forecaster's Keras model from [CLOUD] model_prefix.",
            subcommands: [ModelFetch.self])
    }
}

/// `model fetch`: what the service does every `poll_interval_sec`, now: the newest `model.tar.gz` under
/// `model_prefix`, downloaded beside the served model, checked on the database's history, installed atomically.
struct ModelFetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Fetch the newest model.tar.gz under [CLOUD] model_prefix, check it on the stored history, install it.",
        discussion: """
            The file is installed over [FORECAST] model (or cloud-model.tar.gz beside the database when that is builtin), \
            the one before kept as <file>.previous. A running service serves it after its own check, within the hour. \
            A refused model is deleted, recorded in `forecast status`, and the model in use stays.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions
    @Flag(help: "One JSON object.") var json = false

    struct Result: Encodable { var key: String?; var installed: String?; var previous: String?; var check: String?; var refused: String? }

    func run() async throws {
        let context = try CloudCommandContext.open(global, database: database)
        defer { context.store.close() }
        let configuration = context.configuration, cloud = configuration.cloud
        guard let destination = MeterApp.cloudModelPath(configuration: configuration, databasePath: context.store.path) else {
            throw CLIError(description: "\(configuration.source): model updates are off: [CLOUD] model_prefix is empty or [FORECAST] enabled "
                           + "is false. Fix: set [CLOUD] model_prefix (e.g. output/) and [FORECAST] enabled = true", exitCode: 2)
        }
        let storage: any ObjectStorage
        let newest: S3Object?
        do {
            storage = try CloudStorage.open(cloud)
            newest = try storage.list(prefix: cloud.modelPrefix).filter { $0.key.hasSuffix("model.tar.gz") }
                .max { ($0.lastModified, $0.key) < ($1.lastModified, $1.key) }
        } catch { throw CLIError(description: "\(error)") }
        guard let newest else {
            if json { print(JSONOutput.line(Result())) } else { print("no model.tar.gz under s3://\(cloud.bucket)/\(cloud.modelPrefix)") }
            return
        }
        let source = "s3://\(cloud.bucket)/\(newest.key)"
        let staged = destination + ".download"
        do { _ = try storage.download(newest.key, to: staged, maxBytes: KerasModel.Limits().fileBytes) } catch {
            throw CLIError(description: "\(error)")
        }
        let now = Int64(SystemClock().wall())
        let history = ForecastRestore.load(context.store, historyDays: configuration.forecast.historyDays, upTo: now / 60, logger: context.logger).history
        let verified: (model: any CheckedForecastModel, check: String)
        do {
            verified = try ModelUpdate.verify(staged: staged, history: history, at: history.lastMinute ?? now / 60)
        } catch {
            unlink(staged)
            let reason = "\(error)"
            try? context.store.write("cannot record the refusal") { db throws(StoreError) in
                try ForecastTables.record(.init(time: now, kind: "model_rejected", model: "keras", detail: "\(source): \(reason)"), in: db)
                try ExportTables.setState("model_seen", "\(newest.key) \(newest.etag)", in: db)
            }
            if json { print(JSONOutput.line(Result(key: newest.key, refused: reason))) }
            throw CLIError(description: "\(source) refused; the model in use stays: \(reason)")
        }
        let previous: String?
        do { previous = try ModelUpdate.install(staged: staged, destination: destination) } catch {
            unlink(staged)
            throw CLIError(description: "\(source) passed its check but was not installed: \(error)")
        }
        try? context.store.write("cannot record the model fetched") { db throws(StoreError) in
            try ExportTables.setState("model_seen", "\(newest.key) \(newest.etag)", in: db)
        }
        if json {
            print(JSONOutput.line(Result(key: newest.key, installed: destination, previous: previous, check: verified.check)))
        } else {
            print("installed \(source) at \(destination): \(verified.model.summary)")
            print("check: \(verified.check)")
            if let previous { print("the model before is kept as \(previous); copy it back to roll back") }
            print("a running service serves it after its own check, within the hour")
        }
    }
}
