// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import FoundationEssentials
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import PowerQuality

extension CLEMAPEdge {
    /// `clemap-edge pq`: power quality from the stored events and minutes.
    struct PQCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pq",
            abstract: "Power quality: the events stored (dips, swells, interruptions, …) and an EN 50160-style report.",
            subcommands: [PQEvents.self, PQReport.self])
    }
}

/// A `--since`, `--from` or `--to` value: Unix seconds or an RFC 3339 date-time; a ValidationError naming the option.
private func time(_ text: String?, option: String, default fallback: Int64) throws -> Int64 {
    guard let text else { return fallback }
    guard let value = TimeParameter.parse(text) else { throw ValidationError("\(option) '\(text)' is not a time: \(TimeParameter.help)") }
    return value
}

private func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

private func utc(_ seconds: Int64) -> String { Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601) }

/// `pq events`: the stored events since a time, oldest first.
struct PQEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "The power-quality events stored (pq_event), oldest first.",
        discussion: """
            Kinds: dip, swell, interruption, overcurrent, phase-sequence, frequency-deviation. Phase 0 is all phases. \
            The extreme is the lowest voltage of a dip or interruption, the highest of a swell (V), the highest current \
            (A), the frequency furthest from nominal (Hz).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions

    @Option(help: ArgumentHelp("From this time: Unix seconds or RFC 3339 (default: 7 days ago).", valueName: "time"))
    var since: String?

    @Flag(help: "One JSON object: {\"since\", \"events\": [{start_ms, end_ms, duration_ms, phase, kind, extreme}]}.")
    var json = false

    struct Output: Encodable {
        var since: Int64
        var events: [PQEvent]
    }

    func run() async throws {
        let from = try time(since, option: "--since", default: now() - 7 * 86_400)
        let (_, _, store) = try database.open(global)
        defer { store.close() }
        let events: [PQEvent]
        do {
            events = try store.read("cannot read the power-quality events") { db throws(StoreError) in
                try PQTables.events(fromMs: from * 1000, toMs: Int64.max, in: db)
            }
        } catch { throw CLIError(description: "\(error)") }
        if json { print(JSONOutput.line(Output(since: from, events: events))); return }
        print("power-quality events since \(utc(from)): \(events.count)")
        for e in events {
            let ms = String(e.startMs % 1000)
            let start = String(utc(e.startMs / 1000).dropLast()) + "." + String(repeating: "0", count: 3 - ms.count) + ms + "Z"
            let extreme = e.extreme.map { "\(DecimalText.fixed($0, 1)) \(unit(e.kind))" } ?? "–"
            print("  \(start)  \(e.phase == 0 ? "all" : "L\(e.phase)")  \(e.kind.rawValue)  \(e.durationMs) ms  \(extreme)")
        }
    }

    private func unit(_ kind: PQEventKind) -> String {
        switch kind {
        case .overcurrent: "A"
        case .frequencyDeviation: "Hz"
        default: "V"
        }
    }
}

/// `pq report`: EN 50160's weekly view of a period.
struct PQReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "An EN 50160-style summary of a period (a week by default) from the stored minutes and events.",
        discussion: """
            Supply voltage: the share of 10-minute means within ±10 % of [POWER_QUALITY] nominal_voltage (95 % asked), \
            intervals with a dip, swell or interruption flagged and left out (IEC 61000-4-30). THD-V: the 95th \
            percentile of the 10-minute means against thd_limit_pct (8 %). Frequency: the share of minutes within ±1 % \
            (99.5 %) and +4/−6 % (all). Dips and swells counted by EN 50160's depth and duration classes; \
            interruptions short (up to 3 min) and long.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ForecastDatabaseOptions

    @Option(help: ArgumentHelp("Start: Unix seconds or RFC 3339 (default: 7 days before --to).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("End, excluded: Unix seconds or RFC 3339 (default: now).", valueName: "time"))
    var to: String?

    @Flag(help: "One JSON object.")
    var json = false

    func run() async throws {
        let end = try time(to, option: "--to", default: now())
        let start = try time(from, option: "--from", default: end - 7 * 86_400)
        guard start < end else { throw ValidationError("--from (\(utc(start))) must be before --to (\(utc(end)))") }
        let (configuration, _, store) = try database.open(global)
        defer { store.close() }
        let settings = configuration.powerQuality
        let report: EN50160Report
        do {
            report = try store.read("cannot read the minutes and events") { db throws(StoreError) in
                EN50160Report.compute(minutes: try PQTables.minutes(from: start, to: end, in: db),
                                      events: try PQTables.events(fromMs: start * 1000, toMs: end * 1000, in: db),
                                      from: start, to: end, nominalVoltage: settings.nominalVoltage,
                                      nominalFrequency: Double(configuration.lineFrequencyHz), thdLimit: settings.thdLimitPercent)
            }
        } catch { throw CLIError(description: "\(error)") }
        if json { print(JSONOutput.line(report)); return }
        print(Self.text(report))
    }

    static func text(_ r: EN50160Report) -> String {
        func pct(_ x: Double?) -> String { x.map { DecimalText.fixed($0 * 100, 1) + " %" } ?? "n/a" }
        func fixed(_ x: Double) -> String { DecimalText.fixed(x, 1) }
        func verdict(_ ok: Bool?) -> String { ok.map { $0 ? "ok" : "NOT MET" } ?? "no data" }
        var lines = ["EN 50160 report \(utc(r.from)) … \(utc(r.to)): nominal \(Int(r.nominal_voltage)) V, \(Int(r.nominal_frequency)) Hz; "
                     + "\(r.minutes) minutes stored"]
        lines.append("supply voltage, 10-minute means within ±10 % (95 % asked):")
        for v in r.voltage {
            let range = v.lowest.flatMap { lo in v.highest.map { ", \(fixed(lo)) … \(fixed($0)) V" } } ?? ""
            lines.append("  L\(v.phase): \(pct(v.within_10pct)) of \(v.intervals - v.flagged) intervals (\(v.flagged) flagged)\(range): \(verdict(v.compliant))")
        }
        lines.append("THD-V, 95th percentile of the 10-minute means (at most \(r.thd_v.first.map { fixed($0.limit) } ?? "8") % asked):")
        for t in r.thd_v {
            lines.append("  L\(t.phase): " + (t.p95.map { "\(DecimalText.fixed($0, 2)) % over \(t.intervals) intervals" } ?? "n/a (no THD stored)")
                         + ": \(verdict(t.compliant))")
        }
        lines.append("frequency: \(pct(r.frequency.within_1pct)) of \(r.frequency.minutes) minutes within ±1 % (99.5 % asked), "
                     + "\(pct(r.frequency.within_plus4_minus6pct)) within +4/−6 % (all asked): \(verdict(r.frequency.compliant))")
        for (name, table) in [("dips (residual voltage, % of nominal × duration)", r.dips), ("swells (highest voltage × duration)", r.swells)] {
            lines.append("\(name): \(table.total)")
            guard table.total > 0 else { continue }
            func cell(_ text: String) -> String { text + String(repeating: " ", count: max(1, 10 - text.count)) }
            lines.append("  " + cell("") + table.columns.map(cell).joined())
            for (row, counts) in zip(table.rows, table.counts) {
                lines.append("  " + cell(row) + counts.map { cell(String($0)) }.joined())
            }
        }
        lines.append("interruptions: \(r.interruptions.short) short (up to 3 min), \(r.interruptions.long) long; overcurrent: \(r.overcurrents); "
                     + "phase sequence: \(r.phase_sequence); frequency deviations: \(r.frequency_deviations)")
        return lines.joined(separator: "\n")
    }
}
