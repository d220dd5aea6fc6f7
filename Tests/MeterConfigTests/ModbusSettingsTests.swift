// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[MODBUS]`: off by default, on loopback port 5020 (CLEMAP's) when switched on; every key read and checked, each
/// error naming `file:line [MODBUS] key` and the fix.
@Suite struct ModbusSettingsTests {
    /// The shipped file with `[MODBUS]` replaced by `lines` (none: the section removed).
    func configuration(_ lines: [String]?) throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        let text = Fixtures.config(shipped, replacingSection: "MODBUS", with: lines)
        return try MeterConfiguration(parsing: text, source: "/etc/clemap-edge/config.ini")
    }

    @Test func theShippedFileAndAnAbsentSectionAreOffOnLoopbackPort5020() throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        #expect(shipped.modbus == ModbusSettings())
        #expect(shipped.modbus == ModbusSettings(enabled: false, bind: "127.0.0.1", port: 5020, unitID: 1, wordOrder: .bigEndian,
                                                 maxClients: 64, idleTimeoutSeconds: 60, outputsWritable: false))
        #expect(shipped.unknownKeys.isEmpty, "\(shipped.unknownKeys)")
        #expect(try configuration(nil).modbus == ModbusSettings())
        #expect(shipped.summary().contains("modbus: off"))
    }

    @Test func everyKeyIsRead() throws {
        let all = try configuration(["enabled = true", "bind = ::", "port = 502", "unit_id = 247", "word_order = little-endian",
                                     "max_clients = 8", "idle_timeout_sec = 5", "outputs_writable = true"])
        #expect(all.modbus == ModbusSettings(enabled: true, bind: "::", port: 502, unitID: 247, wordOrder: .littleEndian,
                                             maxClients: 8, idleTimeoutSeconds: 5, outputsWritable: true))
        #expect(all.unknownKeys.isEmpty)
        let summary = all.summary().joined(separator: "\n")
        #expect(summary.contains("modbus: on, TCP [::]:502 (reachable from the network, no authentication), unit 247, little-endian, "
                                 + "up to 8 clients, idle 5 s, outputs writable (20100/20101)"), "\(summary)")
        let loopback = try configuration(["enabled = true"]).summary().joined(separator: "\n")
        #expect(loopback.contains("modbus: on, TCP 127.0.0.1:5020 (loopback only), unit 1, big-endian, up to 64 clients, idle 60 s, read only"))
    }

    @Test(arguments: [
        ("big-endian", ModbusSettings.WordOrder.bigEndian), ("big", .bigEndian), ("ABCD", .bigEndian),
        ("little-endian", .littleEndian), ("Little", .littleEndian), ("word-swapped", .littleEndian), ("cdab", .littleEndian),
    ])
    func wordOrderSpellings(_ text: String, _ order: ModbusSettings.WordOrder) throws {
        #expect(try configuration(["word_order = \(text)"]).modbus.wordOrder == order)
    }

    /// A non-loopback bind is allowed (Modbus has no authentication; the summary says so), unlike `[HTTP]` without a token.
    @Test func aNetworkBindIsAllowedAndSaysItHasNoAuthentication() throws {
        let open = try configuration(["enabled = true", "bind = 0.0.0.0"]).modbus
        #expect(!open.isLoopback)
        #expect(open.summary.contains("reachable from the network, no authentication"))
    }

    @Test func badValuesNameFileLineSectionKeyAndTheFix() throws {
        do {
            _ = try configuration(["enabled = yes", "bind = my-laptop", "port = 70000", "unit_id = 0", "word_order = middle",
                                   "max_clients = 0", "idle_timeout_sec = 9000", "outputs_writable = 1"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            for (key, words) in [("enabled", "'yes' is not true or false"), ("bind", "'my-laptop' is not an IP address"),
                                 ("port", "1…65535"), ("unit_id", "1…247"), ("word_order", "'middle' is not a word order"),
                                 ("max_clients", "1…1024"), ("idle_timeout_sec", "1…3600"), ("outputs_writable", "'1' is not true or false")] {
                #expect(text.contains("[MODBUS] \(key)") && text.contains(words), "\(key): \(text)")
            }
            #expect(text.contains("/etc/clemap-edge/config.ini:"), "\(text)")
            #expect(text.contains("word_order = big-endian") && text.contains("word_order = little-endian"), "\(text)")
            #expect(error.errors.count == 8, "\(text)")
        }
    }
}
