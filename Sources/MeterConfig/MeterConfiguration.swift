// SPDX-License-Identifier: Apache-2.0
public import ADE9000
public import Logging
public import MeterGPIO
public import MeterReadings
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The meter's `config.ini`, typed and validated.
///
/// Reads the CLEMAP format (see `calibration/README.md`): the keys of the original firmware plus a few optional
/// ones this firmware adds, each with a default. ``load(path:)`` reports every problem at once, each naming
/// `file:line [section] key`, what was found and what to write instead.
///
/// Validation rules, per key:
/// * calibration registers (`calib_{a,b,c}*`): integers that fit a signed 32-bit register;
///   gains (`igain`, `vgain`, `pgain`) within ±2^26 (±50 %, anything larger is almost surely a typo);
///   `phcal0` within the register range of −15°…+ω (+2.25° at 50 Hz, +2.7° at 60 Hz; DS eq. 4 p.31);
///   RMS offsets (`irmsos`, `vrmsos`) within ±2^24 (a choice of ours: the chip adds 2^15 × xRMSOS to RMS², so 2^24
///   already makes a zero-input floor of √2^39 ≈ 741,455 codes, 1.4 % of full scale; real offsets are tens of codes);
///   power offsets (`wattos`, `varos`) any 32-bit value;
/// * scales (`ch{a,b,c}_*`): positive finite numbers;
/// * GPIO pins: integers 0…53 (a BCM GPIO number = line offset on the Pi's header chip), no pin used twice;
/// * intervals: positive integers.
///
/// Unknown keys are not an error: they stay in ``document`` and are listed in ``unknownKeys``.
///
/// ## Topics
/// ### Loading
/// - ``load(path:)``
/// - ``init(document:)``
/// - ``init(parsing:source:)``
/// ### Describing
/// - ``summary()``
public struct MeterConfiguration: Sendable, Hashable {
    /// A key this firmware does not read. It is kept in the file and reported by `config check`.
    public struct UnknownKey: Sendable, Hashable, CustomStringConvertible {
        /// The section it is in.
        public var section: String
        /// The key as written.
        public var key: String
        /// 1-based line number.
        public var line: Int

        /// Creates an entry of ``MeterConfiguration/unknownKeys``.
        public init(section: String, key: String, line: Int) { self.section = section; self.key = key; self.line = line }

        /// `[SECTION] key (line n)`.
        public var description: String { "[\(section)] \(key) (line \(line))" }
    }

    /// `[GPIO_SERVICE]`: the board's digital I/O, as BCM GPIO numbers (line offsets 0…53 on the Pi header's chip).
    ///
    /// The meaning of the relay outputs and inputs follows the original CLEMAP firmware: `output_pin_setup` lists
    /// which outputs (`a`, `b`) are fitted, `input_pin_setup` which inputs.
    /// The config file's path, as given; errors and ``resolvedDBPath`` use it.
    public var source: String
    /// The parsed file, for rewriting single values (`calibrate`) with every other line kept.
    public var document: INIDocument

    /// `[INFO] hw_serial`: the meter's hardware serial, e.g. `SE05000551`.
    public var hwSerial: String?
    /// `[INFO] sensor_id`: the CLEMAP cloud's id of this sensor.
    public var sensorID: String?
    /// `[INFO] timezone`: an IANA zone name, e.g. `Europe/Zurich`.
    public var timezone: String?

    /// `[METER_SERVICE] controller_model`: always `ade9000` (the only chip this firmware drives).
    public var controllerModel: String
    /// `[METER_SERVICE] current_sensor_rating`: rated primary current of the current sensors, in A (e.g. 42).
    public var currentSensorRating: Double
    /// `[METER_SERVICE] nib_version`: the NIB board revision (3 for the reference meter).
    public var nibVersion: Int
    /// `[METER_SERVICE] current_sensor_type`: CLEMAP's current-sensor type code (1 for the reference meter).
    public var currentSensorType: Int
    /// `[METER_SERVICE] calib_{a,b,c}{igain,vgain,pgain,phcal0,irmsos,vrmsos,wattos,varos}`: register codes per phase.
    public var calibration: [Phase: PhaseCalibration]
    /// `[METER_SERVICE] ch{a,b,c}_{irms,vrms,watt,va,var,watthr,varhr,vahr}`: SI per LSB per phase.
    public var scales: [Phase: PhaseScale]
    /// `[METER_SERVICE] line_frequency_hz` (optional, ours): 50 or 60, default 50. Sets ACCMODE.SELFREQ and the phcal0 maths.
    public var lineFrequencyHz: Int
    /// `[METER_SERVICE] spi_device` (optional, ours): default `/dev/spidev0.0`.
    public var spiDevice: String
    /// `[METER_SERVICE] spi_speed_hz` (optional, ours): 1…20,000,000 (the ADE9000's SCLK maximum), default 5,000,000.
    public var spiSpeedHz: Int
    /// `[METER_SERVICE] spi_mode` (optional, ours): 0…3, default 3 (the ADE9000 samples on the rising edge, idle high).
    public var spiMode: Int

    /// `[GPIO_SERVICE]`.
    public var gpio: GPIOPins

    /// `[MODULES] data_gathering_module`: whether readings are stored; `true` or `false`, default `true`.
    public var dataGatheringEnabled: Bool
    /// `[DATA_GATHERING_MODULE] gathering_interval_sec`: seconds between stored rows, default 60.
    public var gatheringIntervalSeconds: Int
    /// `[DATA_GATHERING_MODULE] persistence_interval_sec`: the persistence interval in seconds (1209600 = 14 days);
    /// in the original CLEMAP firmware most likely the retention of stored rows (original-system.md §4).
    public var persistenceIntervalSeconds: Int
    /// `[DATA_GATHERING_MODULE] db_path` as written (e.g. `DB/data_gathering.db`).
    public var dbPath: String
    /// ``dbPath`` resolved: an absolute path is kept, a relative one is taken relative to the config file's folder.
    /// The result is relative to the working directory only if ``source`` is.
    public var resolvedDBPath: String

    /// `[FORECAST]`: the on-device forecaster.
    public var forecast: ForecastSettings
    /// `[CLOUD]`: the exporter to S3 and the model updates.
    public var cloud: CloudSettings
    /// `[HTTP]`: the local API, metrics and dashboard.
    public var http: HTTPSettings
    /// `[MODBUS]`: the Modbus TCP server (CLEMAP's register map).
    public var modbus: ModbusSettings
    /// `[MQTT]`: live values, minutes and Home Assistant discovery to an MQTT broker.
    public var mqtt: MQTTSettings
    /// `[POWER_QUALITY]`: dips, swells, interruptions, overcurrent, phase sequence, THD; the EN 50160 report.
    public var powerQuality: PowerQualitySettings

    /// `[LOGGING] level`: `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`; default `info`.
    public var logLevel: Logger.Level

    /// Keys this firmware does not read, in file order. Not an error. `[INFO] sensor_status` and
    /// `[NETWORKING] wifi_country` are known CLEMAP keys used by other services and are not listed.
    public var unknownKeys: [UnknownKey]

    // MARK: Loading

    /// Reads, parses and validates a config file.
    ///
    /// - Parameter path: The file's path, e.g. the `--config` option.
    /// - Returns: The validated configuration.
    /// - Throws: ``ConfigErrors`` listing every problem: `.unreadable` for a missing or unreadable file (with what to do);
    ///   syntax errors (`.malformedLine`, `.duplicate`) if the file does not parse; otherwise all value errors at once.
    public static func load(path: String) throws(ConfigErrors) -> MeterConfiguration {
        try MeterConfiguration(document: INIDocument.load(path: path))
    }

    /// Parses and validates config text.
    ///
    /// - Parameters:
    ///   - text: The whole file.
    ///   - source: The path used in errors and to resolve a relative `db_path`.
    /// - Throws: ``ConfigErrors``, as ``load(path:)``.
    public init(parsing text: String, source: String) throws(ConfigErrors) {
        try self.init(document: INIDocument(parsing: text, source: source))
    }

    /// Validates a parsed document.
    ///
    /// - Parameter document: The parsed file.
    /// - Throws: ``ConfigErrors`` with every value error: `.missingKey`, `.badNumber`, `.outOfRange`, `.badValue`, `.conflict`.
    public init(document: INIDocument) throws(ConfigErrors) {
        var r = ConfigReader(document: document)
        let info = Section.info, meter = Section.meter, gpioSection = Section.gpio

        hwSerial = r.string(info, "hw_serial")
        sensorID = r.string(info, "sensor_id")
        timezone = r.string(info, "timezone")

        // METER_SERVICE
        controllerModel = r.controllerModel()
        currentSensorRating = r.positiveDouble(meter, "current_sensor_rating", unit: "A", example: "42") ?? 0
        nibVersion = r.integer(meter, "nib_version", range: 0...Int64(Int32.max), example: "3").map { Int($0) } ?? 0
        currentSensorType = r.integer(meter, "current_sensor_type", range: 0...Int64(Int32.max), example: "1").map { Int($0) } ?? 0
        let frequency = r.integer(meter, "line_frequency_hz", required: false, choices: [50, 60], example: "50")
        lineFrequencyHz = Int(frequency ?? 50)
        spiDevice = r.string(meter, "spi_device", required: false, nonEmptyExample: "/dev/spidev0.0") ?? "/dev/spidev0.0"
        spiSpeedHz = Int(r.integer(meter, "spi_speed_hz", required: false, range: 1...20_000_000, example: "5000000") ?? 5_000_000)
        spiMode = Int(r.integer(meter, "spi_mode", required: false, range: 0...3, example: "3") ?? 3)

        var calibration: [Phase: PhaseCalibration] = [:]
        var scales: [Phase: PhaseScale] = [:]
        for phase in Phase.allCases {
            calibration[phase] = r.calibration(phase, lineFrequencyHz: Double(lineFrequencyHz))
            scales[phase] = r.scale(phase)
        }
        self.calibration = calibration
        self.scales = scales

        // GPIO_SERVICE
        let outputs = r.pinSetup(gpioSection, "output_pin_setup", example: "ab") ?? ""
        let inputs = r.pinSetup(gpioSection, "input_pin_setup", example: "b") ?? ""
        let pinOutA = r.pin("pin_out_a", example: "21")
        let pinOutB = r.pin("pin_out_b", example: "20")
        let pinInA = r.pin("pin_in_a", required: inputs.contains("a"), example: "12")
        let pinInB = r.pin("pin_in_b", example: "16")
        let ledPin = r.pin("led_pin", example: "25")
        let resetPin = r.pin("reset_button_pin", example: "7")
        let chipResetPin = r.pin("chip_reset_pin", required: false, example: "24")
        let defaultInput = r.integer(gpioSection, "default_input_value", range: 0...1, example: "0")
        var chip = r.string(gpioSection, "gpio_chip")
        if chip?.isEmpty == true || chip?.lowercased() == "auto" { chip = nil }
        r.checkPinConflicts()
        gpio = GPIOPins(outputPinSetup: outputs, pinOutA: pinOutA ?? -1, pinOutB: pinOutB ?? -1,
                    defaultInputValue: Int(defaultInput ?? 0), inputPinSetup: inputs, pinInA: pinInA,
                    pinInB: pinInB ?? -1, ledPin: ledPin ?? -1, resetButtonPin: resetPin ?? -1,
                    chipResetPin: chipResetPin, chip: chip)

        // MODULES, DATA_GATHERING_MODULE, LOGGING
        dataGatheringEnabled = r.bool(Section.modules, "data_gathering_module") ?? true
        let data = Section.dataGathering
        gatheringIntervalSeconds = Int(r.integer(data, "gathering_interval_sec", required: false,
                                                 range: 1...Int64(Int32.max), example: "60") ?? 60)
        persistenceIntervalSeconds = Int(r.integer(data, "persistence_interval_sec",
                                                   range: 1...Int64(Int32.max), example: "1209600") ?? 0)
        dbPath = r.string(data, "db_path", required: true, nonEmptyExample: "DB/data_gathering.db") ?? ""
        resolvedDBPath = Self.resolve(dbPath, relativeTo: document.source)
        logLevel = r.logLevel()

        // FORECAST
        let f = Section.forecast, defaults = ForecastSettings()
        func hours(_ key: String, _ range: ClosedRange<Int64>, _ value: Int) -> Int {
            Int(r.integer(f, key, required: false, range: range, example: "\(value)") ?? Int64(value))
        }
        var forecast = ForecastSettings(enabled: r.bool(f, "enabled") ?? defaults.enabled)
        if let model = r.string(f, "model", required: false, nonEmptyExample: "builtin"), model.lowercased() != "builtin" {
            forecast.modelPath = Self.resolve(model, relativeTo: document.source)
        }
        forecast.trainEveryHours = hours("train_every_hours", 1...168, defaults.trainEveryHours)
        forecast.historyDays = hours("history_days", 8...730, defaults.historyDays)
        forecast.minTrainingDays = hours("min_training_days", 1...365, defaults.minTrainingDays)
        forecast.scoreWindowHours = hours("score_window_hours", 1...720, defaults.scoreWindowHours)
        forecast.driftSkillBelow = r.double(f, "drift_skill_below", range: -1...1, example: "0.0") ?? defaults.driftSkillBelow
        forecast.driftForHours = hours("drift_for_hours", 1...720, defaults.driftForHours)
        forecast.keepForecastsDays = hours("keep_forecasts_days", 1...365, defaults.keepForecastsDays)
        if forecast.minTrainingDays >= forecast.historyDays {
            r.conflict(f, "min_training_days", "min_training_days (\(forecast.minTrainingDays)) must be below history_days (\(forecast.historyDays))",
                       "lower min_training_days or raise history_days")
        }
        if forecast.enabled, gatheringIntervalSeconds != 60 {
            r.conflict(f, "enabled", "the forecaster works on minute rows, but gathering_interval_sec is \(gatheringIntervalSeconds)",
                       "set [DATA_GATHERING_MODULE] gathering_interval_sec = 60, or [FORECAST] enabled = false")
        }
        self.forecast = forecast
        cloud = r.cloud(device: hwSerial)
        http = r.http()
        modbus = r.modbus()
        mqtt = r.mqtt(serial: hwSerial, source: document.source)
        powerQuality = r.powerQuality()

        r.markKnown(info, "sensor_status")
        r.markKnown(Section.networking, "wifi_country")
        unknownKeys = r.unknownKeys()

        source = document.source
        self.document = document
        guard r.errors.isEmpty else { throw ConfigErrors(r.errors) }
    }

    /// `db_path` against the config file's folder; absolute paths unchanged, leading `./` dropped.
    fileprivate static func resolve(_ path: String, relativeTo configPath: String) -> String {
        if path.hasPrefix("/") || path.isEmpty { return path }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        guard let slash = configPath.lastIndex(of: "/") else { return String(relative) }
        return String(configPath[..<slash]) + "/" + relative
    }

    // MARK: Describing

    /// Human-readable lines for `clemap-edge config check`: what was found, with registers also in plain words.
    ///
    /// - Returns: One line per fact, e.g. `phase A: phcal0 -63482710 = phase compensation −4.03° at 50 Hz …`.
    public func summary() -> [String] {
        var out: [String] = []
        out.append("config: \(source)")
        let info = [hwSerial.map { "hw_serial \($0)" }, sensorID.map { "sensor_id \($0)" }, timezone.map { "timezone \($0)" }]
            .compactMap { $0 }
        out.append("info: " + (info.isEmpty ? "none" : info.joined(separator: ", ")))
        out.append("controller: \(controllerModel), NIB v\(nibVersion), current sensor type \(currentSensorType), "
                   + "current sensor rating \(Fmt.number(currentSensorRating)) A, line frequency \(lineFrequencyHz) Hz")
        out.append("SPI: \(spiDevice), mode \(spiMode), \(spiSpeedHz) Hz")
        let f = Double(lineFrequencyHz)
        for phase in Phase.allCases {
            let name = "phase \(phase.letter.uppercased())"
            if let c = calibration[phase] {
                out.append("\(name) gains: igain \(c.igain) (\(Fmt.gainPercent(c.igain)) current gain), "
                           + "vgain \(c.vgain) (\(Fmt.gainPercent(c.vgain)) voltage gain), "
                           + "pgain \(c.pgain) (\(Fmt.gainPercent(c.pgain)) power gain)")
                let degrees = PhaseCompensation.degrees(register: c.phcal0, lineFrequency: f)
                let corrects = c.phcal0 == 0 ? "no correction"
                    : c.phcal0 < 0 ? "corrects a current that leads the voltage" : "corrects a current that lags the voltage"
                out.append("\(name) phase: phcal0 \(c.phcal0) = phase compensation \(Fmt.signed(degrees, 2))° at "
                           + "\(lineFrequencyHz) Hz (\(corrects))")
                out.append("\(name) offsets: irmsos \(c.irmsos), vrmsos \(c.vrmsos) (× 2^15 added to RMS²), "
                           + "wattos \(c.wattos), varos \(c.varos) (codes added to xWATT, xVAR)")
            }
            if let s = scales[phase] {
                out.append("\(name) scale: \(s.ampsPerLSB) A/LSB (\(Fmt.fixed(s.ampsPerLSB * FullScale.rms, 2)) A rms at "
                           + "full scale), \(s.voltsPerLSB) V/LSB (\(Fmt.fixed(s.voltsPerLSB * FullScale.rms, 2)) V rms at "
                           + "full scale), \(s.wattsPerLSB) W/LSB, \(s.varsPerLSB) var/LSB, \(s.voltAmpsPerLSB) VA/LSB")
                out.append("\(name) energy constants (CLEMAP: per HI LSB × 8000, not used): watthr \(s.watthr), "
                           + "varhr \(s.varhr), vahr \(s.vahr); energy per xWATTHR_HI LSB from the W scale: "
                           + "\(Fmt.fixed(Energy45.wattHoursPerHiLSB(wattsPerLSB: s.wattsPerLSB) * 1e6, 4)) µWh")
            }
        }
        var inputs = "inputs \(gpio.inputPinSetup.isEmpty ? "none" : gpio.inputPinSetup)"
        if let a = gpio.pinInA { inputs += ", in A GPIO \(a)" }
        inputs += ", in B GPIO \(gpio.pinInB), default input value \(gpio.defaultInputValue)"
        out.append("GPIO: outputs \(gpio.outputPinSetup.isEmpty ? "none" : gpio.outputPinSetup), out A GPIO \(gpio.pinOutA), "
                   + "out B GPIO \(gpio.pinOutB); \(inputs); LED GPIO \(gpio.ledPin); reset button GPIO \(gpio.resetButtonPin); "
                   + "ADE9000 RESET \(gpio.chipResetPin.map { "GPIO \($0)" } ?? "not wired"); chip \(gpio.chip ?? "auto")")
        out.append("data gathering: \(dataGatheringEnabled ? "on" : "off"), every \(Fmt.duration(gatheringIntervalSeconds)), "
                   + "persistence interval \(Fmt.duration(persistenceIntervalSeconds))")
        out.append("database: \(resolvedDBPath)" + (resolvedDBPath == dbPath ? "" : " (db_path = \(dbPath))"))
        if forecast.enabled {
            out.append("forecast: on, model \(forecast.modelPath ?? "builtin"), built-in model trained every "
                       + "\(forecast.trainEveryHours) h from \(forecast.historyDays) days of history (first after "
                       + "\(forecast.minTrainingDays) days), scores over \(forecast.scoreWindowHours) h, drift when skill "
                       + "< \(forecast.driftSkillBelow) for \(forecast.driftForHours) h, forecasts kept \(forecast.keepForecastsDays) days")
        } else {
            out.append("forecast: off")
        }
        out.append(cloud.summary + (cloud.enabled && !cloud.modelPrefix.isEmpty && !forecast.enabled
                                    ? " (model updates wait for [FORECAST] enabled = true)" : ""))
        out.append(http.summary)
        out.append(modbus.summary)
        out.append(mqtt.summary)
        out.append(powerQuality.summary)
        out.append("logging: \(logLevel.rawValue)")
        if unknownKeys.isEmpty {
            out.append("unknown keys: none")
        } else {
            out.append("unknown keys (kept, not used): " + unknownKeys.map(\.description).joined(separator: ", "))
        }
        return out
    }
}

// MARK: - Sections

private enum Section {
    static let info = "INFO"
    static let networking = "NETWORKING"
    static let meter = "METER_SERVICE"
    static let gpio = "GPIO_SERVICE"
    static let modules = "MODULES"
    static let dataGathering = "DATA_GATHERING_MODULE"
    static let logging = "LOGGING"
    static let forecast = "FORECAST"
    static let cloud = "CLOUD"
    static let http = "HTTP"
    static let modbus = "MODBUS"
    static let mqtt = "MQTT"
    static let powerQuality = "POWER_QUALITY"
}

// MARK: - Formatting (no Foundation)

private enum Fmt {
    static func fixed(_ x: Double, _ digits: Int) -> String { DecimalText.fixed(x, digits) }
    static func signed(_ x: Double, _ digits: Int) -> String { DecimalText.signed(x, digits) }

    /// A gain register as a percentage: `(reg / 2^27) · 100`, e.g. `+1.54 %`.
    static func gainPercent(_ register: Int32) -> String {
        signed((Gain.multiplier(register) - 1) * 100, 2) + " %"
    }

    /// `42` for whole numbers, else the shortest round-trip form.
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? "\(Int64(x))" : "\(x)"
    }

    /// `60 s`, `1209600 s (14 days)`.
    static func duration(_ seconds: Int) -> String {
        if seconds >= 86_400, seconds % 86_400 == 0 { return "\(seconds) s (\(seconds / 86_400) days)" }
        if seconds >= 3_600, seconds % 3_600 == 0 { return "\(seconds) s (\(seconds / 3_600) h)" }
        return "\(seconds) s"
    }
}

// MARK: - Reading values, collecting errors

private struct ConfigReader {
    let document: INIDocument
    var errors: [ConfigError] = []
    private var consulted: Set<String> = []
    private var pins: [(key: String, pin: Int, line: Int)] = []

    init(document: INIDocument) { self.document = document }

    private var file: String { document.source }

    private static func id(_ section: String, _ key: String) -> String { section + "\u{0}" + key.lowercased() }

    mutating func markKnown(_ section: String, _ key: String) { consulted.insert(Self.id(section, key)) }

    func unknownKeys() -> [MeterConfiguration.UnknownKey] {
        document.entries.filter { !consulted.contains(Self.id($0.section, $0.key)) }
            .map { MeterConfiguration.UnknownKey(section: $0.section, key: $0.key, line: $0.line) }
    }

    /// The entry, or `nil`; a required one that is absent records `.missingKey`.
    mutating func entry(_ section: String, _ key: String, required: Bool, example: String) -> INIDocument.Entry? {
        markKnown(section, key)
        if let entry = document.entry(forKey: key, inSection: section) { return entry }
        guard required else { return nil }
        if let header = document.headerLine(ofSection: section) {
            errors.append(ConfigError(.missingKey, file: file, line: header, section: section, key: key,
                                      detail: "missing (required)",
                                      remedy: "add the line '\(key) = \(example)' to [\(section)] (line \(header)), "
                                              + "with this meter's value"))
        } else {
            errors.append(ConfigError(.missingKey, file: file, section: section, key: key,
                                      detail: "missing: the file has no [\(section)] section",
                                      remedy: "add a [\(section)] section with '\(key) = \(example)' "
                                              + "(see calibration/config.ini for the full set)"))
        }
        return nil
    }

    mutating func fail(_ code: ConfigError.Code, _ entry: INIDocument.Entry, allowed: String? = nil,
                       _ detail: String, _ remedy: String) {
        errors.append(ConfigError(code, file: file, line: entry.line, section: entry.section, key: entry.key,
                                  found: entry.value, allowed: allowed, detail: detail, remedy: remedy))
    }

    // MARK: Strings and words

    mutating func string(_ section: String, _ key: String) -> String? {
        entry(section, key, required: false, example: "")?.value
    }

    mutating func string(_ section: String, _ key: String, required: Bool, nonEmptyExample example: String) -> String? {
        guard let e = entry(section, key, required: required, example: example) else { return nil }
        guard !e.value.isEmpty else {
            fail(.badValue, e, "empty", "write a value, e.g. \(key) = \(example)" + (required ? "" : ", or delete the line for the default"))
            return nil
        }
        return e.value
    }

    mutating func controllerModel() -> String {
        guard let e = entry(Section.meter, "controller_model", required: true, example: "ade9000") else { return "" }
        guard e.value.lowercased() == "ade9000" else {
            fail(.badValue, e, allowed: "ade9000", "'\(e.value)' is not supported: this firmware drives only the ADE9000",
                 "write controller_model = ade9000 (and check the meter really has an ADE9000)")
            return e.value
        }
        return "ade9000"
    }

    mutating func bool(_ section: String, _ key: String) -> Bool? {
        guard let e = entry(section, key, required: false, example: "true") else { return nil }
        switch e.value.lowercased() {
        case "true": return true
        case "false": return false
        default:
            fail(.badValue, e, allowed: "true, false", "'\(e.value)' is not true or false", "write \(key) = true or \(key) = false")
            return nil
        }
    }

    mutating func logLevel() -> Logger.Level {
        guard let e = entry(Section.logging, "level", required: false, example: "info") else { return .info }
        if let level = Logger.Level(rawValue: e.value.lowercased()) { return level }
        let all = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        fail(.badValue, e, allowed: all, "'\(e.value)' is not a log level", "write one of \(all), e.g. level = info")
        return .info
    }

    mutating func pinSetup(_ section: String, _ key: String, example: String) -> String? {
        guard let e = entry(section, key, required: true, example: example) else { return nil }
        let letters = e.value.lowercased()
        guard letters.allSatisfy({ $0 == "a" || $0 == "b" }), Set(letters).count == letters.count else {
            fail(.badValue, e, allowed: "a, b, ab or empty", "'\(e.value)' is not a set of the letters a and b",
                 "write the fitted channels, e.g. \(key) = \(example)")
            return nil
        }
        return letters
    }

    // MARK: Numbers

    /// `[+-]?[0-9]+`: what Python's `int()` reads without underscores or spaces.
    private static func isIntegerSyntax(_ s: String) -> Bool {
        var digits = Substring(s)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The leading integer of a bad value (`2069224x` → `2069224`), for the example in the fix.
    private static func leadingInteger(_ s: String) -> String? {
        var prefix = ""
        for (index, char) in s.enumerated() {
            if char.isASCII && char.isNumber || index == 0 && (char == "-" || char == "+") { prefix.append(char) } else { break }
        }
        return prefix.contains(where: \.isNumber) ? prefix : nil
    }

    /// An integer from a syntax check and `range`; `choices` narrows it further.
    mutating func integer(_ section: String, _ key: String, required: Bool = true, range: ClosedRange<Int64>? = nil,
                          choices: [Int64]? = nil, kind: String? = nil, example: String) -> Int64? {
        guard let e = entry(section, key, required: required, example: example) else { return nil }
        let allowed = choices.map { $0.map(String.init).joined(separator: " or ") }
            ?? range.map { "\($0.lowerBound)…\($0.upperBound)" }
        let what = kind ?? (choices.map { "\($0.map(String.init).joined(separator: " or "))" }
            ?? range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "an integer")
        guard Self.isIntegerSyntax(e.value) else {
            let sample = Self.leadingInteger(e.value).flatMap { candidate -> String? in
                guard let n = Int64(candidate), range?.contains(n) ?? true, choices?.contains(n) ?? true else { return nil }
                return String(n)
            } ?? example
            fail(.badNumber, e, allowed: allowed, "'\(e.value)' is not an integer", "write \(what), e.g. \(sample)")
            return nil
        }
        guard let n = Int64(e.value), range?.contains(n) ?? true, choices?.contains(n) ?? true else {
            fail(.outOfRange, e, allowed: allowed, "'\(e.value)' is outside \(allowed ?? "the 64-bit range")",
                 "write \(what), e.g. \(example)")
            return nil
        }
        return n
    }

    /// A decimal number within `range`; nil (and no error) when the key is absent.
    mutating func double(_ section: String, _ key: String, range: ClosedRange<Double>, example: String) -> Double? {
        guard let e = entry(section, key, required: false, example: example) else { return nil }
        let allowed = "\(range.lowerBound)…\(range.upperBound)"
        guard let x = Double(e.value), !e.value.lowercased().hasPrefix("0x") else {
            fail(.badNumber, e, allowed: allowed, "'\(e.value)' is not a number", "write a decimal number, e.g. \(key) = \(example)")
            return nil
        }
        guard x.isFinite, range.contains(x) else {
            fail(.outOfRange, e, allowed: allowed, "'\(e.value)' is outside \(allowed)", "write a number from \(allowed), e.g. \(example)")
            return nil
        }
        return x
    }

    /// Two values that cannot hold together: reported on `key`'s line (or the section's header).
    mutating func conflict(_ section: String, _ key: String, _ detail: String, _ remedy: String) {
        let line = document.entry(forKey: key, inSection: section)?.line ?? document.headerLine(ofSection: section)
        errors.append(ConfigError(.conflict, file: file, line: line, section: section, key: key, found: nil, allowed: nil,
                                  detail: detail, remedy: remedy))
    }

    /// `[CLOUD]`: read whether or not it is enabled (so a typo is found before it is switched on); the checks that
    /// only matter for a working exporter (bucket, serial, credentials in pairs) only when enabled.
    mutating func cloud(device: String?) -> CloudSettings {
        let c = Section.cloud
        var cloud = CloudSettings(enabled: bool(c, "enabled") ?? false)
        func keySafe(_ key: String, example: String, folder: Bool) -> String? {
            guard let e = entry(c, key, required: false, example: example) else { return nil }
            guard CloudSettings.isKeySafe(e.value), !e.value.hasPrefix("/"), !e.value.contains("//") else {
                fail(.badValue, e, allowed: "letters, digits and - . _ ~ / =", "'\(e.value)' has characters an object key here may not hold",
                     "write a key of letters, digits and - . _ ~ / =, not starting with /, e.g. \(key) = \(example)")
                return nil
            }
            if folder, !e.value.isEmpty, !e.value.hasSuffix("/") {
                fail(.badValue, e, "'\(e.value)' does not end with /", "end the prefix with /, e.g. \(key) = \(e.value)/")
                return nil
            }
            return e.value
        }
        if let e = entry(c, "bucket", required: false, example: "my-meter-data"), !e.value.isEmpty {
            if CloudSettings.isBucketName(e.value) { cloud.bucket = e.value } else {
                fail(.badValue, e, allowed: "3–63 of a-z 0-9 . -", "'\(e.value)' is not a bucket name",
                     "write the bucket's name: 3 to 63 lower-case letters, digits, dots or hyphens, e.g. bucket = my-meter-data")
            }
        }
        if let e = entry(c, "region", required: false, example: "eu-central-2"), !e.value.isEmpty {
            if e.value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) { cloud.region = e.value } else {
                fail(.badValue, e, "'\(e.value)' is not a region name", "write the bucket's region, e.g. region = eu-central-2 (us-east-1 for most S3-compatible stores)")
            }
        }
        if let e = entry(c, "endpoint", required: false, example: "https://minio.local:9000"), !e.value.isEmpty {
            let value = e.value.hasSuffix("/") ? String(e.value.dropLast()) : e.value
            let rest = value.hasPrefix("https://") ? value.dropFirst(8) : value.hasPrefix("http://") ? value.dropFirst(7) : nil
            if let rest, !rest.isEmpty, !rest.contains("/"), !rest.contains("@") { cloud.endpoint = value } else {
                fail(.badValue, e, "'\(e.value)' is not a base URL", "write the store's scheme, host and port only, e.g. endpoint = https://minio.local:9000; leave it empty for AWS")
            }
        }
        cloud.pathStyle = bool(c, "path_style") ?? false
        if let e = entry(c, "ca_file", required: false, example: "/etc/ssl/certs/my-ca.pem"), !e.value.isEmpty {
            cloud.caFile = e.value
        }
        cloud.dataPrefix = keySafe("data_prefix", example: "data/", folder: true) ?? cloud.dataPrefix
        cloud.trainingKey = keySafe("training_key", example: "data/Clemap_train.csv", folder: false) ?? cloud.trainingKey
        if cloud.trainingKey.isEmpty || cloud.trainingKey.hasSuffix("/") {
            conflict(c, "training_key", "the training key names no object", "write an object key, e.g. training_key = data/Clemap_train.csv")
        }
        cloud.modelPrefix = keySafe("model_prefix", example: "output/", folder: true) ?? cloud.modelPrefix
        cloud.pollIntervalSeconds = Int(integer(c, "poll_interval_sec", required: false, range: 60...604_800, example: "3600") ?? 3600)
        // The secret's value never goes into an error: only whether it is there.
        let keyID = entry(c, "access_key_id", required: false, example: "AKIA…")?.value
        let secret = entry(c, "secret_access_key", required: false, example: "…")?.value
        cloud.accessKeyID = keyID.flatMap { $0.isEmpty ? nil : $0 }
        cloud.secretAccessKey = secret.flatMap { $0.isEmpty ? nil : $0 }
        if (cloud.accessKeyID == nil) != (cloud.secretAccessKey == nil) {
            let missing = cloud.accessKeyID == nil ? "access_key_id" : "secret_access_key"
            conflict(c, missing, "one of access_key_id and secret_access_key is set, \(missing) is not",
                     "set both, or neither (then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials are used)")
        }
        cloud.device = device ?? ""
        if cloud.enabled {
            if cloud.bucket.isEmpty, entry(c, "bucket", required: false, example: "")?.value.isEmpty != false {
                conflict(c, "bucket", "the exporter is enabled but no bucket is named", "add bucket = <your bucket> to [CLOUD], or set enabled = false")
            }
            if cloud.device.isEmpty || !CloudSettings.isKeySafe(cloud.device) || cloud.device.contains("/") {
                conflict(Section.info, "hw_serial", "the exporter names each device's data by [INFO] hw_serial, which is "
                         + (cloud.device.isEmpty ? "not set" : "'\(cloud.device)', not usable in an object key"),
                         "set [INFO] hw_serial to the meter's serial (letters, digits, - . _), e.g. hw_serial = SE05000551")
            }
        }
        return cloud
    }

    mutating func http() -> HTTPSettings {
        let h = Section.http
        var http = HTTPSettings(enabled: bool(h, "enabled") ?? true)
        if let e = entry(h, "bind", required: false, example: "127.0.0.1"), !e.value.isEmpty {
            if HTTPSettings.isIPv4(e.value) || HTTPSettings.isIPv6(e.value) || e.value.lowercased() == "localhost" { http.bind = e.value } else {
                fail(.badValue, e, allowed: "an IP address", "'\(e.value)' is not an IP address",
                     "write the address to listen on: 127.0.0.1 (this machine only), or 0.0.0.0 / :: (every interface, with a token)")
            }
        }
        http.port = Int(integer(h, "port", required: false, range: 1...65_535, example: "4000") ?? 4000)
        // The token's value never goes into an error: only whether it is there and long enough.
        if let e = entry(h, "token", required: false, example: "…"), !e.value.isEmpty {
            if e.value.count >= HTTPSettings.minimumTokenLength, e.value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) {
                http.token = e.value
            } else {
                // `conflict`, not `fail`: an error carries the found value, and this one is a secret.
                conflict(h, "token", "the token is \(e.value.count) characters\(e.value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) ? "" : " with spaces or non-ASCII"); at least \(HTTPSettings.minimumTokenLength) printable ASCII characters are needed",
                         "write a random token of at least \(HTTPSettings.minimumTokenLength) characters, e.g. the output of `openssl rand -hex 16`")
            }
        }
        if http.enabled, !http.isLoopback, http.token == nil, entry(h, "token", required: false, example: "")?.value.isEmpty != false {
            conflict(h, "bind", "bind = \(http.bind) lets other machines reach the API, and no token is set",
                     "set [HTTP] token (e.g. token = <output of `openssl rand -hex 16`>), or bind = 127.0.0.1")
        }
        return http
    }

    /// `[MODBUS]`: read whether or not it is enabled (a typo is found before it is switched on). A non-loopback bind is
    /// allowed: Modbus TCP has no authentication, which the summary and the start log say.
    mutating func modbus() -> ModbusSettings {
        let m = Section.modbus
        var modbus = ModbusSettings(enabled: bool(m, "enabled") ?? false)
        if let e = entry(m, "bind", required: false, example: "127.0.0.1"), !e.value.isEmpty {
            if HTTPSettings.isIPv4(e.value) || HTTPSettings.isIPv6(e.value) || e.value.lowercased() == "localhost" { modbus.bind = e.value } else {
                fail(.badValue, e, allowed: "an IP address", "'\(e.value)' is not an IP address",
                     "write the address to listen on: 127.0.0.1 (this machine only), or 0.0.0.0 / :: (every interface; Modbus has no authentication)")
            }
        }
        modbus.port = Int(integer(m, "port", required: false, range: 1...65_535, example: "5020") ?? 5020)
        modbus.unitID = Int(integer(m, "unit_id", required: false, range: 1...247, example: "1") ?? 1)
        if let e = entry(m, "word_order", required: false, example: "big-endian"), !e.value.isEmpty {
            if let order = ModbusSettings.WordOrder.spellings[e.value.lowercased()] { modbus.wordOrder = order } else {
                fail(.badValue, e, allowed: "big-endian, little-endian", "'\(e.value)' is not a word order",
                     "write word_order = big-endian (most significant register first, CLEMAP's) or word_order = little-endian (word-swapped)")
            }
        }
        modbus.maxClients = Int(integer(m, "max_clients", required: false, range: 1...1024, example: "64") ?? 64)
        modbus.idleTimeoutSeconds = Int(integer(m, "idle_timeout_sec", required: false, range: 1...3600, example: "60") ?? 60)
        modbus.outputsWritable = bool(m, "outputs_writable") ?? false
        return modbus
    }

    /// `[MQTT]`: read whether or not it is enabled (a typo is found before it is switched on); what only matters for a
    /// working client (a usable hw_serial for the defaults, the CA file) only when enabled. The password's value never
    /// goes into an error.
    mutating func powerQuality() -> PowerQualitySettings {
        let q = Section.powerQuality
        let d = PowerQualitySettings()
        var pq = PowerQualitySettings(enabled: bool(q, "enabled") ?? d.enabled)
        pq.nominalVoltage = double(q, "nominal_voltage", range: 100...480, example: "230") ?? d.nominalVoltage
        pq.dipThresholdPercent = double(q, "dip_threshold_pct", range: 50...99, example: "90") ?? d.dipThresholdPercent
        pq.swellThresholdPercent = double(q, "swell_threshold_pct", range: 101...150, example: "110") ?? d.swellThresholdPercent
        // 1…20 stays below the dip threshold's 50…99: an interruption is always deeper than a dip.
        pq.interruptionThresholdPercent = double(q, "interruption_threshold_pct", range: 1...20, example: "5") ?? d.interruptionThresholdPercent
        pq.dipHalfCycles = Int(integer(q, "dip_half_cycles", required: false, range: 1...100, example: "2") ?? Int64(d.dipHalfCycles))
        pq.swellHalfCycles = Int(integer(q, "swell_half_cycles", required: false, range: 1...100, example: "2") ?? Int64(d.swellHalfCycles))
        // Empty (as shipped) is off.
        if document.entry(forKey: "overcurrent_a", inSection: q)?.value.isEmpty == true {
            markKnown(q, "overcurrent_a")
        } else {
            pq.overcurrentAmperes = double(q, "overcurrent_a", range: 1...1000, example: "63")
        }
        pq.zeroCrossingTimeoutMs = Int(integer(q, "zero_crossing_timeout_ms", required: false, range: 10...8000, example: "100")
                                       ?? Int64(d.zeroCrossingTimeoutMs))
        pq.eventPollMs = Int(integer(q, "event_poll_ms", required: false, range: 1...1000, example: "5") ?? Int64(d.eventPollMs))
        pq.frequencyTolerancePercent = double(q, "frequency_tolerance_pct", range: 0.1...10, example: "1") ?? d.frequencyTolerancePercent
        pq.thdLimitPercent = double(q, "thd_limit_pct", range: 1...50, example: "8") ?? d.thdLimitPercent
        return pq
    }

    mutating func mqtt(serial: String?, source: String) -> MQTTSettings {
        let m = Section.mqtt
        let enabled = bool(m, "enabled") ?? false
        let tls = bool(m, "tls") ?? false
        var host = "127.0.0.1"
        if let e = entry(m, "host", required: false, example: "192.168.1.20"), !e.value.isEmpty {
            if MQTTSettings.isHost(e.value) { host = e.value } else {
                fail(.badValue, e, allowed: "a host name or IP address", "'\(e.value)' is not a host name or IP address",
                     "write the broker's name or address only (no mqtt://, port or path), e.g. host = 192.168.1.20; the port goes in port =")
            }
        }
        // Empty or absent: 1883, or 8883 with TLS, so that `tls = true` alone is enough.
        let port = entry(m, "port", required: false, example: "")?.value.isEmpty == true ? nil
            : integer(m, "port", required: false, range: 1...65_535, example: tls ? "8883" : "1883").map { Int($0) }
        var caFile: String?
        if let e = entry(m, "ca_file", required: false, example: "/etc/ssl/certs/my-ca.pem"), !e.value.isEmpty {
            caFile = MeterConfiguration.resolve(e.value, relativeTo: source)
            if !tls {
                conflict(m, "ca_file", "ca_file is set but tls = false, so the connection would not be encrypted",
                         "set tls = true (and port = 8883, the broker's TLS port), or empty ca_file")
            } else if enabled, let path = caFile, access(path, R_OK) != 0 {
                fail(.badValue, e, "'\(e.value)' cannot be read (\(path))",
                     "write the path of the PEM file holding the CA that signed the broker's certificate, or leave ca_file empty for the system's CAs")
            }
        }
        let username = entry(m, "username", required: false, example: "meter")?.value
        let password = entry(m, "password", required: false, example: "…")?.value
        var settings = MQTTSettings(enabled: enabled, host: host, port: port, tls: tls, caFile: caFile,
                                    username: username.flatMap { $0.isEmpty ? nil : $0 }, password: password.flatMap { $0.isEmpty ? nil : $0 },
                                    serial: serial.flatMap { $0.isEmpty ? nil : $0 })
        if settings.password != nil, settings.username == nil {
            // `conflict`, not `fail`: an error carries the found value, and this one is a secret.
            conflict(m, "password", "a password is set without a username", "set username = <the broker's user for this meter>, or empty password")
        }
        if let e = entry(m, "client_id", required: false, example: "clemap-edge-SE05000551"), !e.value.isEmpty {
            if e.value.utf8.count <= 65_535, e.value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) {
                settings.clientID = e.value
            } else {
                fail(.badValue, e, "'\(e.value)' is not a client id of printable ASCII without spaces",
                     "write a client id unique on the broker, e.g. client_id = clemap-edge-SE05000551, or delete the line for the default")
            }
        }
        func topic(_ key: String, example: String) -> String? {
            guard let e = entry(m, key, required: false, example: example), !e.value.isEmpty else { return nil }
            guard MQTTSettings.isPublishTopic(e.value) else {
                fail(.badValue, e, "'\(e.value)' is not a topic to publish under: no + or #, no empty level (//), no leading or trailing /, not starting with $",
                     "write topic levels separated by /, e.g. \(key) = \(example)")
                return nil
            }
            return e.value
        }
        let baseTopic = topic("base_topic", example: "clemap/SE05000551")
        if let baseTopic { settings.baseTopic = baseTopic }
        if let prefix = topic("discovery_prefix", example: "homeassistant") { settings.discoveryPrefix = prefix }
        settings.publishIntervalSeconds = Int(integer(m, "publish_interval_sec", required: false, range: 1...86_400, example: "10") ?? 10)
        settings.discovery = bool(m, "discovery") ?? true
        settings.commands = bool(m, "commands") ?? false
        if enabled {
            // The defaults name the meter by its serial: it must be there and fit a topic level and a client id.
            let usable = settings.serial.map { s in
                s.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 && $0 != "/" && $0 != "+" && $0 != "#" }
            } ?? false
            if !usable, baseTopic == nil || entry(m, "client_id", required: false, example: "")?.value.isEmpty != false {
                conflict(Section.info, "hw_serial", "[MQTT] names its default topics and client id by [INFO] hw_serial, which is "
                         + (settings.serial.map { "'\($0)', not usable in a topic level" } ?? "not set"),
                         "set [INFO] hw_serial to the meter's serial (letters, digits, - . _), e.g. hw_serial = SE05000551, or set [MQTT] base_topic and client_id")
            }
        }
        return settings
    }

    /// A path from config.ini: absolute as written, relative to the config file's folder otherwise.
    mutating func positiveDouble(_ section: String, _ key: String, unit: String, example: String) -> Double? {
        guard let e = entry(section, key, required: true, example: example) else { return nil }
        guard let x = Double(e.value), !e.value.lowercased().hasPrefix("0x") else {
            fail(.badNumber, e, allowed: "a positive number", "'\(e.value)' is not a number",
                 "write a positive decimal number in \(unit), e.g. \(example)")
            return nil
        }
        guard x.isFinite, x > 0 else {
            fail(.outOfRange, e, allowed: "a positive finite number", "'\(e.value)' is not a positive finite number",
                 "write a positive decimal number in \(unit), e.g. \(example)")
            return nil
        }
        return x
    }

    mutating func pin(_ key: String, required: Bool = true, example: String) -> Int? {
        guard let n = integer(Section.gpio, key, required: required, range: 0...53,
                              kind: "a BCM GPIO number from 0 to 53", example: example) else { return nil }
        if let e = document.entry(forKey: key, inSection: Section.gpio) { pins.append((e.key, Int(n), e.line)) }
        return Int(n)
    }

    mutating func checkPinConflicts() {
        for (index, use) in pins.enumerated() {
            guard let first = pins[..<index].first(where: { $0.pin == use.pin }),
                  let e = document.entry(forKey: use.key, inSection: Section.gpio) else { continue }
            fail(.conflict, e, "GPIO \(use.pin) is already used by \(first.key) (line \(first.line))",
                 "give each function its own pin")
        }
    }

    // MARK: Calibration and scale

    mutating func calibration(_ phase: Phase, lineFrequencyHz f: Double) -> PhaseCalibration {
        let gainLimit: Int64 = 1 << 26, offsetLimit: Int64 = 1 << 24
        // −15° rounded towards zero … φ = ω, where the register is exactly 2^27 (DS eq. 4 p.31).
        let lowest = PhaseCompensation.exactRegister(degrees: PhaseCompensation.minimumDegrees, lineFrequency: f)
        let phcal = Int64(lowest.rounded(.up))...Int64(Gain.unity)
        let maxDegrees = Fmt.fixed(PhaseCompensation.maximumDegrees(lineFrequency: f), 2)
        let hz = Fmt.number(f)

        func register(_ name: String, example: String, limit: ClosedRange<Int64>? = nil,
                      outside: ((Int64) -> (String, String))? = nil) -> Int32 {
            let key = "calib_\(phase.letter)\(name)"
            guard let n = integer(Section.meter, key, range: Int64(Int32.min)...Int64(Int32.max),
                                  kind: "a signed 32-bit integer", example: example) else { return 0 }
            if let limit, !limit.contains(n), let outside, let e = document.entry(forKey: key, inSection: Section.meter) {
                let (detail, remedy) = outside(n)
                fail(.outOfRange, e, allowed: "\(limit.lowerBound)…\(limit.upperBound)", detail, remedy)
                return 0
            }
            return Int32(n)
        }
        func gain(_ name: String, _ what: String, example: String) -> Int32 {
            register(name, example: example, limit: -gainLimit...gainLimit) { n in
                let percent = Fmt.signed(Double(n) / Gain.unity * 100, 2)
                return ("'\(n)' is a \(what) gain of \(percent) %, outside ±50 % (±\(gainLimit)); "
                        + "a register this large is almost surely a typo",
                        "check it against the meter's calibration record; the register is (factor − 1) × 2^27, "
                        + "e.g. 1342177 for +1 %")
            }
        }
        func offset(_ name: String, example: String) -> Int32 {
            register(name, example: example, limit: -offsetLimit...offsetLimit) { n in
                ("'\(n)' is an RMS offset outside ±2^24 (±\(offsetLimit)); real offsets are a few hundred codes at most",
                 "check it against the meter's calibration record, or write 0 for no offset")
            }
        }

        return PhaseCalibration(
            igain: gain("igain", "current", example: "2069224"),
            vgain: gain("vgain", "voltage", example: "260287"),
            pgain: gain("pgain", "power", example: "-13889"),
            phcal0: register("phcal0", example: "-63482710", limit: phcal) { n in
                let side = n > phcal.upperBound ? "beyond +\(maxDegrees)°" : "beyond −15°"
                return ("'\(n)' is a phase compensation \(side) at \(hz) Hz, outside the chip's −15°…+\(maxDegrees)° "
                        + "(registers \(phcal.lowerBound)…\(phcal.upperBound), DS eq. 4)",
                        "check it against the meter's calibration record and line_frequency_hz; "
                        + "the register is (sin(φ−ω)+sin ω)/sin(2ω−φ) × 2^27, ω = 2π·f/8000")
            },
            irmsos: offset("irmsos", example: "35"),
            vrmsos: offset("vrmsos", example: "14"),
            wattos: register("wattos", example: "4"),
            varos: register("varos", example: "1"))
    }

    mutating func scale(_ phase: Phase) -> PhaseScale {
        func value(_ name: String, _ unit: String, _ example: String) -> Double {
            positiveDouble(Section.meter, "ch\(phase.letter)_\(name)", unit: unit, example: example) ?? 1
        }
        return PhaseScale(
            ampsPerLSB: value("irms", "A per LSB", "1.5844520367023384e-06"),
            voltsPerLSB: value("vrms", "V per LSB", "1.3294291998883081e-05"),
            wattsPerLSB: value("watt", "W per LSB", "0.0028271847549624046"),
            varsPerLSB: value("var", "var per LSB", "0.0028271847549624046"),
            voltAmpsPerLSB: value("va", "VA per LSB", "0.0028271847549624046"),
            watthr: value("watthr", "Wh per HI LSB × 8000", "0.0064334159757366725"),
            varhr: value("varhr", "varh per HI LSB × 8000", "0.0064334159757366725"),
            vahr: value("vahr", "VAh per HI LSB × 8000", "0.0064334159757366725"))
    }
}
