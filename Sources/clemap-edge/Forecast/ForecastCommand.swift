// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Forecast
import FoundationEssentials
import Logging
import MeterApp
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore

extension CLEMAPEdge {
    /// `clemap-edge forecast`: the on-device forecaster.
    struct ForecastCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Forecasts of the three-phase total power: predict, train, status, backtest.",
            discussion: """
                Targets: the value 1, 15 and 60 minutes ahead and the mean of the next 15 and 60 minutes, in W. \
                Models: persistence, seasonal_naive_day, builtin (trained on the device), keras ([FORECAST] model or --model).
                """,
            subcommands: [ForecastPredict.self, ForecastTrain.self, ForecastStatus.self, ForecastBacktest.self])
    }
}

/// The database the forecast commands read: `--db`, else the config's `db_path`.
struct ForecastDatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Database file (default: [DATA_GATHERING_MODULE] db_path, relative to the config file).", valueName: "file"))
    var db: String?

    /// Loads the configuration, sets up logging, and opens the database with the forecaster's tables.
    func open(_ global: GlobalOptions) throws -> (configuration: MeterConfiguration, logger: Logger, store: any ReadingStore) {
        let configuration = try global.loadConfiguration()
        global.bootstrapLogging(configuration.logLevel)
        let logger = Logger(label: "clemap-edge")
        let path = db ?? configuration.resolvedDBPath
        do { return (configuration, logger, try SQLiteReadingStore(path: path, logger: logger, features: MeterApp.featureSchemas)) } catch {
            throw CLIError(description: "\(error)")
        }
    }
}

/// `forecast predict`: a Keras file on a given window, or the current forecasts from the device's history.
struct ForecastPredict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a Keras model on a given window, or print the current forecasts from the database.",
        discussion: """
            With --model and --window: the values (one per time step, one feature) go to the model as given, through \
            the model's stored scaler if it has one. Without them: every model's forecasts from the last minutes \
            stored in the database.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions

    @Option(help: ArgumentHelp("A Keras model: .h5, .keras, or a .tar.gz/.tar holding one.", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("The input window, comma-separated, oldest first.", valueName: "v1,v2,…"))
    var window: String?

    @Option(help: ArgumentHelp("Predict N times on the same window and report the load time and the time per prediction (benchmark).", valueName: "N"))
    var `repeat`: Int?

    @Flag(help: "One JSON object.")
    var json = false

    func validate() throws {
        if (model == nil) != (window == nil) { throw ValidationError("--model and --window go together") }
        if let `repeat`, `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
        if `repeat` != nil, model == nil { throw ValidationError("--repeat needs --model") }
    }

    func run() async throws {
        if let model, let window {
            var values: [Double] = []
            for (index, text) in window.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                guard let value = Double(text.filter { $0 != " " }), value.isFinite else {
                    throw CLIError(description: "--window value \(index + 1) '\(text)' is not a finite number; write numbers separated by commas, e.g. --window 812.5,790,805", exitCode: 2)
                }
                values.append(value)
            }
            print(try predictWithModel(path: model, window: values, repeatCount: `repeat`, json: json))
            return
        }
        let (configuration, logger, store) = try database.open(global)
        defer { store.close() }
        let latest = try store.latest(limit: 1).first
        guard let latest else { throw CLIError(description: "\(store.path): no rows yet: the forecaster needs the meter's minutes (run the service)") }
        let minute = latest.time / 60
        let restored = ForecastRestore.load(store, historyDays: configuration.forecast.historyDays, upTo: minute + 1, logger: logger)
        var engine = ForecastEngine(history: restored.history)
        if let builtin = restored.builtin { engine.models.append(BuiltinServedModel(model: builtin)) }
        if let path = configuration.forecast.modelPath {
            do { engine.models.insert(try KerasServedModel.load(path), at: 0) } catch {
                logger.warning("the [FORECAST] model file is not used", metadata: ["error": "\(error)"])
            }
        }
        let forecasts = engine.forecastsNow()
        if json {
            print(JSONOutput.line(ForecastNow(issued: (minute + 1) * 60, forecasts: forecasts)))
        } else {
            if restored.builtin == nil { printError("no built-in model yet (it trains after [FORECAST] min_training_days of history; `clemap-edge forecast train` trains now)") }
            print("forecasts issued at \(Date(timeIntervalSince1970: Double((minute + 1) * 60)).formatted(.iso8601)) from the minutes up to then, W:")
            for row in forecasts {
                let target = row.kind == "value" ? "value in \(row.horizonMinutes) min" : "mean of next \(row.horizonMinutes) min"
                print("  \(target.padded(24)) \(row.model.padded(20)) \(DecimalText.fixed(row.value, 1).padded(10, left: true))")
            }
            if forecasts.isEmpty { print("  none: the newest minute is missing (a gap or an unsynchronised clock)") }
        }
    }

    struct ForecastNow: Encodable {
        var issued: Int64
        var forecasts: [ForecastTables.Row]
    }
}

/// `forecast train`: trains the built-in model now from the database's history and stores it; a running
/// service takes it within the hour.
struct ForecastTrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the built-in model now from the database's history and store it (the running service takes it within the hour).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions

    @Flag(help: "One JSON object.")
    var json = false

    func run() async throws {
        let (configuration, logger, store) = try database.open(global)
        defer { store.close() }
        guard let latest = try store.latest(limit: 1).first else {
            throw CLIError(description: "\(store.path): no rows yet: nothing to train on (run the service)")
        }
        let minute = latest.time / 60
        let history = ForecastRestore.load(store, historyDays: configuration.forecast.historyDays, upTo: minute + 1, logger: logger).history
        let held = history.firstMinute.map { minute - $0 + 1 } ?? 0
        guard held >= 2 * 1440 else {
            throw CLIError(description: "\(store.path): \(held) minutes of history; training needs at least 2 days (and the model serves persistence until it has 21)")
        }
        let started = Date()
        let model = BuiltinForecaster.train(history: history, endingAt: minute, calendar: ForecastCalendar(zoneIdentifier: configuration.timezone ?? "UTC"))
        let seconds = Date().timeIntervalSince(started)
        let summary = model.validationSummary
        do { try ForecastRestore.saveBuiltin(model, store, detail: "on demand in \(DecimalText.fixed(seconds, 2)) s; \(summary.joined(separator: "; "))") } catch {
            throw CLIError(description: "\(error)")
        }
        if json {
            struct Trained: Encodable { var trained_at: Int64; var seconds: Double; var minutes_of_history: Int64 }
            print(JSONOutput.line(Trained(trained_at: (model.trainedAt + 1) * 60, seconds: seconds, minutes_of_history: held)))
        } else {
            print("built-in model trained in \(DecimalText.fixed(seconds, 2)) s on \(held) minutes of history and stored in \(store.path)")
            for line in summary { print("  \(line)") }
        }
    }
}

/// `forecast status`: models (the Keras model in use, the last refused), validation, rolling scores, history, events.
struct ForecastStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The forecaster's models (the Keras model in use, the last refused), rolling scores per model and target, history and events.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions

    @Flag(help: "One JSON object.")
    var json = false

    func run() async throws {
        let (configuration, logger, store) = try database.open(global)
        defer { store.close() }
        // A model fetched from [CLOUD] is served from its own file when [FORECAST] model is builtin: as the service does.
        var settings = configuration.forecast
        settings.modelPath = MeterApp.cloudModelPath(configuration: configuration, databasePath: store.path) ?? settings.modelPath
        let report: ForecastReport
        do { report = try ForecastReport.read(store, settings: settings, logger: logger) } catch {
            throw CLIError(description: "\(error)")
        }
        if json { print(JSONOutput.line(report)); return }
        func time(_ t: Int64?) -> String { t.map { Date(timeIntervalSince1970: Double($0)).formatted(.iso8601) } ?? "–" }
        print("forecaster: \(report.enabled ? "on" : "off"); model file: \(report.model_file ?? "none (builtin)")")
        if report.model_file != nil {
            if let model = report.model_in_use {
                print("keras model in use: \(model.detail) (loaded \(time(model.loaded_at)) from \(model.source))")
            } else {
                print("keras model in use: none yet (the file is served once it passes its check on recent history)")
            }
        }
        if let refusal = report.last_refusal {
            print("last model refused: \(time(refusal.time)) from \(refusal.source): \(refusal.reason)")
        }
        print("history: \(time(report.history_from)) … \(time(report.history_to)), \(report.history_minutes_present) minutes present")
        if let trained = report.builtin_trained_at {
            print("built-in model: trained \(time(trained)); validation (MAE skill against persistence):")
            for v in report.validation {
                print("  \(v.target) \(v.horizon_min) min: \(DecimalText.signed(v.skill_mae * 100, 1)) %, serves \(v.serves)")
            }
        } else {
            print("built-in model: not trained yet")
        }
        print("rolling scores over \(report.score_window_hours) h to \(time(report.now)) (W):")
        print("  target          model                  count       MAE      RMSE    WAPE   skill")
        for s in report.scores {
            func f(_ x: Double?, _ digits: Int, _ width: Int, signed: Bool = false, suffix: String = "") -> String {
                (x.map { (signed ? DecimalText.signed($0, digits) : DecimalText.fixed($0, digits)) + suffix } ?? "–").padded(width, left: true)
            }
            print("  \("\(s.target) \(s.horizon_min) min".padded(15)) \(s.model.padded(20)) \("\(s.count)".padded(7, left: true)) \(f(s.mae, 1, 9)) \(f(s.rmse, 1, 9)) \(f(s.wape.map { $0 * 100 }, 1, 7, suffix: "%")) \(f(s.skill_mae.map { $0 * 100 }, 1, 7, signed: true, suffix: "%"))")
        }
        if report.scores.isEmpty { print("  none yet") }
        print("export requests pending: \(report.export_requests_pending)")
        print("events (newest first):")
        for e in report.events { print("  \(time(e.time)) \(e.kind) \(e.model ?? ""): \(e.detail)") }
        if report.events.isEmpty { print("  none") }
    }
}

extension String {
    /// Padded with spaces to `width` characters (on the left for numbers).
    func padded(_ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - count))
        return left ? fill + self : self + fill
    }
}
