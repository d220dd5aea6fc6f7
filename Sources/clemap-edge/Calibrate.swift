// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import ArgumentParser
import Logging
import MeterCalibration
import MeterReadings
import MeterConfig
import MeterClock
#if canImport(Glibc)
import Glibc
#endif

extension CLEMAPEdge {
    /// `clemap-edge calibrate <step>`: guided, verifiable calibration against a reference (calibration/PROCEDURE.md).
    struct Calibrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the meter against a reference: gain, phase, power-gain, offset, check, show.",
            discussion: """
                Each step averages the chip over --seconds, refuses an unsteady or unsuitable reference, prints the \
                registers old → new with their effect, and writes config.ini only with --write (atomically, keeping a \
                timestamped backup and every other line). The running service picks the new calibration up on SIGHUP \
                (systemctl reload clemap-edge). Procedure: calibration/PROCEDURE.md.
                """,
            subcommands: [Gain.self, PhaseStep.self, PowerGain.self, Offset.self, Check.self, Show.self])
    }
}

/// Options every measuring step shares.
struct CalibrationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Phases to work on: a, b, c or all.", valueName: "a|b|c|all"))
    var phase = "all"

    @Option(help: "Seconds to average the reference over.")
    var seconds = 10.0

    @Flag(help: "Write the new registers into config.ini (atomically, with a backup).")
    var write = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    var phases: [Phase] {
        switch phase { case "a": [.a]; case "b": [.b]; case "c": [.c]; default: Phase.allCases }
    }

    func validate() throws {
        guard ["a", "b", "c", "all"].contains(phase) else { throw ValidationError("--phase must be a, b, c or all") }
        guard seconds.isFinite, seconds >= 1, seconds <= 600 else { throw ValidationError("--seconds must be 1…600") }
    }
}

/// The shared run of a measuring step: set up, measure with a progress bar, compute, print, write.
enum CalibrationRun {
    static func run(global: GlobalOptions, source: MeterSourceOptions, options: CalibrationOptions,
                    reference: CalibrationReference, step: String,
                    compute: (Calibrator, CalibrationMeasurement) throws -> [CalibrationChange]) async throws {
        let configuration = try global.loadConfiguration()
        global.bootstrapLogging(configuration.logLevel)
        if options.write { try ConfigFileWriter.checkWritable(configuration.source) }
        let measurement = try await measure(configuration: configuration, source: source, reference: reference, seconds: options.seconds,
                                            quiet: options.json)
        let calibrator = Calibrator(configuration: configuration, phases: options.phases)
        let changes: [CalibrationChange]
        do { changes = try compute(calibrator, measurement) } catch let error as CalibrationError {
            throw CLIError(description: "calibrate \(step): \(error)")
        }
        var backup: String?
        if options.write {
            var document = configuration.document
            for change in changes { document = document.settingValue(String(change.new), forKey: change.key, inSection: "METER_SERVICE") }
            backup = try ConfigFileWriter.write(document)
        }
        let frequency = Double(configuration.lineFrequencyHz)
        if options.json {
            struct Change: Encodable { let phase, key: String; let old, new: Int32; let effect: String }
            struct Result: Encodable { let step: String; let changes: [Change]; let written: Bool; let backup: String? }
            print(JSONOutput.line(Result(step: step, changes: changes.map {
                Change(phase: $0.phase.line, key: $0.key, old: $0.old, new: $0.new, effect: $0.effect(lineFrequency: frequency))
            }, written: options.write, backup: backup)))
        } else {
            print("calibrate \(step): \(configuration.source)")
            for c in changes { print("  \(c.phase.line.uppercased())  \(c.key) \(c.old) → \(c.new)   \(c.effect(lineFrequency: frequency))") }
            if let backup {
                print("written; the old file is kept as \(backup)")
                print("a running service takes it on SIGHUP: systemctl reload clemap-edge")
            } else {
                print("nothing written: add --write to store these values in \(configuration.source)")
            }
        }
    }

    /// Sets the chip up (real or simulated) and averages it over `seconds`.
    static func measure(configuration: MeterConfiguration, source: MeterSourceOptions, reference: CalibrationReference,
                        seconds: Double, quiet: Bool) async throws -> CalibrationMeasurement {
        var source = source
        if source.simulate, source.scenario == nil {
            // No scenario: the simulated reference is exactly the one named on the command line.
            source.inlineScenario = Scenario(frequencyHz: Double(configuration.lineFrequencyHz), phases: Array(
                repeating: .init(voltageV: reference.voltage, currentA: reference.current, angleDeg: reference.angleDegrees), count: 3))
        }
        let logger = Logger(label: "clemap-edge.calibrate")
        let meter = try source.makeMeter(configuration, logger: logger)
        do {
            try await meter.start()
            let bar = ProgressBar(enabled: !quiet && isatty(2) == 1, label: "measuring \(Int(seconds)) s")
            defer { bar.finish() }
            return try await CalibrationMeasurement.take(driver: meter.driver, seconds: seconds,
                                                         clock: SystemClock(), progress: bar.update)
        } catch let error as ADE9000Error {
            throw CLIError(description: "\(error)")
        }
    }

}

/// `measuring 10 s [##########----------] 50 %` on stderr, redrawn in place, only on a terminal.
final class ProgressBar {
    let enabled: Bool
    let label: String
    init(enabled: Bool, label: String) { self.enabled = enabled; self.label = label }
    func update(_ fraction: Double) {
        guard enabled else { return }
        let filled = Int((fraction * 20).rounded())
        let text = "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: 20 - filled))] \(Int(fraction * 100)) %"
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }
    func finish() { if enabled { _ = "\n".withCString { Glibc.write(2, $0, 1) } } }
}

extension CLEMAPEdge.Calibrate {
    struct Gain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Voltage and current gain (calib_xvgain, calib_xigain) from a reference at PF 1.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions
        @OptionGroup var options: CalibrationOptions
        @Option(help: "Reference RMS voltage, V.") var voltage: Double
        @Option(help: "Reference RMS current, A.") var current: Double

        func run() async throws {
            let reference = CalibrationReference(voltage: voltage, current: current)
            try await CalibrationRun.run(global: global, source: source, options: options, reference: reference, step: "gain") {
                try $0.gain(reference: reference, measurement: $1)
            }
        }
    }

    struct PhaseStep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "phase",
            abstract: "Phase compensation (calib_xphcal0) from accumulated energy at a known angle.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions
        @OptionGroup var options: CalibrationOptions
        @Option(help: "Angle by which the reference current lags the voltage, degrees.") var angle = 60.0
        @Option(help: "Reference RMS voltage, V.") var voltage = 230.0
        @Option(help: "Reference RMS current, A.") var current = 10.0

        func run() async throws {
            let reference = CalibrationReference(voltage: voltage, current: current, angleDegrees: angle)
            try await CalibrationRun.run(global: global, source: source, options: options, reference: reference, step: "phase") {
                try $0.phase(reference: reference, measurement: $1)
            }
        }
    }

    struct PowerGain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "power-gain", abstract: "Power gain (calib_xpgain) at a known load.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions
        @OptionGroup var options: CalibrationOptions
        @Option(help: "Reference RMS voltage, V.") var voltage: Double
        @Option(help: "Reference RMS current, A.") var current: Double
        @Option(help: "Angle by which the current lags, degrees.") var angle = 0.0

        func run() async throws {
            let reference = CalibrationReference(voltage: voltage, current: current, angleDegrees: angle)
            try await CalibrationRun.run(global: global, source: source, options: options, reference: reference, step: "power-gain") {
                try $0.powerGain(reference: reference, measurement: $1)
            }
        }
    }

    struct Offset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "RMS and power offsets at no load, or at a small known current.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions
        @OptionGroup var options: CalibrationOptions
        @Option(help: "The small current that flows, A (0: no load).") var current = 0.0
        @Option(help: "The voltage applied, V.") var voltage = 230.0

        func run() async throws {
            let reference = CalibrationReference(voltage: voltage, current: current)
            try await CalibrationRun.run(global: global, source: source, options: options, reference: reference, step: "offset") {
                try $0.offset(reference: reference, measurement: $1)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Errors of V, I, P, Q, PF against a known reference, and the wiring checks.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions
        @OptionGroup var options: CalibrationOptions
        @Option(help: "Reference RMS voltage, V.") var voltage: Double
        @Option(help: "Reference RMS current, A.") var current: Double
        @Option(help: "Angle by which the current lags, degrees.") var angle = 0.0

        func run() async throws {
            let configuration = try global.loadConfiguration()
            global.bootstrapLogging(configuration.logLevel)
            let reference = CalibrationReference(voltage: voltage, current: current, angleDegrees: angle)
            let measurement = try await CalibrationRun.measure(configuration: configuration, source: source, reference: reference,
                                                               seconds: options.seconds, quiet: options.json)
            let check = CalibrationCheck(calibrator: Calibrator(configuration: configuration, phases: options.phases),
                                         reference: reference, measurement: measurement)
            func f(_ v: Double, _ d: Int) -> String { v.isFinite ? DecimalText.fixed(v, d) : "null" }
            if options.json {
                struct PhaseErrors: Encodable {
                    let phase: String
                    let v_err_pct, i_err_pct, p_err_pct_of_s, q_err_pct_of_s, pf_err, angle_err_deg: Double?
                }
                struct Finding: Encodable { let kind: String; let phase: String?; let message: String }
                struct Result: Encodable { let step = "check"; let phases: [PhaseErrors]; let wiring: [Finding] }
                let r = JSONOutput.rounded
                print(JSONOutput.line(Result(
                    phases: check.phases.map { e in
                        PhaseErrors(phase: e.phase.line, v_err_pct: r(e.voltagePercent, 4), i_err_pct: r(e.currentPercent, 4),
                                    p_err_pct_of_s: r(e.activePercent, 4), q_err_pct_of_s: r(e.reactivePercent, 4),
                                    pf_err: r(e.powerFactor, 5), angle_err_deg: r(e.angleDegrees, 4))
                    },
                    wiring: check.findings.map { Finding(kind: $0.kind.rawValue, phase: $0.phase?.line, message: $0.message) })))
                return
            }
            print("calibrate check: \(voltage) V, \(current) A, \(angle)° against \(configuration.source)")
            print("       V err %   I err %   P err %S  Q err %S    PF err   angle °")
            for e in check.phases {
                let cells = [f(e.voltagePercent, 3), f(e.currentPercent, 3), f(e.activePercent, 3), f(e.reactivePercent, 3), f(e.powerFactor, 4), f(e.angleDegrees, 3)]
                print("  \(e.phase.line.uppercased()) " + cells.map { String(repeating: " ", count: max(0, 10 - $0.count)) + $0 }.joined())
            }
            if check.findings.isEmpty { print("wiring: no findings") }
            for finding in check.findings { print("wiring: \(finding)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The calibration in force, in registers and in plain words.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let configuration = try global.loadConfiguration()
            let frequency = Double(configuration.lineFrequencyHz)
            if json {
                struct PhaseCalibrationJSON: Encodable {
                    let igain, vgain, pgain, phcal0, irmsos, vrmsos, wattos, varos: Int32
                    let current_gain_pct, voltage_gain_pct, power_gain_pct, phase_deg: Double?
                }
                struct Result: Encodable {
                    let config: String
                    let l1, l2, l3: PhaseCalibrationJSON
                }
                func phase(_ p: Phase) -> PhaseCalibrationJSON {
                    let c = configuration.calibration[p] ?? .zero
                    func percent(_ register: Int32) -> Double? { JSONOutput.rounded((ADE9000.Gain.multiplier(register) - 1) * 100, 4) }
                    return PhaseCalibrationJSON(
                        igain: c.igain, vgain: c.vgain, pgain: c.pgain, phcal0: c.phcal0, irmsos: c.irmsos, vrmsos: c.vrmsos,
                        wattos: c.wattos, varos: c.varos, current_gain_pct: percent(c.igain), voltage_gain_pct: percent(c.vgain),
                        power_gain_pct: percent(c.pgain),
                        phase_deg: JSONOutput.rounded(PhaseCompensation.degrees(register: c.phcal0, lineFrequency: frequency), 4))
                }
                print(JSONOutput.line(Result(config: configuration.source, l1: phase(.a), l2: phase(.b), l3: phase(.c))))
                return
            }
            print("calibration in force: \(configuration.source)")
            for p in Phase.allCases {
                let c = configuration.calibration[p] ?? .zero
                for kind in [CalibrationChange.Kind.igain, .vgain, .pgain, .phcal0, .irmsos, .vrmsos, .wattos, .varos] {
                    let value: Int32 = switch kind {
                    case .igain: c.igain; case .vgain: c.vgain; case .pgain: c.pgain; case .phcal0: c.phcal0
                    case .irmsos: c.irmsos; case .vrmsos: c.vrmsos; case .wattos: c.wattos; case .varos: c.varos
                    }
                    let change = CalibrationChange(phase: p, kind: kind, old: 0, new: value)
                    var words = change.effect(lineFrequency: frequency).split(separator: "→").last.map { String($0).trimmingSpaces } ?? ""
                    if kind != .irmsos, kind != .vrmsos, kind != .wattos, kind != .varos, let cut = words.firstRange(of: " (") {
                        words = String(words[..<cut.lowerBound])
                    }
                    print("  \(p.line.uppercased())  \(change.key) = \(value)   \(words)")
                }
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
