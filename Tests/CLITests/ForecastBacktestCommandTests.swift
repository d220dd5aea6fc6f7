// SPDX-License-Identifier: Apache-2.0
//
// `clemap-edge forecast backtest`: a small CSV (plain and gzip) end to end; errors name the file, line and column.

import Foundation
import Testing

@Suite("clemap-edge forecast backtest")
struct ForecastBacktestCommandTests {
    /// Three days of a square wave (1 kW in the first half of each UTC day), in kW.
    static func csv() -> String {
        var lines = ["date_time,Global_active_power"]
        for m in 0..<(3 * 1440) {
            let day = 1 + m / 1440, minute = m % 1440
            let time = String(format: "2008-01-%02d %02d:%02d:00", day, minute / 60, minute % 60)
            lines.append("\(time),\(minute < 720 ? "1.000" : "0.000")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("JSON: one object, rows_scored and 15 results in watts; a .gz reads the same")
    // --keep-fills: every day of the wave repeats the day before in every column, which is what a fill looks like.
    func json() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let plain = try dir.write("wave.csv", Self.csv())
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(plain)' > '\(plain).gz'"]
        try gzip.run()
        gzip.waitUntilExit()
        var outputs: [String] = []
        for file in [plain, plain + ".gz"] {
            let result = try await runCLI(["forecast", "backtest", "--csv", file, "--time-column", "date_time",
                                           "--power-column", "Global_active_power", "--scale", "1000",
                                           "--score-from", "2008-01-02", "--keep-fills", "--json"])
            expectExit(result, 0)
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(result)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            #expect(object["rows_scored"] as? Int == 2 * 1440)
            let results = object["results"] as! [[String: Any]]
            #expect(results.count == 15)
            let first = results[0]
            #expect(Set(first.keys) == ["horizon_min", "target", "model", "mae", "rmse", "wape", "skill_mae"])
            #expect(first["horizon_min"] as? Int == 1 && first["target"] as? String == "value" && first["model"] as? String == "persistence")
            // Persistence misses 1000 W at 3 of the 2 × 1440 − 1 one-minute forecasts (two switches a day, the last has no truth).
            #expect(abs((first["mae"] as! Double) - 3000.0 / Double(2 * 1440 - 1)) < 1e-3)
            outputs.append(result.stdout)
        }
        #expect(outputs[0] == outputs[1])

        // Without --keep-fills the repeated days are masked, and nothing is left to score: metrics are null.
        let masked = try await runCLI(["forecast", "backtest", "--csv", plain, "--time-column", "date_time",
                                       "--power-column", "Global_active_power", "--score-from", "2008-01-02", "--json"])
        expectExit(masked, 0)
        #expect(masked.stdout.contains("\"rows_scored\":0") && masked.stdout.contains("\"mae\":null"), "\(masked)")
    }

    @Test("a bad value → exit 1 naming file:line column and the fix")
    func badValue() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let file = try dir.write("bad.csv", "date_time,Global_active_power\n2008-01-01 00:00:00,1.0\n2008-01-01 00:01:00,x1\n")
        let result = try await runCLI(["forecast", "backtest", "--csv", file, "--time-column", "date_time",
                                       "--power-column", "Global_active_power"])
        expectExit(result, 1)
        #expect(result.stderr.contains("\(file):3 column 2 (Global_active_power): 'x1' is not a number. Fix: "), "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a missing file → exit 1 naming it")
    func missingFile() async throws {
        let result = try await runCLI(["forecast", "backtest", "--csv", "/nonexistent/x.csv"])
        expectExit(result, 1)
        #expect(result.stderr.contains("/nonexistent/x.csv: cannot open"), "\(result)")
    }
}
