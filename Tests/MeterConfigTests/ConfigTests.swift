// SPDX-License-Identifier: Apache-2.0
import ADE9000
import MeterReadings
import MeterConfig
import MeterGPIO
import MeterTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Fixtures

/// The repo root is three levels up from Tests/MeterCoreTests/ConfigTests.swift; `shared` sits beside it.
private let repoRoot: String = {
    var path = Substring(#filePath)
    for _ in 0..<3 { path = path[..<path.lastIndex(of: "/")!] }
    return String(path)
}()
private let referencePath = repoRoot + "/../shared/reference/clemap-config.ini"
private let shippedPath = repoRoot + "/calibration/config.ini"

private func readFile(_ path: String) -> String {
    guard let file = fopen(path, "rb") else { Issue.record("cannot open \(path)"); return "" }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        bytes += buffer[0..<n]
        if n < buffer.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private let referenceText = readFile(referencePath)

/// The reference file with the line `key = …` replaced by `replacement` (or removed when nil).
private func reference(replacing key: String, with replacement: String?) -> String {
    var lines = referenceText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let index = lines.firstIndex(where: { $0.hasPrefix(key + " =") }) else {
        Issue.record("no line '\(key) = …' in the reference file")
        return referenceText
    }
    if let replacement { lines[index] = replacement } else { lines.remove(at: index) }
    return lines.joined(separator: "\n")
}

/// 1-based line of `key = …` in `text`.
private func line(of key: String, in text: String) -> Int {
    (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(key + " =") } ?? -2) + 1
}

/// Loads `text` from a real file; returns the configuration or the errors.
private func load(_ text: String, in dir: TemporaryFolder, name: String = "config.ini")
    -> (config: MeterConfiguration?, errors: [ConfigError], path: String) {
    let path = dir.write(name, text)
    do { return (try MeterConfiguration.load(path: path), [], path) } catch { return (nil, error.errors, path) }
}

/// DS eq. 4 p.31, written here independently of the code under test.
private func phcalRegister(degrees: Double, hz: Double) -> Double {
    let w = 2 * Double.pi * hz / 8000, phi = degrees * .pi / 180
    return (sin(phi - w) + sin(w)) / sin(2 * w - phi) * 134_217_728
}

/// The reference meter's registers (clemap-config.ini, [METER_SERVICE]).
private let referenceCalibration: [Phase: PhaseCalibration] = [
    .a: PhaseCalibration(igain: 2069224, vgain: 260287, pgain: -13889, phcal0: -63482710,
                         irmsos: 35, vrmsos: 14, wattos: 4, varos: 1),
    .b: PhaseCalibration(igain: 1264722, vgain: -259825, pgain: -330, phcal0: -58592471,
                         irmsos: 20, vrmsos: 14, wattos: 2, varos: 1),
    .c: PhaseCalibration(igain: 1339782, vgain: -12329, pgain: -3307, phcal0: -56192894,
                         irmsos: 33, vrmsos: 14, wattos: 1, varos: 1),
]
private let referenceScale = PhaseScale(
    ampsPerLSB: 1.5844520367023384e-06, voltsPerLSB: 1.3294291998883081e-05,
    wattsPerLSB: 0.0028271847549624046, varsPerLSB: 0.0028271847549624046, voltAmpsPerLSB: 0.0028271847549624046,
    watthr: 0.0064334159757366725, varhr: 0.0064334159757366725, vahr: 0.0064334159757366725)

/// Everything about config.ini: `swift test --filter MeterCoreTests.ConfigTests`.
@Suite("config.ini") struct ConfigTests {}

// MARK: - The two real files

extension ConfigTests {
    @Suite("config.ini: the reference and the shipped file")
    struct Files {
        @Test func referenceFileHasTwentyFourCalibrationAndScaleKeys() throws {
            let document = try INIDocument.load(path: referencePath)
            let keys = document.entries(inSection: "METER_SERVICE").map(\.key)
            #expect(keys.filter { $0.hasPrefix("calib_") }.count == 24)
            #expect(keys.filter { $0.hasPrefix("ch") }.count == 24)
        }

        @Test func referenceParsesWithExactValues() throws {
            let config = try MeterConfiguration.load(path: referencePath)
            #expect(config.source == referencePath)
            #expect(config.hwSerial == "SE05000551")
            #expect(config.sensorID == "672a3431d8dff0014ef0283")
            #expect(config.timezone == "Europe/Zurich")
            #expect(config.controllerModel == "ade9000")
            #expect(config.currentSensorRating == 42)
            #expect(config.nibVersion == 3)
            #expect(config.currentSensorType == 1)
            #expect(config.calibration[.a]?.igain == 2069224)
            #expect(config.calibration[.a]?.phcal0 == -63482710)
            #expect(config.scales[.a]?.ampsPerLSB == 1.5844520367023384e-06)
            #expect(config.calibration == referenceCalibration)
            #expect(config.scales == [.a: referenceScale, .b: referenceScale, .c: referenceScale])
            #expect(config.gpio == GPIOPins(
                outputPinSetup: "ab", pinOutA: 21, pinOutB: 20, defaultInputValue: 0, inputPinSetup: "b",
                pinInB: 16, ledPin: 25, resetButtonPin: 7, chip: nil))
            #expect(config.dataGatheringEnabled)
            #expect(config.gatheringIntervalSeconds == 60)
            #expect(config.persistenceIntervalSeconds == 1_209_600)
            #expect(config.dbPath == "DB/data_gathering.db")
            #expect(config.resolvedDBPath == repoRoot + "/../shared/reference/DB/data_gathering.db")
            #expect(String(describing: config.logLevel) == "info")  // the test target does not depend on swift-log
            // The optional keys of ours, absent in the reference: defaults.
            #expect(config.lineFrequencyHz == 50)
            #expect(config.spiDevice == "/dev/spidev0.0")
            #expect(config.spiSpeedHz == 5_000_000)
            #expect(config.spiMode == 3)
            #expect(config.unknownKeys.isEmpty)
        }

        @Test func shippedFileParsesWithTheReferenceCalibration() throws {
            let config = try MeterConfiguration.load(path: shippedPath)
            #expect(config.hwSerial == "SIMULATED")
            #expect(config.calibration == referenceCalibration)
            #expect(config.scales == [.a: referenceScale, .b: referenceScale, .c: referenceScale])
            #expect(config.currentSensorRating == 42)
            #expect(config.nibVersion == 3)
            #expect(config.gpio.pinOutA == 21 && config.gpio.pinInB == 16 && config.gpio.resetButtonPin == 7)
            #expect(config.lineFrequencyHz == 50 && config.spiMode == 3 && config.spiSpeedHz == 5_000_000)
            #expect(config.resolvedDBPath == repoRoot + "/calibration/DB/data_gathering.db")
            #expect(config.unknownKeys.isEmpty)
        }

        @Test(arguments: [referencePath, shippedPath])
        func renderRoundTripsByteForByte(_ path: String) throws {
            let text = readFile(path)
            #expect(!text.isEmpty)
            #expect(try INIDocument(parsing: text, source: path).render() == text)
            #expect(try INIDocument.load(path: path).render() == text)
        }

        @Test func summaryExplainsTheReferenceInWords() throws {
            let lines = try MeterConfiguration.load(path: referencePath).summary()
            let all = lines.joined(separator: "\n")
            #expect(all.contains("igain 2069224 (+1.54 % current gain)"))
            #expect(all.contains("pgain -13889 (\u{2212}0.01 % power gain)"))
            #expect(all.contains("phcal0 -63482710 = phase compensation \u{2212}4.03° at 50 Hz"))
            #expect(all.contains("83.50 A rms at full scale"))
            #expect(all.contains("GPIO 21"))
            #expect(all.contains(repoRoot + "/../shared/reference/DB/data_gathering.db"))
            #expect(all.contains("1209600 s (14 days)"))
            #expect(all.contains("unknown keys: none"))
        }
    }
}

// MARK: - INIDocument

extension ConfigTests {
    @Suite("INIDocument: parsing and rewriting")
    struct Document {
        @Test(arguments: [
            "", "\n", "[A]", "[A]\n", "[A]\r\nk = v\r\n", "\u{FEFF}[A]\nk=v", "[A]\n\n\n# c\n; d\n  k =  v  \n",
            "[A]\nk = v # not a comment\nz = Europe/Zurich", "[A]\nk =\nx = a = b\n",
        ])
        func renderIsIdentity(_ text: String) throws {
            #expect(try INIDocument(parsing: text, source: "t.ini").render() == text)
        }

        @Test func keepsLinesKindsAndValues() throws {
            let text = "# head\n\n[INFO]\ntimezone = Europe/Zurich\n; c\nx=a # b\nempty =\n"
            let document = try INIDocument(parsing: text, source: "t.ini")
            #expect(document.lines.map(\.number) == Array(1...7))
            #expect(document.lines.map(\.kind) == [
                .comment, .blank, .section(name: "INFO"), .entry(key: "timezone", value: "Europe/Zurich"), .comment,
                .entry(key: "x", value: "a # b"), .entry(key: "empty", value: ""),
            ])
            #expect(document.value(forKey: "timezone", inSection: "INFO") == "Europe/Zurich")
            #expect(document.value(forKey: "TimeZone", inSection: "INFO") == "Europe/Zurich")  // keys are case-insensitive
            #expect(document.value(forKey: "timezone", inSection: "info") == nil)              // sections are not
            #expect(document.headerLine(ofSection: "INFO") == 3)
            #expect(document.entry(forKey: "x", inSection: "INFO")?.line == 6)
        }

        @Test func settingValueChangesOnlyThatLine() throws {
            let document = try INIDocument(parsing: referenceText, source: referencePath)
            let edited = document.settingValue("2070000", forKey: "calib_aigain", inSection: "METER_SERVICE")
            let before = referenceText.split(separator: "\n", omittingEmptySubsequences: false)
            let after = edited.render().split(separator: "\n", omittingEmptySubsequences: false)
            #expect(before.count == after.count)
            let changed = before.indices.filter { before[$0] != after[$0] }
            #expect(changed == [line(of: "calib_aigain", in: referenceText) - 1])
            #expect(after[changed[0]] == "calib_aigain = 2070000")
            #expect(edited.value(forKey: "calib_aigain", inSection: "METER_SERVICE") == "2070000")
            #expect(try MeterConfiguration(document: INIDocument(parsing: edited.render(), source: "x.ini"))
                .calibration[.a]?.igain == 2070000)
            #expect(document.render() == referenceText)  // the original is a value, untouched
        }

        @Test func settingValueKeepsThePrefixAndLineEnd() throws {
            let document = try INIDocument(parsing: "[S]\r\nk=1\r\nj  =\t 2\r\ne =\r\n", source: "t.ini")
            let edited = document.settingValue("10", forKey: "k", inSection: "S")
                .settingValue("20", forKey: "J", inSection: "S")
                .settingValue("30", forKey: "e", inSection: "S")
            #expect(edited.render() == "[S]\r\nk=10\r\nj  =\t 20\r\ne = 30\r\n")
        }

        @Test func settingValueAppendsMissingKeysAndSections() throws {
            let text = "[A]\nx = 1\n\n# about B\n[B]\ny = 2\n"
            let document = try INIDocument(parsing: text, source: "t.ini")
            let edited = document.settingValue("5", forKey: "z", inSection: "A")
                .settingValue("6", forKey: "w", inSection: "C")
            #expect(edited.render() == "[A]\nx = 1\nz = 5\n\n# about B\n[B]\ny = 2\n\n[C]\nw = 6\n")
            #expect(edited.lines.map(\.number) == Array(1...edited.lines.count))
            #expect(edited.entry(forKey: "w", inSection: "C")?.line == 10)
            let noNewline = try INIDocument(parsing: "[A]", source: "t.ini").settingValue("1", forKey: "k", inSection: "A")
            #expect(noNewline.render() == "[A]\nk = 1")
        }

        @Test func duplicateKey() throws {
            let text = reference(replacing: "calib_cwattos", with: "calib_cwattos = 1\ncalib_aigain = 5")
            let error = #expect(throws: ConfigErrors.self) { try INIDocument(parsing: text, source: "config.ini") }
            let e = try #require(error?.errors.first)
            #expect(error?.errors.count == 1)
            #expect(e.code == .duplicate)
            #expect(e.line == line(of: "calib_cwattos", in: text) + 1)
            #expect(e.section == "METER_SERVICE" && e.key == "calib_aigain")
            #expect(e.description == "config.ini:\(e.line!) [METER_SERVICE] calib_aigain: 'calib_aigain' is set a second time "
                    + "in [METER_SERVICE] (first at line 31). Fix: keep one of the two lines and delete the other")
        }

        @Test func duplicateSection() throws {
            let text = "[A]\nx = 1\n[B]\n[A]\ny = 2\n"
            let error = #expect(throws: ConfigErrors.self) { try INIDocument(parsing: text, source: "c.ini") }
            #expect(error?.errors.map(\.code) == [.duplicate])
            #expect(error?.errors.first?.line == 4)
            #expect(error?.errors.first?.description.hasPrefix("c.ini:4 [A]: section [A] appears a second time (first at line 1)") == true)
        }

        @Test func entryBeforeAnySection() throws {
            let error = #expect(throws: ConfigErrors.self) { try INIDocument(parsing: "# c\nlevel = info\n[LOGGING]\n", source: "c.ini") }
            let e = try #require(error?.errors.first)
            #expect(e.code == .malformedLine)
            #expect(e.line == 2)
            #expect(e.description == "c.ini:2 level: 'level = info' comes before any [SECTION] header. "
                    + "Fix: move it below the header of the section it belongs to, e.g. [METER_SERVICE]")
        }

        @Test(arguments: [
            ("[A]\ncalib_aigain: 5\n", "Fix: use = instead of :, e.g. calib_aigain = 5"),
            ("[A]\njust words\n", "Fix: write key = value inside a [SECTION]"),
            ("[A\n", "is not a section header"),
            ("[A] x\n", "is not a section header"),
            ("[]\n", "is not a section header"),
            ("[A]\n= 5\n", "has a value but no key"),
        ])
        func malformedLines(_ text: String, _ expected: String) throws {
            let error = #expect(throws: ConfigErrors.self) { try INIDocument(parsing: text, source: "c.ini") }
            let e = try #require(error?.errors.first)
            #expect(e.code == .malformedLine)
            #expect(e.description.hasPrefix("c.ini:"))
            #expect(e.description.contains(expected))
        }

        @Test func allSyntaxErrorsAreCollected() throws {
            let error = #expect(throws: ConfigErrors.self) {
                try INIDocument(parsing: "k = 1\n[A]\nbad line\nx = 1\nx = 2\n", source: "c.ini")
            }
            #expect(error?.errors.map(\.line) == [1, 3, 5])
            #expect(error?.description.split(separator: "\n").count == 3)
        }
    }
}

// MARK: - Validation

extension ConfigTests {
    @Suite("MeterConfiguration: validation and errors")
    struct Validation {
        @Test func missingKeyNamesTheSectionHeaderLine() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let (config, errors, path) = load(reference(replacing: "calib_bvgain", with: nil), in: dir)
            #expect(config == nil)
            let e = try #require(errors.first)
            #expect(errors.count == 1)
            #expect(e.code == .missingKey)
            #expect(e.line == 10)
            #expect(e.section == "METER_SERVICE")
            #expect(e.key == "calib_bvgain")
            #expect(e.file == path)
            #expect(e.description.hasPrefix("\(path):10 [METER_SERVICE] calib_bvgain: missing"))
        }

        @Test func missingSectionHasNoLine() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            var text = referenceText
            for key in ["[DATA_GATHERING_MODULE]", "gathering_interval_sec = 60", "persistence_interval_sec = 1209600",
                        "db_path = DB/data_gathering.db"] {
                text = text.replacing(key + "\n", with: "")
            }
            let (_, errors, path) = load(text, in: dir)
            #expect(errors.map(\.key) == ["persistence_interval_sec", "db_path"])  // gathering_interval_sec has a default
            #expect(errors.allSatisfy { $0.code == .missingKey && $0.line == nil && $0.section == "DATA_GATHERING_MODULE" })
            #expect(errors.first?.description.hasPrefix("\(path) [DATA_GATHERING_MODULE] persistence_interval_sec: missing: "
                                                        + "the file has no [DATA_GATHERING_MODULE] section") == true)
        }

        @Test func badNumberNamesTheKeyLine() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let (_, errors, path) = load(reference(replacing: "calib_aigain", with: "calib_aigain = 2069224x"), in: dir)
            let e = try #require(errors.first)
            #expect(errors.count == 1)
            #expect(e.code == .badNumber)
            #expect(e.line == 31)
            #expect(e.found == "2069224x")
            #expect(e.description == "\(path):31 [METER_SERVICE] calib_aigain: '2069224x' is not an integer. "
                    + "Fix: write a signed 32-bit integer, e.g. 2069224")
        }

        @Test(arguments: [
            ("calib_aigain", "1.5", ConfigError.Code.badNumber), ("calib_aigain", "", .badNumber),
            ("calib_aigain", "1_000", .badNumber), ("calib_aigain", "0x10", .badNumber),
            ("calib_awattos", "2147483648", .outOfRange), ("calib_awattos", "-2147483649", .outOfRange),
            ("calib_awattos", "99999999999999999999", .outOfRange),
            ("cha_irms", "abc", .badNumber), ("cha_irms", "0", .outOfRange), ("cha_irms", "-1e-6", .outOfRange),
            ("cha_irms", "inf", .outOfRange), ("cha_irms", "nan", .outOfRange),
            ("current_sensor_rating", "0", .outOfRange), ("controller_model", "ade7953", .badValue),
            ("nib_version", "v3", .badNumber),
            ("pin_out_a", "54", .outOfRange), ("led_pin", "-1", .outOfRange), ("default_input_value", "2", .outOfRange),
            ("output_pin_setup", "abc", .badValue), ("data_gathering_module", "yes", .badValue),
            ("level", "verbose", .badValue), ("gathering_interval_sec", "0", .outOfRange),
            ("persistence_interval_sec", "-5", .outOfRange), ("db_path", "", .badValue),
        ])
        func rejectsBadValue(_ key: String, _ value: String, _ code: ConfigError.Code) throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let text = reference(replacing: key, with: "\(key) = \(value)")
            let (_, errors, _) = load(text, in: dir)
            #expect(errors.map(\.code) == [code])
            #expect(errors.first?.line == line(of: key, in: text))
            #expect(errors.first?.key == key)
            #expect(errors.first?.description.contains(". Fix: ") == true)
        }

        @Test(arguments: [
            ("calib_aigain", "67108864", true), ("calib_aigain", "67108865", false), ("calib_avgain", "-67108864", true),
            ("calib_avgain", "-67108865", false), ("calib_apgain", "90000000", false),
            ("calib_airmsos", "16777216", true), ("calib_airmsos", "16777217", false), ("calib_avrmsos", "-16777217", false),
            ("calib_awattos", "2147483647", true), ("calib_avaros", "-2147483648", true),
        ])
        func registerLimits(_ key: String, _ value: String, _ accepted: Bool) throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let (config, errors, _) = load(reference(replacing: key, with: "\(key) = \(value)"), in: dir)
            #expect((config != nil) == accepted)
            if !accepted {
                #expect(errors.map(\.code) == [.outOfRange])
                #expect(errors.first?.key == key)
            }
        }

        @Test func outOfRangeGainSaysTypo() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let (_, errors, path) = load(reference(replacing: "calib_aigain", with: "calib_aigain = 90000000"), in: dir)
            let e = try #require(errors.first)
            #expect(e.code == .outOfRange)
            #expect(e.allowed == "-67108864…67108864")
            #expect(e.description.hasPrefix("\(path):31 [METER_SERVICE] calib_aigain: '90000000' is a current gain of +67.06 %, "
                                            + "outside ±50 %"))
            #expect(e.description.contains("almost surely a typo"))
        }

        /// The phcal0 bounds follow DS eq. 4 at the configured frequency: −15° … +ω (2.25° at 50 Hz, 2.7° at 60 Hz).
        @Test(arguments: [50.0, 60.0])
        func phaseCompensationBounds(_ hz: Double) throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let upper = Int(phcalRegister(degrees: 360 * hz / 8000, hz: hz).rounded())
            #expect(upper == 1 << 27)
            let lower = Int(phcalRegister(degrees: -15, hz: hz).rounded(.up))
            let frequency = "line_frequency_hz = \(Int(hz))\ncalib_aphcal0 = "
            for (register, accepted) in [(upper, true), (upper + 1, false), (lower, true), (lower - 1, false), (0, true)] {
                let (config, errors, path) = load(reference(replacing: "calib_aphcal0", with: frequency + "\(register)"), in: dir)
                #expect((config != nil) == accepted, "\(register) at \(hz) Hz")
                if !accepted {
                    let e = try #require(errors.first)
                    #expect(errors.count == 1)
                    #expect(e.code == .outOfRange)
                    #expect(e.allowed == "\(lower)…\(upper)")
                    #expect(e.description.hasPrefix("\(path):\(37) [METER_SERVICE] calib_aphcal0: '\(register)' is a phase compensation "
                                                    + (register > upper ? "beyond +\(hz == 50 ? "2.25" : "2.70")°" : "beyond −15°")))
                }
            }
        }

        @Test func phaseCompensationBeyondPlus2Point25AtFiftyHertz() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let register = Int(phcalRegister(degrees: 2.5, hz: 50))  // fine at 60 Hz (limit 2.7°), not at 50 Hz
            let (_, errors, _) = load(reference(replacing: "calib_bphcal0", with: "calib_bphcal0 = \(register)"), in: dir)
            #expect(errors.map(\.code) == [.outOfRange])
            #expect(errors.first?.description.contains("beyond +2.25° at 50 Hz") == true)
            let at60 = reference(replacing: "calib_bphcal0", with: "calib_bphcal0 = \(Int(phcalRegister(degrees: 2.5, hz: 60)))")
            #expect(load(at60.replacing("nib_version = 3", with: "nib_version = 3\nline_frequency_hz = 60"), in: dir).config != nil)
        }

        @Test func summaryInvertsPhaseCompensation() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            // DS values (ade9000.md §3.5): −1° → −24,412,285 and +2° → 107,377,249 at 50 Hz.
            #expect(Int(phcalRegister(degrees: -1, hz: 50).rounded()) == -24_412_285)
            #expect(Int(phcalRegister(degrees: 2, hz: 50).rounded()) == 107_377_249)
            var text = reference(replacing: "calib_aphcal0", with: "calib_aphcal0 = -24412285")
            text = text.replacing("calib_bphcal0 = -58592471", with: "calib_bphcal0 = 107377249")
            let summary = try #require(load(text, in: dir).config).summary().joined(separator: "\n")
            #expect(summary.contains("phcal0 -24412285 = phase compensation \u{2212}1.00° at 50 Hz (corrects a current that leads"))
            #expect(summary.contains("phcal0 107377249 = phase compensation +2.00° at 50 Hz (corrects a current that lags"))
        }

        @Test func unknownKeyIsKeptAndReported() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let text = reference(replacing: "nib_version", with: "nib_version = 3\nfavourite_colour = green")
            let (config, errors, _) = load(text + "\n[EXTRA]\nthing = 1\n", in: dir)
            #expect(errors.isEmpty)
            let c = try #require(config)
            #expect(c.unknownKeys == [
                .init(section: "METER_SERVICE", key: "favourite_colour", line: 14),
                .init(section: "EXTRA", key: "thing", line: line(of: "thing", in: text + "\n[EXTRA]\nthing = 1\n")),
            ])
            #expect(c.document.value(forKey: "favourite_colour", inSection: "METER_SERVICE") == "green")
            #expect(c.document.render() == text + "\n[EXTRA]\nthing = 1\n")
            #expect(c.summary().last?.contains("[METER_SERVICE] favourite_colour (line 14)") == true)
        }

        @Test func allErrorsAreCollected() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            var text = reference(replacing: "calib_aigain", with: "calib_aigain = 2069224x")
            text = text.replacing("cha_vrms = 1.3294291998883081e-05", with: "cha_vrms = -1")
            let (_, errors, path) = load(text, in: dir)
            #expect(errors.count == 2)
            #expect(errors.map(\.key) == ["calib_aigain", "cha_vrms"])
            #expect(errors.map(\.line) == [31, line(of: "cha_vrms", in: text)])
            do {
                _ = try MeterConfiguration.load(path: path)
            } catch {
                #expect(error.description.split(separator: "\n").count == 2)
                #expect(error.count == 2)
            }
        }

        @Test func pinUsedTwiceIsAConflict() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let text = reference(replacing: "led_pin", with: "led_pin = 21")
            let (_, errors, _) = load(text, in: dir)
            #expect(errors.map(\.code) == [.conflict])
            #expect(errors.first?.line == line(of: "led_pin", in: text))
            #expect(errors.first?.description.contains("GPIO 21 is already used by pin_out_a") == true)
        }

        @Test func chipResetPinIsOptionalAndChecked() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            #expect(try #require(load(referenceText, in: dir).config).gpio.chipResetPin == nil)
            let valid = reference(replacing: "reset_button_pin", with: "reset_button_pin = 7\nchip_reset_pin = 24")
            let config = try #require(load(valid, in: dir).config)
            #expect(config.gpio.chipResetPin == 24)
            #expect(config.summary().contains { $0.contains("ADE9000 RESET GPIO 24") })
            for bad in ["54", "-1", "24x", "GPIO24"] {
                let text = reference(replacing: "reset_button_pin", with: "reset_button_pin = 7\nchip_reset_pin = \(bad)")
                let (_, errors, path) = load(text, in: dir)
                #expect(errors.map(\.key) == ["chip_reset_pin"], "\(bad)")
                #expect(errors.first?.line == line(of: "chip_reset_pin", in: text))
                let message = errors.first?.description ?? ""
                #expect(message.contains("\(path):\(line(of: "chip_reset_pin", in: text))"), "\(message)")
                #expect(message.contains("BCM GPIO number from 0 to 53"), "\(message)")
            }
            // A pin another function already has: the LED's.
            let clash = reference(replacing: "reset_button_pin", with: "reset_button_pin = 7\nchip_reset_pin = 25")
            let (_, errors, _) = load(clash, in: dir)
            #expect(errors.map(\.code) == [.conflict])
            #expect(errors.first?.key == "chip_reset_pin")
            #expect(errors.first?.line == line(of: "chip_reset_pin", in: clash))
            #expect(errors.first?.description.contains("GPIO 25 is already used by led_pin") == true)
            #expect(errors.first?.description.contains("give each function its own pin") == true)
        }

        @Test func inputAPinRequiredOnlyWhenFitted() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let text = reference(replacing: "input_pin_setup", with: "input_pin_setup = ab")
            #expect(load(text, in: dir).errors.map(\.key) == ["pin_in_a"])
            let fitted = load(text.replacing("pin_in_b = 16", with: "pin_in_b = 16\npin_in_a = 12"), in: dir)
            #expect(fitted.config?.gpio.pinInA == 12)
        }

        @Test(arguments: [
            ("DB/data_gathering.db", "/DB/data_gathering.db"), ("./x.db", "/x.db"), ("/var/lib/clemap/x.db", nil),
        ])
        func relativeDBPathResolvesAgainstTheConfigFolder(_ dbPath: String, _ suffix: String?) throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let text = reference(replacing: "db_path", with: "db_path = \(dbPath)")
            let config = try #require(load(text, in: dir, name: "etc/config.ini").config)
            #expect(config.dbPath == dbPath)
            #expect(config.resolvedDBPath == (suffix.map { dir.path + "/etc" + $0 } ?? dbPath))
        }

        @Test func optionalKeysOfOurs() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            let extra = "nib_version = 3\nline_frequency_hz = 60\nspi_device = /dev/spidev1.0\nspi_speed_hz = 1000000\nspi_mode = 0"
            var text = reference(replacing: "nib_version", with: extra)
            text = text.replacing("reset_button_pin = 7", with: "reset_button_pin = 7\ngpio_chip = gpiochip4")
            let config = try #require(load(text, in: dir).config)
            #expect(config.lineFrequencyHz == 60 && config.spiDevice == "/dev/spidev1.0")
            #expect(config.spiSpeedHz == 1_000_000 && config.spiMode == 0 && config.gpio.chip == "gpiochip4")
            let bad = reference(replacing: "nib_version", with: "nib_version = 3\nline_frequency_hz = 55\nspi_speed_hz = 30000000")
            #expect(load(bad, in: dir).errors.map(\.key) == ["line_frequency_hz", "spi_speed_hz"])
        }

        @Test func missingFileIsUnreadable() throws {
            let dir = TemporaryFolder(prefix: "clemap-config-tests")
            for path in [dir.path + "/nope.ini", dir.path] {
                let error = #expect(throws: ConfigErrors.self) { try MeterConfiguration.load(path: path) }
                let e = try #require(error?.errors.first)
                #expect(e.code == .unreadable)
                #expect(e.file == path)
                #expect(e.description.hasPrefix(path + ": "))
                #expect(e.description.contains("--config"))
                #expect(ConfigError.Code.unreadable ~= e)
            }
        }
    }
}
