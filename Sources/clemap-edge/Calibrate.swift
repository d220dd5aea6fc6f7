// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import ArgumentParser
import Logging
import MeterCalibration
import MeterCore
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
            let items = changes.map { c in
                "{\"phase\":\"\(c.phase.line)\",\"key\":\"\(c.key)\",\"old\":\(c.old),\"new\":\(c.new),\"effect\":\"\(jsonEscape(c.effect(lineFrequency: frequency)))\"}"
            }
            print("{\"step\":\"\(step)\",\"changes\":[\(items.joined(separator: ","))],\"written\":\(options.write),\"backup\":\(backup.map { "\"\(jsonEscape($0))\"" } ?? "null")}")
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
        let meter = try MeterFactory.makeMeter(configuration: configuration, source: source, logger: logger)
        do {
            try await meter.start()
            let bar = ProgressBar(enabled: !quiet && isatty(2) == 1, label: "measuring \(Int(seconds)) s")
            defer { bar.finish() }
            return try await CalibrationMeasurement.take(driver: meter.driver, seconds: seconds,
                                                         sleep: { try await Task.sleep(for: $0) }, progress: bar.update)
        } catch let error as ADE9000Error {
            throw CLIError(description: "\(error)")
        }
    }

    static func jsonEscape(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
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
            func f(_ v: Double, _ d: Int) -> String { v.isFinite ? Reading.fixed(v, decimals: d) : "null" }
            if options.json {
                let phases = check.phases.map { e in
                    "{\"phase\":\"\(e.phase.line)\",\"v_err_pct\":\(f(e.voltagePercent, 4)),\"i_err_pct\":\(f(e.currentPercent, 4)),\"p_err_pct_of_s\":\(f(e.activePercent, 4)),\"q_err_pct_of_s\":\(f(e.reactivePercent, 4)),\"pf_err\":\(f(e.powerFactor, 5)),\"angle_err_deg\":\(f(e.angleDegrees, 4))}"
                }
                let findings = check.findings.map { "{\"kind\":\"\($0.kind.rawValue)\",\"phase\":\($0.phase.map { "\"\($0.line)\"" } ?? "null"),\"message\":\"\(CalibrationRun.jsonEscape($0.message))\"}" }
                print("{\"step\":\"check\",\"phases\":[\(phases.joined(separator: ","))],\"wiring\":[\(findings.joined(separator: ","))]}")
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
                let phases = Phase.allCases.map { p -> String in
                    let c = configuration.calibration[p] ?? .zero
                    return "\"\(p.line)\":{\"igain\":\(c.igain),\"vgain\":\(c.vgain),\"pgain\":\(c.pgain),\"phcal0\":\(c.phcal0),\"irmsos\":\(c.irmsos),\"vrmsos\":\(c.vrmsos),\"wattos\":\(c.wattos),\"varos\":\(c.varos),\"current_gain_pct\":\(Reading.fixed((ADE9000.Gain.multiplier(c.igain) - 1) * 100, decimals: 4)),\"voltage_gain_pct\":\(Reading.fixed((ADE9000.Gain.multiplier(c.vgain) - 1) * 100, decimals: 4)),\"power_gain_pct\":\(Reading.fixed((ADE9000.Gain.multiplier(c.pgain) - 1) * 100, decimals: 4)),\"phase_deg\":\(Reading.fixed(PhaseCompensation.degrees(register: c.phcal0, lineFrequency: frequency), decimals: 4))}"
                }
                print("{\"config\":\"\(CalibrationRun.jsonEscape(configuration.source))\",\(phases.joined(separator: ","))}")
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
