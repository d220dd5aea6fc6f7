// SPDX-License-Identifier: Apache-2.0

public import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the simulated meter is connected to: the grid, the loads, and the board's analog front end.
///
/// Read from JSON (see `scenarios/README.md` for the schema). Every key is optional except `phases`;
/// an absent `front_end` means ``FrontEnd/nibV3``, the board whose errors the shipped
/// `calibration/config.ini` cancels.
public struct Scenario: Codable, Sendable, Hashable {
    /// One phase of the grid and its load.
    public struct PhaseLoad: Codable, Sendable, Hashable {
        /// RMS line-to-neutral voltage, V.
        public var voltageV: Double
        /// RMS current, A.
        public var currentA: Double
        /// Angle by which the current lags the voltage, degrees: 0 resistive, +60 inductive (Q > 0),
        /// negative leads (capacitive, Q < 0), 180 a generator feeding the grid (P < 0).
        public var angleDeg: Double
        /// Angle by which this phase's voltage lags phase A's, degrees. Absent: 0, 120, 240 (ABC rotation).
        public var voltageAngleDeg: Double?
        /// Harmonics on top of the fundamental; then `voltageV`, `currentA` and `angleDeg` are the fundamental's
        /// (the total RMS is larger). Absent: pure sines.
        public var harmonics: HarmonicContent?

        public init(voltageV: Double, currentA: Double, angleDeg: Double = 0, voltageAngleDeg: Double? = nil,
                    harmonics: HarmonicContent? = nil) {
            self.voltageV = voltageV; self.currentA = currentA; self.angleDeg = angleDeg; self.voltageAngleDeg = voltageAngleDeg
            self.harmonics = harmonics
        }

        enum CodingKeys: String, CodingKey {
            case voltageV = "voltage_v", currentA = "current_a", angleDeg = "angle_deg", voltageAngleDeg = "voltage_angle_deg",
                 harmonics
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            voltageV = try c.decode(Double.self, forKey: .voltageV)
            currentA = try c.decode(Double.self, forKey: .currentA)
            angleDeg = try c.decodeIfPresent(Double.self, forKey: .angleDeg) ?? 0
            voltageAngleDeg = try c.decodeIfPresent(Double.self, forKey: .voltageAngleDeg)
            harmonics = try c.decodeIfPresent(HarmonicContent.self, forKey: .harmonics)
        }
    }

    /// Line frequency, Hz.
    public var frequencyHz: Double
    /// Exactly three: L1, L2, L3.
    public var phases: [PhaseLoad]
    /// The board's analog errors; nil = ``FrontEnd/nibV3``.
    public var frontEnd: FrontEnd?
    /// Uniform noise added to RMS and power codes, ± LSB. Absent: 2.
    public var noiseLSB: Double?
    /// Die temperature the chip reports, °C. Absent: 35.
    public var temperatureC: Double?
    /// Seed of the simulator's random numbers (noise, fault injection). Absent: 1.
    public var seed: UInt64?
    /// Faults to inject from the start; absent: none.
    public var faults: ScenarioFaults?
    /// Appliances switching on and off over the day, added to `phases`; absent: a steady load.
    public var loads: [ScenarioLoad]?
    /// Local time offset from UTC for the `daily` windows of `loads`, hours. Absent: 0.
    public var timezoneOffsetH: Double?
    /// Dips, swells, interruptions and overcurrents at scripted times; absent: none.
    public var disturbances: [ScenarioDisturbance]?

    public init(frequencyHz: Double = 50, phases: [PhaseLoad], frontEnd: FrontEnd? = nil, noiseLSB: Double? = nil,
                temperatureC: Double? = nil, seed: UInt64? = nil, faults: ScenarioFaults? = nil,
                disturbances: [ScenarioDisturbance]? = nil) {
        self.frequencyHz = frequencyHz; self.phases = phases; self.frontEnd = frontEnd
        self.noiseLSB = noiseLSB; self.temperatureC = temperatureC; self.seed = seed; self.faults = faults
        self.disturbances = disturbances
    }

    enum CodingKeys: String, CodingKey {
        case frequencyHz = "frequency_hz", phases, frontEnd = "front_end", noiseLSB = "noise_lsb",
             temperatureC = "temperature_c", seed, faults, loads, timezoneOffsetH = "timezone_offset_h", disturbances
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        frequencyHz = try c.decodeIfPresent(Double.self, forKey: .frequencyHz) ?? 50
        phases = try c.decode([PhaseLoad].self, forKey: .phases)
        frontEnd = try c.decodeIfPresent(FrontEnd.self, forKey: .frontEnd)
        noiseLSB = try c.decodeIfPresent(Double.self, forKey: .noiseLSB)
        temperatureC = try c.decodeIfPresent(Double.self, forKey: .temperatureC)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        faults = try c.decodeIfPresent(ScenarioFaults.self, forKey: .faults)
        loads = try c.decodeIfPresent([ScenarioLoad].self, forKey: .loads)
        timezoneOffsetH = try c.decodeIfPresent(Double.self, forKey: .timezoneOffsetH)
        disturbances = try c.decodeIfPresent([ScenarioDisturbance].self, forKey: .disturbances)
    }

    /// The same load on every phase: `voltage` V, `current` A, current lagging by `angle` degrees.
    public static func balanced(voltage: Double = 230, current: Double = 10, angle: Double = 0, frequency: Double = 50) -> Scenario {
        Scenario(frequencyHz: frequency, phases: Array(repeating: PhaseLoad(voltageV: voltage, currentA: current, angleDeg: angle), count: 3))
    }

    /// Reads and checks a scenario file.
    /// - Throws: ``ScenarioError`` naming the file and what is wrong with it.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let data: Data
        do { data = try Data(contentsOf: URL(filePath: path)) } catch {
            // The POSIX reason, not the whole CocoaError: "No such file or directory".
            let reason = access(path, R_OK) == 0 ? "\(error)" : String(cString: strerror(errno))
            throw ScenarioError(path: path, detail: "cannot be read: \(reason)",
                                remedy: "check the path given to --scenario")
        }
        return try decode(data, source: path)
    }

    /// Parses and checks scenario JSON; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws(ScenarioError) -> Scenario {
        let scenario: Scenario
        do { scenario = try JSONDecoder().decode(Scenario.self, from: data) } catch let error as DecodingError {
            throw ScenarioError(path: source, detail: describe(error), remedy: "see scenarios/README.md for the schema")
        } catch {
            throw ScenarioError(path: source, detail: "\(error)", remedy: "see scenarios/README.md for the schema")
        }
        try scenario.validate(source: source)
        return scenario
    }

    func validate(source: String) throws(ScenarioError) {
        func fail(_ detail: String) -> ScenarioError { ScenarioError(path: source, detail: detail, remedy: "see scenarios/README.md") }
        guard phases.count == 3 else { throw fail("\"phases\" has \(phases.count) entries, needs exactly 3 (L1, L2, L3)") }
        guard frequencyHz.isFinite, (40...70).contains(frequencyHz) else {
            throw fail("\"frequency_hz\" is \(frequencyHz), the ADE9000 measures 40–70 Hz")
        }
        for (index, phase) in phases.enumerated() {
            guard phase.voltageV.isFinite, phase.voltageV >= 0, phase.currentA.isFinite, phase.currentA >= 0, phase.angleDeg.isFinite else {
                throw fail("\"phases\"[\(index)] needs voltage_v ≥ 0, current_a ≥ 0 and a finite angle_deg")
            }
            try phase.harmonics?.validate(phase: index, frequencyHz: frequencyHz, source: source)
        }
        if let frontEnd { try frontEnd.validate(source: source) }
        for (index, load) in (loads ?? []).enumerated() { try load.validate(index: index, source: source) }
        for (index, disturbance) in (disturbances ?? []).enumerated() {
            try disturbance.validate(index: index, frequencyHz: frequencyHz, source: source)
        }
        if let bus = faults?.deadBus, bus != "all_ones", bus != "all_zeros" {
            throw fail("\"faults\".dead_bus is \"\(bus)\", allowed: \"all_ones\", \"all_zeros\"")
        }
        if let after = faults?.wedgedAfterS, !(after.isFinite && after >= 0) {
            throw fail("\"faults\".wedged_after_s is \(after), needs seconds ≥ 0")
        }
        if let rate = faults?.crcErrorRate, !(0...1).contains(rate) {
            throw fail("\"faults\".crc_error_rate is \(rate), needs a probability 0…1")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key \"\(key.stringValue)\" at \(path(context).isEmpty ? "top level" : path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let what = context.debugDescription.hasSuffix(".") ? String(context.debugDescription.dropLast()) : context.debugDescription
            return "not valid JSON (\(what))" + (path(context).isEmpty ? "" : " at \(path(context))")
        @unknown default: return "\(error)"
        }
    }
}

/// A scenario file that cannot be used.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let detail: String
    public let remedy: String
    public var description: String { "\(path): \(detail). Fix: \(remedy)" }
}

/// Faults a scenario file can ask for, so they can be tried from the command line.
public struct ScenarioFaults: Codable, Sendable, Hashable {
    /// Probability that a read has one bit flipped on MISO (0.01 = 1 %).
    public var crcErrorRate: Double?
    /// `"all_ones"` or `"all_zeros"`: the chip never answers.
    public var deadBus: String?
    /// Simulated seconds after start at which the chip resets silently (RUN = 0, calibration lost).
    public var silentResetAfterS: Double?
    /// Simulated seconds after start at which the chip wedges: it answers all ones and ignores every write,
    /// SWRST included, until a hardware reset (its RESET pin pulled low, ``SimulatedADE9000/resetPin(high:)``).
    public var wedgedAfterS: Double?

    public init(crcErrorRate: Double? = nil, deadBus: String? = nil, silentResetAfterS: Double? = nil, wedgedAfterS: Double? = nil) {
        self.crcErrorRate = crcErrorRate; self.deadBus = deadBus; self.silentResetAfterS = silentResetAfterS
        self.wedgedAfterS = wedgedAfterS
    }

    enum CodingKeys: String, CodingKey {
        case crcErrorRate = "crc_error_rate", deadBus = "dead_bus", silentResetAfterS = "silent_reset_after_s",
             wedgedAfterS = "wedged_after_s"
    }

    var wireFaults: Faults {
        Faults(crcCorruptionProbability: crcErrorRate ?? 0,
               deadBus: deadBus == "all_zeros" ? .allZeros : deadBus == "all_ones" ? .allOnes : nil)
    }
}
