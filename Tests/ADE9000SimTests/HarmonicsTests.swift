// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import Foundation
import Logging
import MeterClock
import MeterTesting
import Testing

/// Harmonics in the simulator and THD, fundamentals and angles through the driver. Expected codes come from the
/// scenario's amplitudes and the datasheet's definitions written out here (ade9000.md §3.2, §3.3, §3.8): total RMS
/// √(X1² + Σ Xh²), fundamental RMS X1, THD √(Σ_{h≥2} Xh²)/X1, total active power Σ_h Vh·Ih·cos φh, fundamental
/// active power V1·I1·cos φ1, all on the board's scale (code = amps / A per LSB).
@Suite struct HarmonicsTests {
    /// The household file on an error-free board without calibration and without noise: codes are the formulas'.
    static func idealHousehold() throws -> Scenario {
        var scenario = try Scenario.load(path: Fixtures.scenario("harmonics-household.json"))
        scenario.frontEnd = .ideal
        scenario.noiseLSB = 0
        return scenario
    }

    static func rss(_ percents: [Double]) -> Double { percents.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    @Test(arguments: Phase.allCases)
    func registersFollowTheDatasheetDefinitions(_ phase: Phase) async throws {
        let scenario = try Self.idealHousehold()
        let (_, chip, driver) = makeRig(scenario, calibration: [:])
        try await driver.initialize()
        let snapshot = try await driver.snapshot(includeEnergy: false)
        let load = scenario.phases[phase.rawValue]
        let voltage = try #require(load.harmonics?.voltage), current = try #require(load.harmonics?.current)
        let thdV = Self.rss(voltage.map(\.percent)), thdI = Self.rss(current.map(\.percent))

        // RMS: fundamental X1 and total X1·√(1 + THD²), in codes.
        let i1 = load.currentA / ampsPerLSB, v1 = load.voltageV / voltsPerLSB
        let codes = snapshot[phase], harmonics = try #require(codes.harmonics)
        #expect(relativeError(Double(harmonics.ifrms), i1) < 1e-6, "xIFRMS \(harmonics.ifrms)")
        #expect(relativeError(Double(harmonics.vfrms), v1) < 1e-6, "xVFRMS \(harmonics.vfrms)")
        #expect(relativeError(Double(codes.irms), i1 * (1 + thdI * thdI / 1e4).squareRoot()) < 1e-6, "xIRMS \(codes.irms)")
        #expect(relativeError(Double(codes.vrms), v1 * (1 + thdV * thdV / 1e4).squareRoot()) < 1e-6, "xVRMS \(codes.vrms)")

        // THD in 5.27: % = code / 2^27 × 100 (DS eq. 16).
        #expect(abs(Double(Int32(bitPattern: harmonics.vthd)) / 134_217_728 * 100 - thdV) < 1e-6)
        #expect(abs(Double(Int32(bitPattern: harmonics.ithd)) / 134_217_728 * 100 - thdI) < 1e-6)

        // Powers: fundamental alone, and total = Σ over orders present in both V and I (orders of one side only add none).
        let theta1 = load.angleDeg * .pi / 180
        var harmonicP = 0.0, harmonicQ = 0.0
        for h in current {
            guard let v = voltage.first(where: { $0.order == h.order }) else { continue }
            let phi = ((h.angleDeg ?? 0) - (v.angleDeg ?? 0)) * .pi / 180
            harmonicP += v1 * v.percent / 100 * i1 * h.percent / 100 * cos(phi)
            harmonicQ += v1 * v.percent / 100 * i1 * h.percent / 100 * sin(phi)
        }
        let unity = 134_217_728.0
        #expect(abs(Double(Int32(bitPattern: chip.peek(.FWATT(phase)))) - v1 * i1 * cos(theta1) / unity) <= 1)
        #expect(abs(Double(Int32(bitPattern: chip.peek(.FVAR(phase)))) - v1 * i1 * sin(theta1) / unity) <= 1)
        #expect(abs(Double(codes.watt) - (v1 * i1 * cos(theta1) + harmonicP) / unity) <= 1, "xWATT \(codes.watt)")
        #expect(abs(Double(codes.reactive) - (v1 * i1 * sin(theta1) + harmonicQ) / unity) <= 1, "xVAR \(codes.reactive)")
        // Apparent power from the RMS registers: total for xVA, fundamental for xFVA.
        #expect(abs(Double(codes.apparent) - Double(codes.irms) * Double(codes.vrms) / unity) <= 1)
        #expect(abs(Double(Int32(bitPattern: chip.peek(.FVA(phase)))) - v1 * i1 / unity) <= 1)
        // The direct registers read what their burst aliases read.
        #expect(chip.peek(.VTHD(phase)) == harmonics.vthd && chip.peek(.IFRMS(phase)) == harmonics.ifrms)
    }

    @Test func aPureSineHasNoDistortionAndItsFundamentalIsItsTotal() async throws {
        let (_, _, driver) = makeRig(.balanced(voltage: 230, current: 10, angle: 30))
        try await driver.initialize()
        let snapshot = try await driver.snapshot(includeEnergy: false)
        for codes in snapshot.phases {
            let harmonics = try #require(codes.harmonics)
            #expect(harmonics.vthd == 0 && harmonics.ithd == 0)
            // Calibrated board: the totals carry the RMS offsets, the fundamentals not (a few codes of 6–17 million).
            #expect(relativeError(Double(harmonics.ifrms), Double(codes.irms)) < 1e-4)
            #expect(relativeError(Double(harmonics.vfrms), Double(codes.vrms)) < 1e-4)
        }
    }

    /// THD, fundamentals and angles cost no transaction of their own where the `_2` burst holds them: the burst
    /// grows from 45 words (AIRMS_2 … CPF_2) to 51 (… CFVRMS_2) within its one frame; the two 16-bit angle registers
    /// are outside every burst range and cost two reads (4 frames: data, CRC_SPI) in the same transfer.
    @Test func theBurstCarriesTHDAndFundamentalsAndTheAnglesShareTheTransfer() async throws {
        let clock = VirtualClock()
        let chip = SimulatedADE9000(scenario: try Self.idealHousehold(), clock: clock)
        let recorder = DriverWithSimulatorTests.Recorder(chip)
        let driver = ADE9000Driver(transport: recorder, setup: ADE9000Setup(calibration: nibV3Calibration),
                                   logger: .init(label: "test"), clock: clock)
        try await driver.initialize()
        let before = chip.transactionCount, transfersBefore = await driver.statistics.transfers
        recorder.frames = []
        let snapshot = try await driver.snapshot(includeEnergy: true, includeTemperature: false)
        // 15 single reads × 2 frames (STATUS1, RUN, COM_PERIOD, ISUMRMS, ANGL_VA_VB, ANGL_VA_VC, 9 energy) + burst + CRC_SPI.
        #expect(chip.transactionCount - before == 15 * 2 + 2)
        #expect(await driver.statistics.transfers - transfersBefore == 1)
        let burst = try #require(recorder.frames.first { Array($0.prefix(2)) == CommandHeader.read(.burstAlias("IRMS", .a)!).bytes })
        #expect(burst.count == 2 + 4 * 51)
        let thdAndFundamentalHeaders = Phase.allCases.flatMap { p in
            [Register.VTHD(p), .ITHD(p), .IFRMS(p), .VFRMS(p), .burstAlias("VTHD", p)!, .burstAlias("FIRMS", p)!]
        }.map { CommandHeader.read($0).bytes }
        #expect(!recorder.frames.contains { frame in thdAndFundamentalHeaders.contains(Array(frame.prefix(2))) })
        // An A-B-C sequence at 50 Hz: 120° and 240° are 6826.7 and 13653.3 counts of the 1,024 kHz timer (DS eqs. 13–14).
        let angles = try #require(snapshot.voltageAngles)
        let countsPerDegree: Double = 1_024_000 / 50 / 360
        let aToB = Double(angles.aToB), aToC = Double(angles.aToC)
        #expect(abs(aToB - 120 * countsPerDegree) <= 0.5, "ANGL_VA_VB \(aToB)")
        #expect(abs(aToC - 240 * countsPerDegree) <= 0.5, "ANGL_VA_VC \(aToC)")
    }

    @Test func withoutBurstReadsTheSameValuesComeFromSingleReads() async throws {
        let (_, chip, driver) = makeRig(try Self.idealHousehold(), calibration: [:], burst: false)
        try await driver.initialize()
        let before = chip.transactionCount
        let snapshot = try await driver.snapshot(includeEnergy: true, includeTemperature: false)
        // BURST_EN = 0: one frame per register, CRC appended. 6 + 9 singles, then 10 per phase.
        #expect(chip.transactionCount - before == 15 + 30)
        let l1 = try Self.idealHousehold().phases[0]
        let thdI = Self.rss(l1.harmonics!.current!.map(\.percent))
        #expect(abs(HarmonicDistortionFormat.percent(try #require(snapshot[.a].harmonics).ithd) - thdI) < 1e-6)
    }

    @Test(arguments: [
        (#"{"order": 1, "percent": 3}"#, "order must be 2 or more"),
        (#"{"order": 80, "percent": 3}"#, "below 4 kHz"),
        (#"{"order": 3, "percent": -1}"#, "percent must be ≥ 0"),
        (#"{"order": 3, "percent": 1}, {"order": 3, "percent": 2}"#, "appears twice"),
    ])
    func badHarmonicsAreRefusedWithTheirPlace(_ list: String, _ message: String) throws {
        let json = """
            {"phases": [{"voltage_v": 230, "current_a": 1}, {"voltage_v": 230, "current_a": 1},
                        {"voltage_v": 230, "current_a": 1, "harmonics": {"current": [\(list)]}}]}
            """
        let error = #expect(throws: ScenarioError.self) { try Scenario.decode(Data(json.utf8), source: "test.json") }
        #expect(error?.description.contains(message) == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains("\"phases\"[2].harmonics.current") == true)
    }
}
