// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterClock
import MeterTesting
import Testing

/// The simulator's wire protocol, byte for byte (DS p.42, TRM pp. 32–35, ade9000.md §1.10).
@Suite struct SimulatorWireTests {
    let clock = VirtualClock()
    var chip: SimulatedADE9000 { SimulatedADE9000(scenario: .balanced(), clock: clock) }

    @Test func readsAnswerTheRegisterThenItsCRC() throws {
        let chip = self.chip
        let miso = try chip.transfer([[0x4F, 0xE8, 0, 0, 0, 0]])[0] // VERSION, 16-bit
        #expect(miso == [0x00, 0x00, 0x00, 0xFE, 0x13, 0xDE])
        let period = try chip.transfer([[0x41, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0]])[0] // COM_PERIOD + 2 extra bytes
        #expect(period == [0x00, 0x00, 0x00, 0xA0, 0x00, 0x00, 0x39, 0x5C, 0xFF, 0xFF])
    }

    @Test func resetValuesAfterPowerUp() {
        let chip = self.chip
        for register in Register.all where !register.isVolatile && register != .WR_LOCK {
            #expect(chip.peek(register) == register.resetValue, "\(register)")
        }
        #expect(chip.peek(.STATUS1) & (1 << 16) != 0) // RSTDONE
        #expect(chip.peek(.PART_ID) & (1 << 20) != 0)
    }

    @Test func aWriteCutShortChangesNothing() throws {
        let chip = self.chip
        _ = try chip.transfer([[0x00, 0x00, 0x00, 0x12, 0x34]]) // AIGAIN with 3 of 4 data bytes
        #expect(chip.peek(.IGAIN(.a)) == 0)
        _ = try chip.transfer([[0x00, 0x00, 0x00, 0x12, 0x34, 0x56]])
        #expect(chip.peek(.IGAIN(.a)) == 0x0012_3456)
    }

    @Test func writeOneToClearAndSelfClearingBits() throws {
        let chip = self.chip
        _ = try chip.transfer([Frame.write(.STATUS1, 1 << 16)])
        #expect(chip.peek(.STATUS1) & (1 << 16) == 0)
        _ = try chip.transfer([Frame.write(.IGAIN(.a), 7), Frame.write(.CONFIG1, 1)]) // SWRST
        #expect(chip.peek(.IGAIN(.a)) == 0)
        #expect(chip.peek(.CONFIG1) == 0)
        #expect(chip.peek(.STATUS1) & (1 << 16) != 0)
    }

    @Test func writeLockIgnoresConfigurationWrites() throws {
        let chip = self.chip
        _ = try chip.transfer([Frame.write(.WR_LOCK, 0x3C64), Frame.write(.IGAIN(.a), 5)])
        #expect(chip.peek(.IGAIN(.a)) == 0)
        #expect(chip.peek(.WR_LOCK) == 1)
        _ = try chip.transfer([Frame.write(.WR_LOCK, 0x4AD1), Frame.write(.IGAIN(.a), 5)])
        #expect(chip.peek(.IGAIN(.a)) == 5)
    }

    @Test func burstStreamsTheNextRegistersAndCRCSPIHoldsTheirCRC() throws {
        let chip = self.chip
        _ = try chip.transfer([Frame.write(.CONFIG1, 0x0800), Frame.write(.RUN, 1)])
        clock.advance(seconds: 2)
        let start = Register.burstAlias("IRMS", .a)!
        let replies = try chip.transfer([Frame.burstRead(from: start, count: 4), Frame.read(.CRC_SPI, withCRC: false)])
        let words = (0..<4).map { Frame.value(in: replies[0], width: .bits32, at: 2 + 4 * $0) }
        #expect(words[0] > 6_000_000) // AIRMS_2
        #expect(words[1] > 17_000_000) // AVRMS_2
        #expect(UInt16(Frame.value(in: replies[1], width: .bits16)) == CRC16.ccittFalse(replies[0][2...]))
        // With BURST_EN set no CRC follows a single read either: the bytes after the data are 0xFF.
        let version = try chip.transfer([Frame.read(.VERSION, withCRC: true)])[0]
        #expect(Array(version[4...]) == [0xFF, 0xFF])
    }

    @Test func lastCommandRegisters() throws {
        let chip = self.chip
        _ = try chip.transfer([Frame.read(.VERSION, withCRC: true)])
        #expect(chip.peek(.LAST_CMD) == 0x4FE8)
        #expect(chip.peek(.LAST_DATA_16) == 0x00FE)
    }

    @Test func measurementsReadZeroUntilRun() {
        let chip = self.chip
        #expect(chip.peek(.IRMS(.a)) == 0)
        #expect(chip.peek(.COM_PERIOD) == 0x00A0_0000)
    }
}
