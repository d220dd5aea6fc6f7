// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import CZlib
import Forecast
import KerasModel
import MeterServices
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

extension CLEMAPEdge.ForecastCommand {
    /// `clemap-edge forecast backtest`: replays a CSV of power minute by minute as the device would live it and
    /// scores every model against persistence.
    struct ForecastBacktest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backtest",
            abstract: "Replay a CSV of power minute by minute and score the forecasts against persistence.",
            discussion: """
                Each forecast sees only the past; the built-in model is retrained on the service's schedule from the \
                history the service would hold (400 days). Times without a zone are taken as UTC, and local time \
                is then the file's wall clock. Runs of two or more minutes identical in every column to the same \
                minutes a day before (filled gaps) are treated as missing. Power is reported in watts: pass \
                --scale 1000 for a kW column. Example (UCI household data): --csv data.csv.gz \
                --time-column date_time --power-column Global_active_power --scale 1000 --score-from 2008-06-01
                """)

        @Option(help: ArgumentHelp("CSV file, plain or gzip-compressed (.gz).", valueName: "file"))
        var csv: String

        @Option(help: ArgumentHelp("Header name of the time column.", valueName: "name"))
        var timeColumn = "time"

        @Option(help: ArgumentHelp("Header name of the power column; several joined by '+' are summed (l1_p+l2_p+l3_p).",
                                   valueName: "name"))
        var powerColumn = "l1_p+l2_p+l3_p"

        @Option(help: ArgumentHelp("Multiplies the power to get watts (1000 for kW).", valueName: "k"))
        var scale = 1.0

        @Option(help: ArgumentHelp("Score forecasts issued from this date (YYYY-MM-DD[ HH:MM], UTC like the file's times).",
                                   valueName: "date"))
        var scoreFrom: String?

        @Option(help: ArgumentHelp("Retrain the built-in model every N minutes (at multiples of N since 1970).", valueName: "n"))
        var trainEveryMinutes = 1440

        @Flag(help: "Keep filled minutes (runs identical to a day before) instead of treating them as missing.")
        var keepFills = false

        @Flag(help: "Print one JSON object: rows_scored and per horizon, target and model MAE, RMSE, WAPE, skill_mae.")
        var json = false

        func validate() throws {
            guard trainEveryMinutes >= 1 else { throw ValidationError("--train-every-minutes must be at least 1") }
            guard scale.isFinite, scale != 0 else { throw ValidationError("--scale must be a finite number other than 0") }
            if let scoreFrom, Self.minute(of: scoreFrom) == nil {
                throw ValidationError("--score-from '\(scoreFrom)' is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM")
            }
        }

        static func minute(of date: String) -> Int64? {
            var text = Array(date.utf8)
            return text.withUnsafeMutableBufferPointer { MinuteCSVReader.unixSeconds(of: UnsafeBufferPointer($0)) }
                .map { $0 >= 0 ? $0 / 60 : ($0 - 59) / 60 }
        }

        @Option(help: ArgumentHelp("A Keras model (.h5, .keras, .tar.gz) replayed beside the others as 'keras', on its target.", valueName: "file"))
        var model: String?

        /// Models beyond the built-in ones (the Keras model of --model), replayed beside them.
        func extraModels() throws -> [Backtest.Model] {
            guard let model else { return [] }
            let served: KerasServedModel
            do { served = try KerasServedModel.load(model) } catch { throw CLIError(description: "\(error)") }
            let runner = served.model.makeRunner()
            return [Backtest.Model(name: "keras") { history, minute in served.forecast(history: history, at: minute, runner: runner) }]
        }

        func run() async throws {
            let data = try Self.read(csv: csv, timeColumn: timeColumn, powerColumn: powerColumn, scale: scale)
            var backtest = Backtest(series: data.series)
            if !keepFills { backtest.masked = data.fills }
            backtest.trainEveryMinutes = trainEveryMinutes
            backtest.scoreFrom = scoreFrom.flatMap(Self.minute(of:))
            backtest.extraModels = try extraModels()
            let bar = ProgressBar(enabled: isatty(2) != 0, label: "backtest")
            let result = backtest.run { bar.update($0) }
            bar.finish()
            if json {
                print(JSONOutput.line(Output(result)))
            } else {
                let filled = data.fills.reduce(0) { $0 + $1.count }
                print("\(csv): \(data.rows) rows, \(data.series.capacityMinutes) minutes, \(filled) filled minutes "
                      + (keepFills ? "kept" : "masked") + "; \(result.rowsScored) issue minutes scored; "
                      + "\(result.trainings) trainings")
                print(Self.table(result))
            }
        }

        /// Reads a plain or gzip CSV through zlib (`gzopen` reads both) into minutes.
        static func read(csv: String, timeColumn: String, powerColumn: String, scale: Double) throws -> MinuteCSV {
            guard let file = gzopen(csv, "rb") else {
                throw CLIError(description: "\(csv): cannot open (\(String(cString: strerror(errno)))). Fix: check the path")
            }
            defer { gzclose(file) }
            _ = gzbuffer(file, 1 << 20)
            var reader = MinuteCSVReader(file: csv, timeColumn: timeColumn, powerColumn: powerColumn, scale: scale)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var pending: [UInt8] = []
            do {
                while true {
                    let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
                    if n < 0 {
                        var code: Int32 = 0
                        let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                        throw CLIError(description: "\(csv): \(message) (after line \(reader.lineCount)). "
                                       + "Fix: check that the file is a complete CSV or .gz")
                    }
                    if n == 0 { break }
                    try chunk.withUnsafeBufferPointer { buffer throws(MinuteCSVError) in
                        var start = 0
                        for i in 0..<Int(n) where buffer[i] == 10 {
                            if pending.isEmpty {
                                try reader.consume(line: UnsafeBufferPointer(rebasing: buffer[start..<i]))
                            } else {
                                pending.append(contentsOf: buffer[start..<i])
                                try pending.withUnsafeBufferPointer { line throws(MinuteCSVError) in try reader.consume(line: line) }
                                pending.removeAll(keepingCapacity: true)
                            }
                            start = i + 1
                        }
                        pending.append(contentsOf: buffer[start..<Int(n)])
                    }
                }
                if !pending.isEmpty {
                    try pending.withUnsafeBufferPointer { line throws(MinuteCSVError) in try reader.consume(line: line) }
                }
                return try reader.finish()
            } catch let error as MinuteCSVError {
                throw CLIError(description: error.description)
            }
        }

        static func table(_ result: Backtest.Result) -> String {
            var lines = ["horizon  target  model                 MAE W    RMSE W   WAPE %   skill %        n"]
            var previous: ForecastTarget?
            for e in result.results {
                if previous != nil, previous != e.target { lines.append("") }
                previous = e.target
                let a = e.accuracy
                lines.append("\(fixed(Double(e.target.horizonMinutes), 0, 4)) min  \(left(e.target.kind.rawValue, 6))  "
                             + "\(left(e.model, 18))\(fixed(a.mae, 1, 9)) \(fixed(a.rmse, 1, 9)) \(fixed(a.wape * 100, 1, 8)) "
                             + "\(fixed(a.skill * 100, 1, 9)) \(fixed(Double(a.count), 0, 9))")
            }
            return lines.joined(separator: "\n")
        }

        struct Output: Encodable {
            struct Row: Encodable {
                let horizon_min: Int
                let target: String
                let model: String
                let mae, rmse, wape, skill_mae: Double?

                enum CodingKeys: String, CodingKey { case horizon_min, target, model, mae, rmse, wape, skill_mae }

                /// Every key always present: a metric without forecasts is `null`, not left out.
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(horizon_min, forKey: .horizon_min)
                    try c.encode(target, forKey: .target)
                    try c.encode(model, forKey: .model)
                    for (key, value) in [(CodingKeys.mae, mae), (.rmse, rmse), (.wape, wape), (.skill_mae, skill_mae)] {
                        if let value { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
                    }
                }
            }
            let rows_scored: Int
            let results: [Row]
            init(_ r: Backtest.Result) {
                rows_scored = r.rowsScored
                results = r.results.map {
                    Row(horizon_min: $0.target.horizonMinutes, target: $0.target.kind.rawValue, model: $0.model,
                        mae: JSONOutput.rounded($0.accuracy.mae, 3), rmse: JSONOutput.rounded($0.accuracy.rmse, 3),
                        wape: JSONOutput.rounded($0.accuracy.wape, 5), skill_mae: JSONOutput.rounded($0.accuracy.skill, 5))
                }
            }
        }
    }
}

/// `v` with `decimals` digits after the point, right-aligned in `width`; `-` when not finite.
private func fixed(_ v: Double, _ decimals: Int, _ width: Int) -> String {
    var text = "-"
    if v.isFinite {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let n = Int64((abs(v) * scale).rounded())
        let whole = n / Int64(scale), fraction = n % Int64(scale)
        var digits = String(fraction)
        while digits.count < decimals { digits = "0" + digits }
        text = (v < 0 && n != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + digits : "")
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

/// `text` padded with spaces to `width` on the right.
private func left(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
