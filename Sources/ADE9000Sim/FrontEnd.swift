// SPDX-License-Identifier: Apache-2.0

/// The analog front end of a meter board between the mains and the ADE9000's ADC pins: nominal transfer
/// functions plus per-channel errors, the things calibration exists to cancel.
///
/// Arrays hold one value per phase (L1, L2, L3). Gains multiply; a perfect board has gains 1, phase 0 and
/// offsets 0.
public struct FrontEnd: Codable, Sendable, Hashable {
    /// Current-channel gain error (1.01 reads 1 % high before calibration).
    public var currentGain: [Double]
    /// Voltage-channel gain error.
    public var voltageGain: [Double]
    /// Degrees by which the current channel delays the current (negative: it advances it, as a CT does).
    public var currentPhaseDeg: [Double]
    /// Gain of the power path relative to V × I (e.g. phase-compensation filter ripple); absent 1.
    public var powerGain: [Double]?
    /// Offset added to the squared current RMS code (noise floor, crosstalk), in code²; absent 0.
    public var currentRMSOffset: [Double]?
    /// Offset added to the squared voltage RMS code, in code²; absent 0.
    public var voltageRMSOffset: [Double]?
    /// Offset added to xWATT, in codes; absent 0.
    public var wattOffset: [Double]?
    /// Offset added to xVAR, in codes; absent 0.
    public var varOffset: [Double]?
    /// ADC volts rms per primary ampere, PGA included; absent: the NIB v3 value.
    public var currentVoltsPerAmp: Double?
    /// ADC volts rms per line volt; absent: the NIB v3 value.
    public var voltageVoltsPerVolt: Double?

    public init(currentGain: [Double] = [1, 1, 1], voltageGain: [Double] = [1, 1, 1], currentPhaseDeg: [Double] = [0, 0, 0],
                powerGain: [Double]? = nil, currentRMSOffset: [Double]? = nil, voltageRMSOffset: [Double]? = nil,
                wattOffset: [Double]? = nil, varOffset: [Double]? = nil,
                currentVoltsPerAmp: Double? = nil, voltageVoltsPerVolt: Double? = nil) {
        self.currentGain = currentGain; self.voltageGain = voltageGain; self.currentPhaseDeg = currentPhaseDeg
        self.powerGain = powerGain; self.currentRMSOffset = currentRMSOffset; self.voltageRMSOffset = voltageRMSOffset
        self.wattOffset = wattOffset; self.varOffset = varOffset
        self.currentVoltsPerAmp = currentVoltsPerAmp; self.voltageVoltsPerVolt = voltageVoltsPerVolt
    }

    enum CodingKeys: String, CodingKey {
        case currentGain = "current_gain", voltageGain = "voltage_gain", currentPhaseDeg = "current_phase_deg",
             powerGain = "power_gain", currentRMSOffset = "current_rms_offset", voltageRMSOffset = "voltage_rms_offset",
             wattOffset = "watt_offset", varOffset = "var_offset",
             currentVoltsPerAmp = "current_volts_per_amp", voltageVoltsPerVolt = "voltage_volts_per_volt"
    }

    /// A board with no errors at all, at the NIB v3 transfer functions.
    public static let ideal = FrontEnd()

    /// ADC volts rms per ampere of the NIB v3 current input, from `cha_irms` = 1.5844520367023384e-06 A/LSB:
    /// 1 / (A_LSB · √2 · 52,702,092) (ade9000.md §5.2).
    public static let nibV3CurrentVoltsPerAmp = 1 / (1.5844520367023384e-06 * 2.0.squareRoot() * 52_702_092)
    /// ADC volts rms per line volt of the NIB v3 divider, from `cha_vrms` = 1.3294291998883081e-05 V/LSB.
    public static let nibV3VoltageVoltsPerVolt = 1 / (1.3294291998883081e-05 * 2.0.squareRoot() * 52_702_092)

    /// The board of meter SE05000551, whose errors the calibration in its `config.ini` (shipped as
    /// `calibration/config.ini`) cancels exactly: each error is the inverse of that file's register.
    public static let nibV3: FrontEnd = {
        // calib_{a,b,c}{igain,vgain,pgain,phcal0,irmsos,vrmsos,wattos,varos} of the reference config.ini.
        let igain: [Double] = [2_069_224, 1_264_722, 1_339_782]
        let vgain: [Double] = [260_287, -259_825, -12_329]
        let pgain: [Double] = [-13_889, -330, -3_307]
        let phcal0: [Double] = [-63_482_710, -58_592_471, -56_192_894]
        let irmsos: [Double] = [35, 20, 33]
        let vrmsos: [Double] = [14, 14, 14]
        let wattos: [Double] = [4, 2, 1]
        let varos: [Double] = [1, 1, 1]
        let unity = 134_217_728.0
        return FrontEnd(
            currentGain: igain.map { 1 / (1 + $0 / unity) },
            voltageGain: vgain.map { 1 / (1 + $0 / unity) },
            currentPhaseDeg: phcal0.map { PhaseCompensationModel.degrees(register: $0, lineFrequency: 50) },
            powerGain: pgain.map { 1 / (1 + $0 / unity) },
            currentRMSOffset: irmsos.map { -32_768 * $0 },
            voltageRMSOffset: vrmsos.map { -32_768 * $0 },
            wattOffset: wattos.map { -$0 },
            varOffset: varos.map { -$0 })
    }()

    func validate(source: String) throws(ScenarioError) {
        let arrays: [(String, [Double]?)] = [
            ("current_gain", currentGain), ("voltage_gain", voltageGain), ("current_phase_deg", currentPhaseDeg),
            ("power_gain", powerGain), ("current_rms_offset", currentRMSOffset), ("voltage_rms_offset", voltageRMSOffset),
            ("watt_offset", wattOffset), ("var_offset", varOffset),
        ]
        for (key, values) in arrays {
            guard let values else { continue }
            guard values.count == 3, values.allSatisfy(\.isFinite) else {
                throw ScenarioError(path: source, detail: "\"front_end\".\(key) needs 3 finite numbers, found \(values)",
                                    remedy: "give one value per phase: [L1, L2, L3]")
            }
        }
        for gain in currentGain + voltageGain + (powerGain ?? []) where gain <= 0 {
            throw ScenarioError(path: source, detail: "\"front_end\" gains must be positive, found \(gain)", remedy: "use e.g. 1.02 for +2 %")
        }
    }
}
