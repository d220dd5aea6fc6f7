// SPDX-License-Identifier: Apache-2.0
//
// `clemap-edge pq events` and `pq report` end to end: minutes stored by a simulated run, events written into the
// same SQLite file with the sqlite3 shell, both commands as text and JSON, and their errors.

import Foundation
import MeterTesting
import Testing

@Suite("clemap-edge pq events, report")
struct PQCommandTests {
    /// Runs SQL on `db` with the sqlite3 shell (Debian's sqlite3, installed by `make deps`).
    func sqlite(_ db: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 \(sql)")
    }

    @Test("a simulated hour and five events: the events oldest first, the report's voltage, frequency and event tables")
    func eventsAndReport() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (db, config) = try await simulatedHour(in: dir)
        // The run's minutes: their first and last time, and the events inside them.
        let out = Process()
        out.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        out.arguments = [db, "SELECT min(time), max(time), count(*) FROM meter_data"]
        let pipe = Pipe()
        out.standardOutput = pipe
        try out.run()
        out.waitUntilExit()
        let numbers = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap { Int64($0) }
        let (start, last, rows) = (numbers[0], numbers[1], numbers[2])
        #expect(rows >= 59)
        let t = (start + 600) * 1000
        // A 150 ms dip to 161 V (70 %) on L2, a 2 s swell to 280 V (121.7 %) on L1, a 4 min interruption of L3,
        // a swapped sequence, and a dip before the period asked.
        try sqlite(db, """
            INSERT INTO pq_event (start_ms, end_ms, phase, kind, extreme) VALUES
              (\(t), \(t + 150), 2, 'dip', 161.0),
              (\(t + 60_000), \(t + 62_000), 1, 'swell', 280.0),
              (\(t + 120_000), \(t + 360_000), 3, 'interruption', 0.4),
              (\(t + 400_000), \(t + 400_000), 0, 'phase-sequence', NULL),
              (\((start - 86_400) * 1000), \((start - 86_400) * 1000 + 40), 1, 'dip', 200.0);
            """)

        let events = try await runCLI(["pq", "events", "--config", config, "--db", db, "--since", "\(start)", "--json"])
        expectExit(events, 0)
        let object = try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as! [String: Any]
        let list = object["events"] as! [[String: Any]]
        #expect(list.map { $0["kind"] as! String } == ["dip", "swell", "interruption", "phase-sequence"], "\(events)")
        #expect(list[0]["duration_ms"] as? Int == 150 && list[0]["phase"] as? Int == 2 && list[0]["extreme"] as? Double == 161)
        #expect(list[3]["extreme"] is NSNull)
        let text = try await runCLI(["pq", "events", "--config", config, "--db", db, "--since", "\(start)"])
        expectExit(text, 0)
        #expect(text.stdout.contains("events since") && text.stdout.contains("L2  dip  150 ms  161.0 V")
                && text.stdout.contains("L3  interruption  240000 ms  0.4 V") && text.stdout.contains("all  phase-sequence  0 ms  –"), "\(text)")

        let report = try await runCLI(["pq", "report", "--config", config, "--db", db, "--from", "\(start)", "--to", "\(last + 60)", "--json"])
        expectExit(report, 0)
        let r = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as! [String: Any]
        #expect(r["minutes"] as? Int64 == rows)
        // home-day's voltages (231, 229.5, 232 V) are within ±10 % of 230 V; the UTC 10-minute intervals from the dip
        // (start + 600 s) to the interruption's end (start + 960 s) are flagged on every phase.
        let flagged = (start + 960) / 600 - (start + 600) / 600 + 1
        for v in r["voltage"] as! [[String: Any]] {
            #expect(v["within_10pct"] as? Double == 1 && v["compliant"] as? Bool == true && v["flagged"] as? Int64 == flagged, "\(v)")
        }
        // home-day has no harmonics: THD-V stored each minute, near 0 %.
        for t in r["thd_v"] as! [[String: Any]] {
            #expect((t["p95"] as? Double).map { $0 < 0.5 } == true && t["compliant"] as? Bool == true, "\(t)")
        }
        let frequency = r["frequency"] as! [String: Any]
        #expect(frequency["within_1pct"] as? Double == 1 && frequency["minutes"] as? Int64 == rows)
        let dips = r["dips"] as! [String: Any], swells = r["swells"] as! [String: Any]
        #expect((dips["counts"] as! [[Int]])[1] == [1, 0, 0, 0, 0, 0], "70 %, 150 ms: the second row, first column")
        #expect((swells["counts"] as! [[Int]])[0] == [0, 1, 0, 0], "121.7 %, 2 s")
        #expect((r["interruptions"] as! [String: Int]) == ["short": 0, "long": 1] && r["phase_sequence"] as? Int == 1)
        let reportText = try await runCLI(["pq", "report", "--config", config, "--db", db, "--from", "\(start)", "--to", "\(last + 60)"])
        expectExit(reportText, 0)
        #expect(reportText.stdout.contains("EN 50160 report") && reportText.stdout.contains("L1: 100.0 % of")
                && reportText.stdout.contains("% over") && reportText.stdout.contains("interruptions: 0 short (up to 3 min), 1 long"),
                "\(reportText)")
    }

    @Test("a time that is not one, or a period that ends before it starts: exit 2 naming the option")
    func badTimes() async throws {
        let notATime = try await runCLI(["pq", "events", "--since", "last tuesday"])
        expectExit(notATime, 2)
        #expect(notATime.stderr.contains("--since 'last tuesday' is not a time") && notATime.stderr.contains("RFC 3339"), "\(notATime)")
        let backwards = try await runCLI(["pq", "report", "--from", "2026-12-06T00:00:00Z", "--to", "2026-12-05T00:00:00Z"])
        expectExit(backwards, 2)
        #expect(backwards.stderr.contains("--from (2026-12-06T00:00:00Z) must be before --to (2026-12-05T00:00:00Z)"), "\(backwards)")
    }
}
