// SPDX-License-Identifier: Apache-2.0
import ADE9000
import Foundation
import MeterMQTT
import MeterReadings
import Testing

/// The bodies of the meter's messages: the vocabulary's keys, sorted; full precision for stored rows, the meter's
/// resolution for the live state; `null` for what has no value.
@Suite struct MQTTPayloadsTests {
    @Test func theStateIsTheReadingAsReadJSONPrintsIt() throws {
        let reading = Reading(time: 1_796_550_214.0191, freq: 50.00004,
                              phases: [.init(v: 233.00049, i: 2.1000004, p: 481.8714, q: 84.9653, s: 489.3012, pf: 0.984812),
                                       .init(v: 236, i: 18.5, p: -4365.9994, q: 0.0031, s: 4365.9961, pf: -1),
                                       .init(v: 233, i: 0, p: 0, q: 0, s: 0, pf: .nan)],
                              energy: [.init(wh: 0.1338514, varh: 0.0236, vah: 0.1359), .init(wh: -1.2127781, varh: 0, vah: 1.2127781),
                                       .init(wh: 0, varh: 0, vah: 0)],
                              temperature: 34.9961)
        let payload = try MQTTPayloads.state(reading)
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.hasPrefix(#"{"freq":50,"l1_i":2.1,"l1_p":481.871,"l1_pf":0.98481,"l1_q":84.965,"l1_s":489.301,"l1_v":233,"#), "\(text)")
        #expect(text.contains(#""l2_p":-4365.999"#) && text.contains(#""l2_wh":-1.212778"#), "\(text)")
        #expect(text.contains(#""l3_pf":null"#) && text.contains(#""temp_c":34.996"#) && text.hasSuffix(#""time":1796550214.019}"#), "\(text)")
        let keys = try object(payload).keys.sorted()
        #expect(keys == reading.fields.map(\.name).sorted())
    }

    @Test func aMinuteHoldsEveryColumnAtFullPrecision() throws {
        let row = sampleRow()
        let payload = try MQTTPayloads.minute(row)
        let json = try object(payload)
        #expect(Set(json.keys) == Set(MinuteRow.columns))
        #expect(json["l1_v"] as? Double == 233.0001 && json["duration_s"] as? Double == 60.000001)
        #expect(json["l3_pf"] is NSNull && json["temp_c"] is NSNull && json["input_b"] as? Int == 1 && json["flags"] as? Int == 4)
        #expect(try JSONDecoder().decode(MinuteRow.self, from: Data(payload)).time == row.time)
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.hasPrefix(#"{"duration_s":"#), "keys sorted: \(text)")
    }

    @Test func energyHoldsThePhasesAndTheirTotals() throws {
        let totals: [Phase: MinuteRow.PhaseEnergy] = [
            .a: .init(whImport: 1000.5, whExport: 0, varh: -3, vah: 1100),
            .b: .init(whImport: 10, whExport: 2500.25, varh: 0, vah: 2600),
            .c: .init(whImport: 0.125, whExport: 0, varh: 1, vah: 0.2),
        ]
        let json = try object(try MQTTPayloads.energy(totals, time: 1_796_550_000))
        var expected: Set<String> = ["time"]
        for quantity in ["wh_imp", "wh_exp", "varh", "vah"] {
            for line in ["l1", "l2", "l3", "total"] { expected.insert("\(line)_\(quantity)") }
        }
        #expect(Set(json.keys) == expected)
        #expect(json["l1_wh_imp"] as? Double == 1000.5 && json["l2_wh_exp"] as? Double == 2500.25 && json["l1_varh"] as? Double == -3)
        #expect(json["total_wh_imp"] as? Double == 1010.625 && json["total_wh_exp"] as? Double == 2500.25 && json["total_vah"] as? Double == 3700.2)
        #expect(json["time"] as? Int == 1_796_550_000)
        // Before the first row: zeros and no time, never a missing key.
        let empty = try object(try MQTTPayloads.energy([:], time: nil))
        #expect(empty["total_wh_imp"] as? Double == 0 && empty["time"] is NSNull && empty.count == expected.count)
    }

    @Test(arguments: [("ON", true), ("OFF", false), ("on", true), (" off\n", false), ("On", true),
                      ("1", nil), ("TOGGLE", nil), ("", nil), ("ONN", nil)] as [(String, Bool?)])
    func commands(_ payload: String, _ expected: Bool?) {
        #expect(MQTTPayloads.command(Array(payload.utf8)) == expected)
    }

    @Test func statusAndOutputs() {
        #expect(MQTTPayloads.online == Array("online".utf8) && MQTTPayloads.offline == Array("offline".utf8))
        #expect(MQTTPayloads.output(true) == Array("ON".utf8) && MQTTPayloads.output(false) == Array("OFF".utf8))
    }
}
