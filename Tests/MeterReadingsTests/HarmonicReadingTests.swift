// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Foundation
import MeterReadings
import MeterTesting
import Testing

/// THD, fundamentals and voltage angles from config to `Reading`, on the shipped calibration and the NIB v3 board.
/// Expected values come from the scenario file's amplitudes, read here as plain JSON, and the definitions:
/// THD = √(Σ_{h≥2} Xh²) / X1, total RMS = X1·√(1 + THD²), total P = V1·I1·cos θ1 + Σ_h Vh·Ih·cos φh.
@Suite struct HarmonicReadingTests {
    struct Component { let order: Int, percent: Double, angle: Double }
    struct PhaseInput { let v1: Double, i1: Double, angle: Double, voltage: [Component], current: [Component] }

    static func household() throws -> (path: String, phases: [PhaseInput]) {
        let path = Fixtures.scenario("harmonics-household.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(filePath: path))) as? [String: Any])
        let phases = try #require(root["phases"] as? [[String: Any]])
        func components(_ list: Any?) -> [Component] {
            ((list as? [[String: Any]]) ?? []).map {
                Component(order: ($0["order"] as! NSNumber).intValue, percent: ($0["percent"] as! NSNumber).doubleValue,
                          angle: ($0["angle_deg"] as? NSNumber)?.doubleValue ?? 0)
            }
        }
        return (path, phases.map { phase in
            let harmonics = phase["harmonics"] as? [String: Any]
            return PhaseInput(v1: (phase["voltage_v"] as! NSNumber).doubleValue, i1: (phase["current_a"] as! NSNumber).doubleValue,
                              angle: (phase["angle_deg"] as? NSNumber)?.doubleValue ?? 0,
                              voltage: components(harmonics?["voltage"]), current: components(harmonics?["current"]))
        })
    }

    static func thd(_ list: [Component]) -> Double { list.reduce(0) { $0 + $1.percent * $1.percent }.squareRoot() }

    @Test func theHouseholdReadsTHDWithinHalfAPercentAndRMSByDefinition() async throws {
        let (path, inputs) = try Self.household()
        let (_, _, meter) = try await MeterEndToEndTests.makeMeter(try Scenario.load(path: path))
        let reading = try await meter.reading()
        let harmonics = try #require(reading.harmonics)
        for (index, input) in inputs.enumerated() {
            let h = harmonics[index], values = reading.phases[index], name = "L\(index + 1)"
            let thdV = Self.thd(input.voltage), thdI = Self.thd(input.current)
            #expect(thdI > 30, "the file should be a distorted household")
            // The bound: within 0.5 % absolute of the value computed from the amplitudes.
            #expect(abs(h.vthd - thdV) <= 0.5, "\(name) THD-V \(h.vthd) %, expected \(thdV) %")
            #expect(abs(h.ithd - thdI) <= 0.5, "\(name) THD-I \(h.ithd) %, expected \(thdI) %")
            // Fundamental RMS is X1; total RMS is X1·√(1 + THD²).
            #expect(abs(h.vfund - input.v1) <= input.v1 * 0.001, "\(name) V fund \(h.vfund)")
            #expect(abs(h.ifund - input.i1) <= input.i1 * 0.002, "\(name) I fund \(h.ifund)")
            let vTotal = input.v1 * (1 + thdV * thdV / 1e4).squareRoot(), iTotal = input.i1 * (1 + thdI * thdI / 1e4).squareRoot()
            #expect(abs(values.v - vTotal) <= vTotal * 0.001, "\(name) V \(values.v), expected \(vTotal)")
            #expect(abs(values.i - iTotal) <= iTotal * 0.002, "\(name) I \(values.i), expected \(iTotal)")
            // Total active power: the fundamental's plus each order present in both voltage and current.
            var p = input.v1 * input.i1 * cos(input.angle * .pi / 180)
            for c in input.current {
                guard let v = input.voltage.first(where: { $0.order == c.order }) else { continue }
                p += input.v1 * v.percent / 100 * input.i1 * c.percent / 100 * cos((c.angle - v.angle) * .pi / 180)
            }
            #expect(abs(values.p - p) <= p * 0.005, "\(name) P \(values.p) W, expected \(p) W")
            // The power factor falls with the distortion: P over total V × total I.
            #expect(abs(values.pf - p / (vTotal * iTotal)) <= 0.005, "\(name) PF \(values.pf)")
        }
        // L1-L2-L3 sequence: 120° and 240°, one timer count being 0.018° at 50 Hz.
        let angles = try #require(reading.voltageAngles)
        #expect(abs(angles.l2 - 120) < 0.05 && abs(angles.l3 - 240) < 0.05, "\(angles)")
    }

    @Test func aSwappedSequenceShowsInTheAngles() async throws {
        let phases = [Scenario.PhaseLoad(voltageV: 230, currentA: 5), .init(voltageV: 230, currentA: 5, voltageAngleDeg: 240),
                      .init(voltageV: 230, currentA: 5, voltageAngleDeg: 120)]
        let (_, _, meter) = try await MeterEndToEndTests.makeMeter(Scenario(phases: phases))
        let angles = try #require(try await meter.reading().voltageAngles)
        #expect(abs(angles.l2 - 240) < 0.05 && abs(angles.l3 - 120) < 0.05, "\(angles)")
    }

    @Test func jsonCarriesThePowerQualityKeysInPercentVoltsAmpsAndDegrees() async throws {
        let (path, inputs) = try Self.household()
        let (_, _, meter) = try await MeterEndToEndTests.makeMeter(try Scenario.load(path: path))
        let reading = try await meter.reading(includeEnergy: false, includeTemperature: false)
        let object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(reading)) as? [String: Any])
        for (index, input) in inputs.enumerated() {
            let line = "l\(index + 1)"
            #expect(abs(((object["\(line)_ithd"] as? NSNumber)?.doubleValue ?? 0) - Self.thd(input.current)) <= 0.5)
            #expect(abs(((object["\(line)_vthd"] as? NSNumber)?.doubleValue ?? 0) - Self.thd(input.voltage)) <= 0.5)
            #expect(abs(((object["\(line)_vfund"] as? NSNumber)?.doubleValue ?? 0) - input.v1) <= input.v1 * 0.001)
            #expect(abs(((object["\(line)_ifund"] as? NSNumber)?.doubleValue ?? 0) - input.i1) <= input.i1 * 0.002)
        }
        #expect(abs(((object["l2_vangle"] as? NSNumber)?.doubleValue ?? 0) - 120) < 0.05)
        #expect(abs(((object["l3_vangle"] as? NSNumber)?.doubleValue ?? 0) - 240) < 0.05)
    }
}
