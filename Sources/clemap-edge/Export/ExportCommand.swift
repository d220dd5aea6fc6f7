// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import FoundationEssentials
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import S3Client

extension CLEMAPEdge {
    /// `clemap-edge export`: the exporter's outbox, from the command line.
    struct ExportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "The exporter to S3 ([CLOUD]): its backlog, one pass, or everything pending now.",
            discussion: """
                Uploads wait in the database's export_outbox until the store has them: one CSV object per closed hour, \
                <data_prefix>minutes/device=<hw_serial>/date=YYYY-MM-DD/hour=HH.csv, and the forecaster's training-data \
                requests to training_key. These commands work beside the running service: an upload made twice \
                writes the same object twice.
                """,
            subcommands: [ExportStatus.self, ExportOnce.self, ExportFlush.self])
    }
}

/// The configuration with `[CLOUD]` enabled, logging, and the database with every feature's tables.
struct CloudCommandContext {
    let configuration: MeterConfiguration
    let logger: Logger
    let store: any ReadingStore

    static func open(_ global: GlobalOptions, database: ForecastDatabaseOptions) throws -> CloudCommandContext {
        let configuration = try global.loadConfiguration()
        guard configuration.cloud.enabled else {
            throw CLIError(description: "\(configuration.source): [CLOUD] enabled is not true, so nothing is exported. "
                           + "Fix: set [CLOUD] enabled = true and bucket = <your bucket> (see calibration/config.ini)", exitCode: 2)
        }
        global.bootstrapLogging(configuration.logLevel)
        let logger = Logger(label: "clemap-edge")
        do {
            let store = try SQLiteReadingStore(path: database.db ?? configuration.resolvedDBPath, logger: logger, features: MeterApp.featureSchemas)
            return CloudCommandContext(configuration: configuration, logger: logger, store: store)
        } catch {
            throw CLIError(description: "\(error)")
        }
    }

    func exporter() -> Exporter {
        let settings = configuration.cloud
        return Exporter(settings: settings, context: .init(retentionSeconds: Double(configuration.persistenceIntervalSeconds),
                                                           openStorage: { try CloudStorage.open(settings) }),
                        clock: SystemClock(), logger: logger)
    }
}

/// `export status`: the backlog, the last upload and error, where the credentials come from.
struct ExportStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The outbox: backlog (size, age), uploads, the last error, credentials' source.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions
    @Flag(help: "One JSON object.") var json = false

    struct Report: Encodable {
        var status: ExportTables.Status
        var now: Int64
        var oldest_pending_age_s: Int64?
        var bucket: String, endpoint: String?, data_prefix: String, device: String
        var credentials: String
        var model_seen: String?
    }

    func run() async throws {
        let context = try CloudCommandContext.open(global, database: database)
        defer { context.store.close() }
        let cloud = context.configuration.cloud
        let (status, modelSeen): (ExportTables.Status, String?)
        do {
            (status, modelSeen) = try context.store.read("cannot read the export outbox") { db throws(StoreError) in
                (try ExportTables.status(in: db), try ExportTables.state("model_seen", in: db))
            }
        } catch { throw CLIError(description: "\(error)") }
        let credentials: String
        do { credentials = try CloudStorage.credentials(cloud).source } catch { credentials = "not found: \(error)" }
        let now = Int64(SystemClock().wall())
        let report = Report(status: status, now: now, oldest_pending_age_s: status.oldestPending.map { now - $0 },
                            bucket: cloud.bucket, endpoint: cloud.endpoint, data_prefix: cloud.dataPrefix, device: cloud.device,
                            credentials: credentials, model_seen: modelSeen)
        if json { print(JSONOutput.line(report)); return }
        func time(_ t: Int64?) -> String { t.map { Date(timeIntervalSince1970: Double($0)).formatted(.iso8601) } ?? "–" }
        print("exporter: s3://\(cloud.bucket)/\(cloud.dataPrefix)minutes/device=\(cloud.device)/ at \(cloud.endpoint ?? "AWS (\(cloud.region))")")
        print("credentials: \(credentials)")
        print("backlog: \(status.pending) uploads pending" + (status.oldestPending.map { ", the oldest from \(time($0)) (\(Duration.hours(now - $0)) ago)" } ?? ""))
        if status.failing > 0 { print("failing: \(status.failing) uploads (\(status.permanent) refused: a setting needs a fix)") }
        if let error = status.lastError {
            print("last error: \(error)" + (status.pausedUntil.map { "; the service tries again from \(time($0))" } ?? ""))
        }
        print("uploaded: \(status.uploaded) objects, \(status.uploadedRows) rows, \(status.uploadedBytes) bytes; last \(time(status.lastUploaded))")
        if status.dropped > 0 { print("given up (retention deleted their rows first): \(status.dropped) hours") }
        print("model: \(modelSeen.map { "last looked at \($0)" } ?? "none fetched yet")")
    }
}

/// `export once`: queue and upload what is due, as the service does after a row.
struct ExportOnce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "once", abstract: "Queue new hours and upload what is due now (respecting the retry pauses).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions
    @Flag(help: "One JSON object.") var json = false

    func run() async throws { try await ExportPass.run(global, database, ignoringBackoff: false, json: json) }
}

/// `export flush`: upload everything pending now, ignoring the retry pauses.
struct ExportFlush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flush", abstract: "Upload everything pending now, ignoring the retry pauses; stops at the first failure.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions
    @Flag(help: "One JSON object.") var json = false

    func run() async throws { try await ExportPass.run(global, database, ignoringBackoff: true, json: json) }
}

/// One pass of the exporter from the command line, beside or without the service, and what it did.
enum ExportPass {
    struct Result: Encodable { var uploaded: Int; var rows: Int; var bytes: Int; var failed: Int; var error: String?; var seconds: Double?; var rows_per_s: Double? }

    static func run(_ global: GlobalOptions, _ database: ForecastDatabaseOptions, ignoringBackoff: Bool, json: Bool) async throws {
        let context = try CloudCommandContext.open(global, database: database)
        defer { context.store.close() }
        var exporter = context.exporter()
        let started = ContinuousClock.now
        let outcome = await exporter.pass(store: context.store, ignoringBackoff: ignoringBackoff, pollModel: false)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(outcome.rows) / seconds : nil
        if json {
            print(JSONOutput.line(Result(uploaded: outcome.uploaded, rows: outcome.rows, bytes: outcome.bytes, failed: outcome.failed,
                                         error: outcome.error, seconds: JSONOutput.rounded(seconds, 3), rows_per_s: rate.flatMap { JSONOutput.rounded($0, 1) })))
        } else {
            print("uploaded \(outcome.uploaded) objects, \(outcome.rows) rows, \(outcome.bytes) bytes in \(DecimalText.fixed(seconds, 2)) s"
                  + (rate.map { " (\(DecimalText.fixed($0, 0)) rows/s)" } ?? ""))
        }
        if let error = outcome.error { throw CLIError(description: "upload failed; the outbox keeps it: \(error)") }
    }
}

extension Duration {
    /// `3 h 20 min`, `12 min`.
    static func hours(_ seconds: Int64) -> String {
        seconds >= 3600 ? "\(seconds / 3600) h \(seconds % 3600 / 60) min" : "\(seconds / 60) min"
    }
}
