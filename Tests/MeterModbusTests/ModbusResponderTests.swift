// SPDX-License-Identifier: Apache-2.0

import ADE9000
import MeterConfig
import MeterModbus
import MeterReadings
import Synchronization
import Testing

/// A reading with a distinct value everywhere, so a value in the wrong register shows.
func sampleReading(monotonic: Double = 100) -> Reading {
    var reading = Reading(time: 1_795_000_000.75, freq: 49.98, phases: [
        .init(v: 230.1, i: 10.25, p: 2300, q: 100, s: 2310, pf: 0.99),
        .init(v: 229.2, i: 5.5, p: -1200, q: -50, s: 1260, pf: -0.95),
        .init(v: 231.3, i: 0, p: 0, q: 0, s: 0, pf: .nan),
    ], neutralCurrent: 8.125)
    reading.monotonic = monotonic
    return reading
}

let sampleTotals: [Phase: MinuteRow.PhaseEnergy] = [
    .a: .init(whImport: 1000.5, whExport: 0, varh: 12.25, vah: 1100),
    .b: .init(whImport: 20, whExport: 3000.125, varh: -4, vah: 3100),
    .c: .init(whImport: 0.5, whExport: 0, varh: 0, vah: 1),
]

/// Outputs that record what they were asked; B not fitted, A fails to switch when `failing`.
final class FakeOutputs: Sendable {
    let calls = Mutex<[(Int, Bool)]>([])
    let on = Mutex<[Bool]>([false, false])
    let failing: Bool
    init(failing: Bool = false) { self.failing = failing }
    var modbus: ModbusOutputs {
        ModbusOutputs(set: { [self] index, value in
            if failing { throw FakeError() }
            calls.withLock { $0.append((index, value)) }
            on.withLock { $0[index] = value }
        }, state: { [self] index in index == 0 ? on.withLock { $0[index] } : nil }, fitted: { $0 == 0 })
    }
    struct FakeError: Error {}
}

func responder(_ settings: ModbusSettings = ModbusSettings(enabled: true), reading: Reading? = sampleReading(), now: Double = 100.5,
               totals: [Phase: MinuteRow.PhaseEnergy]? = sampleTotals, outputs: ModbusOutputs? = nil) -> ModbusResponder {
    ModbusResponder(settings: settings, sources: .init(latest: { reading }, monotonicNow: { now }, totals: { totals }, outputs: outputs))
}

func read(_ address: UInt16, _ count: Int, function: UInt8 = 3, unit: UInt8 = 1) -> ModbusRequest {
    ModbusRequest(unit: unit, operation: .read(function: function, address: address, count: count))
}

/// Two registers as the float32 they encode (big-endian words).
func float32(_ words: ArraySlice<UInt16>) -> Float { Float(bitPattern: UInt32(words[words.startIndex]) << 16 | UInt32(words[words.startIndex + 1])) }
func float64(_ words: ArraySlice<UInt16>) -> Double {
    Double(bitPattern: words.reduce(UInt64(0)) { $0 << 16 | UInt64($1) })
}

@Suite struct RegisterMapTests {
    /// CLEMAP's documented map (docs.clemap.com, "Realtime energy data: Modbus TCP"), written out here.
    @Test(arguments: [
        (UInt16(19000), "l1_v"), (19002, "l2_v"), (19004, "l3_v"), (19012, "l1_i"), (19014, "l2_i"), (19016, "l3_i"),
        (19018, "n_i"), (19020, "l1_p"), (19022, "l2_p"), (19024, "l3_p"), (19026, "total_p"), (19028, "l1_s"), (19030, "l2_s"),
        (19032, "l3_s"), (19034, "total_s"), (19036, "l1_q"), (19038, "l2_q"), (19040, "l3_q"), (19042, "total_q"),
    ])
    func clemapAddresses(_ address: UInt16, _ name: String) throws {
        let points = try #require(ModbusRegisterMap.clemapEdge.points(from: address, count: 2))
        #expect(points.map(\.name) == [name])
        #expect(points[0].format == .float32)
    }

    @Test func wholeBlocksReadInOneRequest() throws {
        let map = ModbusRegisterMap.clemapEdge
        #expect(try #require(map.points(from: 19000, count: 44)).count == 22)
        let extras = try #require(map.points(from: 20000, count: 74))
        #expect(extras.map(\.name).prefix(5) == ["freq", "l1_pf", "l2_pf", "l3_pf", "time"])
        #expect(extras.filter { $0.format == .float64 }.count == 16)
        #expect(extras.last?.name == "total_vah" && extras.last?.registers == 20070...20073)
        #expect(try #require(map.points(from: 20100, count: 2)).map(\.name) == ["output_a", "output_b"])
        // No two values overlap.
        var covered = Set<Int>()
        for point in map.points { for r in point.registers { #expect(covered.insert(r).inserted, "\(point.name) overlaps at \(r)") } }
    }

    /// Outside the map, a gap, a split value, or past the end: nil (exception 02).
    @Test(arguments: [
        (UInt16(18999), 2), (19001, 2), (19000, 1), (19000, 3), (19042, 4), (19044, 2), (19050, 2), (19056, 2),
        (20008, 1), (20009, 2), (20010, 2), (20072, 2), (20074, 1), (20099, 2), (20101, 2), (20102, 1),
        (0, 1), (65535, 1), (65534, 2), (19000, 0),
    ])
    func invalidRanges(_ address: UInt16, _ count: Int) {
        #expect(ModbusRegisterMap.clemapEdge.points(from: address, count: count) == nil, "\(address) × \(count)")
    }
}

@Suite struct ModbusResponderTests {
    @Test(arguments: [ModbusSettings.WordOrder.bigEndian, .littleEndian])
    func liveValuesDecodeInBothWordOrders(_ order: ModbusSettings.WordOrder) throws {
        let answer = responder(ModbusSettings(enabled: true, wordOrder: order)).answer(read(19000, 44))
        guard case .registers(let raw) = answer else { Issue.record("\(answer)"); return }
        #expect(raw.count == 44)
        // Undo the word order per pair, then read big-endian.
        let words = order == .bigEndian ? raw : stride(from: 0, to: raw.count, by: 2).flatMap { [raw[$0 + 1], raw[$0]] }
        func at(_ address: Int) -> Float { float32(words[(address - 19000)...]) }
        #expect(at(19000) == Float(230.1) && at(19002) == Float(229.2) && at(19004) == Float(231.3))
        #expect(at(19006).isNaN && at(19008).isNaN && at(19010).isNaN)
        #expect(at(19012) == Float(10.25) && at(19014) == Float(5.5) && at(19016) == 0)
        #expect(at(19018) == Float(8.125))
        #expect(at(19020) == 2300 && at(19022) == -1200 && at(19024) == 0 && at(19026) == 1100)
        #expect(at(19028) == 2310 && at(19030) == 1260 && at(19032) == 0 && at(19034) == 3570)
        #expect(at(19036) == 100 && at(19038) == -50 && at(19040) == 0 && at(19042) == 50)
    }

    @Test(arguments: [ModbusSettings.WordOrder.bigEndian, .littleEndian])
    func extrasDecodeInBothWordOrders(_ order: ModbusSettings.WordOrder) throws {
        guard case .registers(let raw) = responder(ModbusSettings(enabled: true, wordOrder: order)).answer(read(20000, 74, function: 4))
        else { Issue.record("refused"); return }
        func words(_ address: Int, _ count: Int) -> ArraySlice<UInt16> {
            let slice = Array(raw[(address - 20000)..<(address - 20000 + count)])
            return ArraySlice(order == .bigEndian ? slice : slice.reversed())
        }
        #expect(float32(words(20000, 2)) == Float(49.98))
        #expect(float32(words(20002, 2)) == Float(0.99) && float32(words(20004, 2)) == Float(-0.95) && float32(words(20006, 2)).isNaN)
        let time = words(20008, 2)
        #expect(UInt32(time[time.startIndex]) << 16 | UInt32(time[time.startIndex + 1]) == 1_795_000_000)
        // Import L1..L3, total; export; varh; VAh: float64 of the totals, exactly.
        let expected: [Double] = [1000.5, 20, 0.5, 1021, 0, 3000.125, 0, 3000.125, 12.25, -4, 0, 8.25, 1100, 3100, 1, 4201]
        for (n, value) in expected.enumerated() {
            #expect(float64(words(20010 + 4 * n, 4)) == value, "register \(20010 + 4 * n)")
        }
    }

    @Test func exceptionCodes() {
        let r = responder()
        #expect(r.answer(read(19044, 2)) == .exception(.illegalDataAddress))
        #expect(r.answer(read(19001, 2)) == .exception(.illegalDataAddress))
        #expect(r.answer(read(19000, 0)) == .exception(.illegalDataValue))
        #expect(r.answer(read(19000, 126)) == .exception(.illegalDataValue))
        #expect(r.answer(read(19000, 2, unit: 2)) == .exception(.gatewayTargetFailedToRespond))
        for unit: UInt8 in [0, 1, 255] { #expect(r.answer(read(19000, 2, unit: unit)) != .exception(.gatewayTargetFailedToRespond)) }
        for function: UInt8 in [1, 2, 5, 15, 22, 23, 43, 0x11] {
            #expect(r.answer(ModbusRequest(unit: 1, operation: .other(function: function))) == .exception(.illegalFunction), "\(function)")
        }
        // Unit 7 configured: 1 is someone else.
        #expect(responder(ModbusSettings(enabled: true, unitID: 7)).answer(read(19000, 2, unit: 1)) == .exception(.gatewayTargetFailedToRespond))
    }

    @Test func valuesNotKnownYetOrStaleAreRefusedNeverMadeUp() {
        // Before the first reading: busy (ask again), for live values only.
        let starting = responder(reading: nil)
        #expect(starting.answer(read(19000, 2)) == .exception(.serverDeviceBusy))
        if case .registers = starting.answer(read(20010, 4)) {} else { Issue.record("energy refused without a reading") }
        // A reading 10.5 s old: the meter stopped answering.
        #expect(responder(now: 110.6).answer(read(19000, 2)) == .exception(.serverDeviceFailure))
        if case .registers = responder(now: 110).answer(read(19000, 2)) {} else { Issue.record("a 10 s old reading refused") }
        // Lifetime energy before the store was read: busy, never 0 (a 0 would wreck Home Assistant's statistics).
        let noTotals = responder(totals: nil)
        #expect(noTotals.answer(read(20010, 4)) == .exception(.serverDeviceBusy))
        #expect(noTotals.answer(read(20000, 74)) == .exception(.serverDeviceBusy))
        if case .registers = noTotals.answer(read(20000, 10)) {} else { Issue.record("live extras refused without totals") }
    }

    @Test func writesAreRefusedUnlessTheOutputsAreWritable() {
        let fake = FakeOutputs()
        let readOnly = responder(outputs: fake.modbus)
        for request in [ModbusRequest.Operation.writeSingle(address: 20100, value: 1), .writeSingle(address: 19000, value: 1),
                        .writeMultiple(address: 20100, values: [1, 0], byteCountMatches: true)] {
            #expect(readOnly.answer(ModbusRequest(unit: 1, operation: request)) == .exception(.illegalDataAddress))
        }
        #expect(fake.calls.withLock { $0.isEmpty })
        // Readable either way: A off, B not fitted (0xFFFF).
        #expect(readOnly.answer(read(20100, 2)) == .registers([0, 0xFFFF]))
    }

    @Test func writableOutputs() {
        let fake = FakeOutputs()
        let r = responder(ModbusSettings(enabled: true, outputsWritable: true), outputs: fake.modbus)
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeSingle(address: 20100, value: 1))) == .written)
        #expect(r.answer(read(20100, 1)) == .registers([1]))
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeMultiple(address: 20100, values: [0], byteCountMatches: true))) == .written)
        #expect(fake.calls.withLock { $0.map { "\($0.0)=\($0.1)" } } == ["0=true", "0=false"])
        // 2 is neither off nor on; B is not fitted; 19000 is not writable; a byte count that disagrees.
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeSingle(address: 20100, value: 2))) == .exception(.illegalDataValue))
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeSingle(address: 20101, value: 1))) == .exception(.illegalDataAddress))
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeSingle(address: 19000, value: 1))) == .exception(.illegalDataAddress))
        #expect(r.answer(ModbusRequest(unit: 1, operation: .writeMultiple(address: 20100, values: [1], byteCountMatches: false)))
                == .exception(.illegalDataValue))
        #expect(fake.calls.withLock { $0.count } == 2)
        // A switch that fails: 04.
        let failing = responder(ModbusSettings(enabled: true, outputsWritable: true), outputs: FakeOutputs(failing: true).modbus)
        #expect(failing.answer(ModbusRequest(unit: 1, operation: .writeSingle(address: 20100, value: 1))) == .exception(.serverDeviceFailure))
        // Without GPIO nothing is writable.
        #expect(responder(ModbusSettings(enabled: true, outputsWritable: true)).answer(
            ModbusRequest(unit: 1, operation: .writeSingle(address: 20100, value: 1))) == .exception(.illegalDataAddress))
    }

    @Test func requestParsing() throws {
        // Transaction 0x0102, protocol 0, length 6, unit 1, FC3, 19000 (0x4A38), 2 registers.
        let frame: [UInt8] = [0x01, 0x02, 0, 0, 0, 6, 1, 3, 0x4A, 0x38, 0, 2]
        #expect(ModbusRequest(adu: frame) == ModbusRequest(unit: 1, operation: .read(function: 3, address: 19000, count: 2)))
        #expect(ModbusRequest(adu: frame.dropLast()) == nil)                         // the length says 6, 5 came
        #expect(ModbusRequest(adu: [0x01, 0x02, 0, 1] + frame.dropFirst(4)) == nil) // protocol 1 is not Modbus
        let write: [UInt8] = [0, 1, 0, 0, 0, 11, 1, 16, 0x4E, 0x84, 0, 2, 4, 0, 1, 0, 0]
        #expect(ModbusRequest(adu: write)?.operation == .writeMultiple(address: 20100, values: [1, 0], byteCountMatches: true))
        let lying: [UInt8] = [0, 1, 0, 0, 0, 11, 1, 16, 0x4E, 0x84, 0, 3, 4, 0, 1, 0, 0]
        #expect(ModbusRequest(adu: lying)?.operation == .writeMultiple(address: 20100, values: [1, 0], byteCountMatches: false))
        #expect(ModbusRequest(adu: [0, 1, 0, 0, 0, 3, 1, 0x2B, 0x0E])?.operation == .other(function: 0x2B))
    }
}
