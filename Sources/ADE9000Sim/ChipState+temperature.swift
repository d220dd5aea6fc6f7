// SPDX-License-Identifier: Apache-2.0

import ADE9000

/// The die temperature sensor (TEMP_CFG, DS Table 7 p.77; TRM p.31; ade9000.md §2.6, §3.9): with TEMP_EN it
/// measures continuously, averaging 1, 256, 512 or 1024 readings of 1 ms (TEMP_TIME 0–3) into each TEMP_RSLT,
/// and sets STATUS0.TEMP_RDY with every result; TEMP_START (self-clearing) starts a measurement now.
/// TEMP_START without TEMP_EN does nothing: the sensor is off (TRM p.31: "Enable the temperature sensor by
/// setting the TEMP_EN bit").
extension ChipState {
    static let TEMP_EN: UInt32 = 1 << 2
    static let TEMP_START: UInt32 = 1 << 3
    static let TEMP_RDY: UInt32 = 1 << 25

    /// DSP samples per result by TEMP_TIME: 1, 256, 512, 1024 ms.
    static let temperatureIntervalSamples: [Int64] = [8, 2048, 4096, 8192]

    var temperatureInterval: Int64 { Self.temperatureIntervalSamples[Int(value(.TEMP_CFG) & 3)] }

    mutating func writeTemperatureConfig(_ newValue: UInt32) {
        let wasEnabled = value(.TEMP_CFG) & Self.TEMP_EN != 0
        registers[Register.TEMP_CFG.address] = newValue & ~Self.TEMP_START
        if newValue & Self.TEMP_EN == 0 {
            temperatureDue = nil
        } else if newValue & Self.TEMP_START != 0 || !wasEnabled {
            temperatureDue = sample + temperatureInterval
        }
    }

    /// Delivers the results due up to sample `end` (the temperature is constant within a step).
    mutating func runTemperatureSensor(through end: Int64) {
        guard let due = temperatureDue, due <= end else { return }
        registers[Register.TEMP_RSLT.address] = temperatureResult()
        setStatus0(Self.TEMP_RDY)
        let interval = temperatureInterval
        temperatureDue = due + ((end - due) / interval + 1) * interval
    }

    /// DS eq. 18 (T = TEMP_RSLT·(−TEMP_GAIN/2^16) + TEMP_OFFSET/32) solved for TEMP_RSLT[11:0].
    func temperatureResult() -> UInt32 {
        let celsius = scenario.temperatureC ?? 35
        let gain = Double(temperatureTrim & 0xFFFF), offset = Double(temperatureTrim >> 16)
        let result = ((offset / 32 - celsius) * 65_536 / gain).rounded()
        return UInt32(max(0, min(4095, result)))
    }
}
