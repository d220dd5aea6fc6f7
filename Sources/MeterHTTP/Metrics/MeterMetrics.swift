// SPDX-License-Identifier: Apache-2.0

import ADE9000
import MeterReadings
import MeterServices
import PowerQuality
import Prometheus
import Synchronization

/// `/metrics`: the meter in Prometheus' text format, from swift-prometheus' registry.
///
/// Every value is taken when scraped (the hub's latest reading and counters, the store's lifetime totals and its
/// power-quality events), so nothing runs between scrapes and nothing waits on sampling. The events are counted in
/// `pq_event`, not from `LiveHub.events`: a subscriber would have to run between scrapes, and would count from the
/// service's start where the table's counts, like the energy counters, carry on across restarts. The registry's own
/// API is used rather than swift-metrics' (whose `Gauge`/`Counter` it backs): only it carries the `# HELP` lines
/// `promtool` asks for.
/// Names follow the vocabulary: the quantity's column suffix (`v`, `i`, `p`, …, `wh_imp`) with its unit, and
/// the phase (`l1`…`l3`) as a label.
final class MeterMetrics: Sendable {
    struct Scrape: Sendable {
        var reading: Reading?
        /// The chip's temperature as last read.
        var temperature: Double?
        var counters: ServiceCounters.Values
        /// Lifetime energy per phase (`meter_data` energy columns' names without the phase), nil without a store.
        var lifetime: [[String: Double]]?
        var exportBacklog: ServiceHealth.ExportBacklog?
        var skills: [(model: String, horizonMinutes: Int, target: String, skill: Double)]
        /// Power-quality events stored (`pq_event`) by kind and phase (0 for all), nil without a store.
        var pqEvents: [(kind: PQEventKind, phase: Int, count: Int)]? = nil
        var now: Double
        var uptime: Double
    }

    private let registry = PrometheusCollectorRegistry()
    private let phaseGauges: [(name: String, gauges: [Gauge])]
    private let frequency: Gauge, temperature: Gauge, uptime: Gauge
    private let energy: [(name: String, counters: [Counter])]
    private let snapshots: Counter, snapshotFailures: Counter, crcErrors: Counter, reinitialisations: Counter
    private let rowsWritten: Counter, storageFaults: Counter
    private let backlogUploads: Gauge, backlogAge: Gauge
    /// `clemap_pq_events_total` by `kind.phase` label pair, for the pairs an event can have; others are made when seen.
    private let pqEvents: [String: Counter]
    /// What each counter has been given so far: counters only go up, so each scrape adds the difference.
    private let given = Mutex<[String: Double]>([:])

    static let phaseQuantities: [(column: String, metric: String, help: String)] = [
        ("v", "clemap_voltage_volts", "RMS voltage per phase (lN_v), V"),
        ("i", "clemap_current_amperes", "RMS current per phase (lN_i), A"),
        ("p", "clemap_active_power_watts", "Active power per phase (lN_p), W; negative when feeding the grid"),
        ("q", "clemap_reactive_power_vars", "Reactive power per phase (lN_q), var; positive for an inductive load"),
        ("s", "clemap_apparent_power_voltamperes", "Apparent power per phase (lN_s), VA"),
        ("pf", "clemap_power_factor", "Power factor per phase (lN_pf), -1..1 with the sign of lN_p"),
    ]
    static let energyQuantities: [(column: String, metric: String, help: String)] = [
        ("wh_imp", "clemap_energy_imported_watthours_total", "Lifetime active energy imported per phase (lN_wh_imp), Wh"),
        ("wh_exp", "clemap_energy_exported_watthours_total", "Lifetime active energy exported per phase (lN_wh_exp), Wh"),
        ("varh", "clemap_reactive_energy_varhours_total", "Lifetime reactive energy per phase (lN_varh), varh"),
        ("vah", "clemap_apparent_energy_voltamperehours_total", "Lifetime apparent energy per phase (lN_vah), VAh"),
    ]

    init(version: String) {
        let r = registry
        func phases(_ make: (String) -> Gauge) -> [Gauge] { Phase.allCases.map { make($0.line) } }
        phaseGauges = Self.phaseQuantities.map { q in
            (q.column, phases { r.makeGauge(descriptor: Self.named(q.metric, help: q.help), labels: [("phase", $0)]) })
        }
        frequency = r.makeGauge(descriptor: Self.named("clemap_frequency_hertz", help: "Line frequency (freq), Hz"))
        temperature = r.makeGauge(descriptor: Self.named("clemap_temperature_celsius", help: "The metering chip's temperature (temp_c), °C"))
        uptime = r.makeGauge(descriptor: Self.named("clemap_up_seconds", help: "Seconds since the service started"))
        energy = Self.energyQuantities.map { q in
            (q.column, Phase.allCases.map { r.makeCounter(descriptor: Self.named(q.metric, help: q.help), labels: [("phase", $0.line)]) })
        }
        snapshots = r.makeCounter(descriptor: Self.named("clemap_snapshots_total", help: "Snapshots read from the ADE9000 since start"))
        snapshotFailures = r.makeCounter(descriptor: Self.named("clemap_snapshot_failures_total", help: "Snapshots that failed since start"))
        crcErrors = r.makeCounter(descriptor: Self.named("clemap_spi_crc_errors_total", help: "SPI reads whose CRC did not match (each repeated) since start"))
        reinitialisations = r.makeCounter(descriptor: Self.named("clemap_chip_reinitialisations_total", help: "Times the ADE9000 was found reset and set up again since start"))
        rowsWritten = r.makeCounter(descriptor: Self.named("clemap_rows_written_total", help: "Minute rows committed to the database since start"))
        storageFaults = r.makeCounter(descriptor: Self.named("clemap_storage_faults_total", help: "Failed attempts to open or write the database since start"))
        backlogUploads = r.makeGauge(descriptor: Self.named("clemap_export_backlog_uploads", help: "Uploads waiting in the exporter's outbox"))
        backlogAge = r.makeGauge(descriptor: Self.named("clemap_export_backlog_oldest_seconds", help: "Age of the oldest data waiting for upload, s (0 when none)"))
        // Every pair an event can have, at 0 from the start, so that `increase()` sees the first event of each.
        var pqEvents: [String: Counter] = [:]
        for kind in PQEventKind.allCases {
            for phase in Self.pqPhases(kind) { pqEvents[Self.pqKey(kind, phase)] = Self.pqCounter(r, kind, phase) }
        }
        self.pqEvents = pqEvents
        r.makeGauge(descriptor: Self.named("clemap_build_info", help: "The firmware's version (always 1)"), labels: [("version", version)]).set(1.0)
    }

    /// The phases an event of `kind` is counted on: the sequence and the frequency concern all phases (0), the rest one.
    static func pqPhases(_ kind: PQEventKind) -> [Int] {
        switch kind {
        case .phaseSequence, .frequencyDeviation: [0]
        case .dip, .swell, .interruption, .overcurrent: [1, 2, 3]
        }
    }

    /// The `phase` label of an event's phase: `l1`…`l3` as the other families have it, `all` for 0 (as `pq events` prints it).
    static func pqPhaseLabel(_ phase: Int) -> String { (1...3).contains(phase) ? "l\(phase)" : "all" }

    static func pqKey(_ kind: PQEventKind, _ phase: Int) -> String { "\(kind.rawValue).\(pqPhaseLabel(phase))" }

    static func pqCounter(_ registry: PrometheusCollectorRegistry, _ kind: PQEventKind, _ phase: Int) -> Counter {
        registry.makeCounter(descriptor: named("clemap_pq_events_total", help: "Power-quality events stored (pq_event) by kind and phase (all: the sequence, the frequency)"),
                             labels: [("kind", kind.rawValue), ("phase", pqPhaseLabel(phase))])
    }

    /// A family's name and HELP line (`name` is whole: `clemap_voltage_volts`).
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Prometheus' text format of `scrape`.
    func render(_ scrape: Scrape) -> [UInt8] {
        if let reading = scrape.reading {
            for (column, gauges) in phaseGauges {
                for phase in Phase.allCases {
                    let values = reading[phase]
                    let value = switch column {
                    case "v": values.v
                    case "i": values.i
                    case "p": values.p
                    case "q": values.q
                    case "s": values.s
                    default: values.pf
                    }
                    gauges[phase.rawValue].set(value)
                }
            }
            frequency.set(reading.freq)
        }
        if let t = scrape.temperature { temperature.set(t) }
        uptime.set(scrape.uptime)
        let c = scrape.counters
        advance("snapshots", snapshots, Double(c.snapshots))
        advance("snapshotFailures", snapshotFailures, Double(c.snapshotFailures))
        advance("crc", crcErrors, Double(c.spiCRCErrors))
        advance("reinit", reinitialisations, Double(c.chipReinitialisations))
        advance("rows", rowsWritten, Double(c.rowsWritten))
        advance("faults", storageFaults, Double(c.storageFaults))
        if let lifetime = scrape.lifetime {
            for (column, counters) in energy {
                for phase in Phase.allCases {
                    advance("\(column).\(phase.line)", counters[phase.rawValue], lifetime[phase.rawValue][column] ?? 0)
                }
            }
        }
        for (kind, phase, count) in scrape.pqEvents ?? [] {
            let key = Self.pqKey(kind, phase)
            advance("pq.\(key)", pqEvents[key] ?? Self.pqCounter(registry, kind, phase), Double(count))
        }
        backlogUploads.set(Double(scrape.exportBacklog?.pending ?? 0))
        backlogAge.set(scrape.exportBacklog?.oldest.map { max(0, scrape.now - Double($0)) } ?? 0)
        for skill in scrape.skills where skill.skill.isFinite {
            let name = Self.named("clemap_forecast_skill_mae", help: "Forecast skill over the score window: 1 - MAE / MAE of persistence (higher is better)")
            registry.makeGauge(descriptor: name, labels: [("model", skill.model), ("horizon_min", "\(skill.horizonMinutes)"), ("target", skill.target)])
                .set(skill.skill)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8192)
        registry.emit(into: &bytes)
        return bytes
    }

    /// Brings a counter up to `total`; a total below what was given (a restarted count) adds nothing.
    private func advance(_ key: String, _ counter: Counter, _ total: Double) {
        let delta = given.withLock { given -> Double in
            let before = given[key] ?? 0
            guard total > before else { return 0 }
            given[key] = total
            return total - before
        }
        if delta > 0 { counter.increment(by: delta) }
    }
}
