// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterClock
import MeterTesting
import Testing

/// The die temperature sensor against the datasheet (TEMP_CFG, DS Table 7 p.77; TRM p.31; ade9000.md §2.6,
/// §3.9): with TEMP_EN a TEMP_RSLT and STATUS0.TEMP_RDY every 1, 256, 512 or 1024 ms (TEMP_TIME 0–3 readings of
/// 1 ms averaged); TEMP_START measures now; T = TEMP_RSLT·(−TEMP_GAIN/2^16) + TEMP_OFFSET/32 (DS eq. 18).
@Suite struct SimulatorTemperatureTests {
    static let TEMP_EN: UInt32 = 1 << 2, TEMP_START: UInt32 = 1 << 3, TEMP_RDY: UInt32 = 1 << 25

    let clock = VirtualClock()

    func makeChip(celsius: Double = 35) -> SimulatedADE9000 {
        SimulatedADE9000(scenario: Scenario(phases: Scenario.balanced().phases, temperatureC: celsius), clock: clock)
    }

    /// DS eq. 18 with the chip's own TEMP_TRIM.
    func celsius(_ chip: SimulatedADE9000) -> Double {
        let trim = chip.peek(.TEMP_TRIM), result = Double(chip.peek(.TEMP_RSLT) & 0xFFF)
        return result * -Double(trim & 0xFFFF) / 65_536 + Double(trim >> 16) / 32
    }

    func ready(_ chip: SimulatedADE9000) -> Bool { chip.peek(.STATUS0) & Self.TEMP_RDY != 0 }

    @Test(arguments: [(UInt32(0), 0.001), (1, 0.256), (2, 0.512), (3, 1.024)])
    func temperatureEnabledMeasuresEveryTempTimeInterval(tempTime: UInt32, interval: Double) throws {
        let chip = makeChip(celsius: 35)
        _ = try chip.transfer([Frame.write(.TEMP_CFG, Self.TEMP_EN | tempTime)])
        clock.advance(seconds: interval - 0.0005)
        #expect(!ready(chip))
        clock.advance(seconds: 0.001)
        #expect(ready(chip))
        #expect(abs(celsius(chip) - 35) < 0.05) // one TEMP_RSLT step is 0.05 °C

        // Periodically, with no TEMP_START: the next result reads the new die temperature.
        chip.setScenario(Scenario(phases: Scenario.balanced().phases, temperatureC: 60))
        _ = try chip.transfer([Frame.write(.STATUS0, Self.TEMP_RDY)])
        #expect(!ready(chip))
        clock.advance(seconds: interval)
        #expect(ready(chip))
        #expect(abs(celsius(chip) - 60) < 0.05)
    }

    @Test func temperatureStartMeasuresOnceAndClearsItself() throws {
        let chip = makeChip(celsius: 42)
        _ = try chip.transfer([Frame.write(.TEMP_CFG, Self.TEMP_EN | 3)]) // 1024 ms per result
        clock.advance(seconds: 0.5)
        #expect(!ready(chip))
        // TEMP_TIME = 0 and TEMP_START: a result about 1 ms later (ade9000.md §3.9), not at the old schedule.
        _ = try chip.transfer([Frame.write(.TEMP_CFG, Self.TEMP_EN | Self.TEMP_START)])
        #expect(chip.peek(.TEMP_CFG) == Self.TEMP_EN) // self-clearing
        clock.advance(seconds: 0.0015)
        #expect(ready(chip))
        #expect(abs(celsius(chip) - 42) < 0.05)
    }

    @Test func withoutTempEnNoResultComes() throws {
        let chip = makeChip()
        clock.advance(seconds: 2) // reset value TEMP_CFG = 0: sensor off
        #expect(!ready(chip))
        #expect(chip.peek(.TEMP_RSLT) == 0)
        _ = try chip.transfer([Frame.write(.TEMP_CFG, Self.TEMP_EN)])
        clock.advance(seconds: 0.002)
        #expect(ready(chip))
        // Turned off again: no more results.
        _ = try chip.transfer([Frame.write(.TEMP_CFG, 0), Frame.write(.STATUS0, Self.TEMP_RDY)])
        clock.advance(seconds: 2)
        #expect(!ready(chip))
    }
}
