// SPDX-License-Identifier: Apache-2.0

import ADE9000
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything inside the virtual chip: the register file, the DSP's accumulators and the physical model.
/// A value type guarded by the simulator's mutex.
struct ChipState {
    static let dspRate: Double = 8000
    static let rmsFullScale: Double = 52_702_092
    static let unity: Double = 134_217_728
    /// Samples of PWR_SETTLE by CONFIG1[9:8]: 64, 128, 256, 0 ms (DS Table 7 p.70).
    static let settleSamples: [Int64] = [512, 1024, 2048, 0]

    var registers: [UInt16: UInt32] = [:]
    var scenario: Scenario { didSet { scheduleDisturbances() } }
    var frontEnd: FrontEnd
    var faults = Faults.none
    var random: SplitMix64
    /// The noise of the fundamental registers, apart from `random`: reading them in the same burst leaves the
    /// noise of the total registers, and so every value a scenario gave before they were read, unchanged.
    var fundamentalRandom: SplitMix64
    /// The noise of xVRMSONE / xIRMSONE, apart from both, for the same reason.
    var halfCycleRandom: SplitMix64

    /// DSP samples since the simulator started; the chip's own time.
    var sample: Int64 = 0
    var started = false
    /// The sample of the first time step: the origin of `faults.wedged_after_s` and of the disturbances' `start_s`.
    var originSample: Int64?
    var runStartSample: Int64?
    /// The scenario's disturbances on the sample axis (empty until the first time step).
    var disturbances = DisturbanceSchedule.none
    /// Their state until the next edge (``disturbanceSpan(at:)``).
    var disturbanceSpan: DisturbanceSpan?
    /// The half-cycle RMS, dip, swell, overcurrent, zero-crossing timeout and sequence engine.
    var powerQuality = PowerQualityEngine()
    /// Per phase: internal 42-bit energy accumulators (WATT, VAR, VA) and the 45-bit user registers.
    var internalEnergy = [[Int64]](repeating: [0, 0, 0], count: 3)
    var userEnergy = [[Int64]](repeating: [0, 0, 0], count: 3)
    /// Samples (EP_CFG.EGY_TMR_MODE = 0) or half line cycles (= 1) counted in the current energy period.
    var energyPeriodCount: Int64 = 0
    /// DSP sample at which the temperature sensor delivers its next TEMP_RSLT; nil while TEMP_EN = 0.
    var temperatureDue: Int64?
    var latchedPF: [UInt32] = [0, 0, 0]
    /// xVTHD, xITHD per phase, latched with xPF every 1.024 s (DS p.39).
    var latchedTHD: [(voltage: UInt32, current: UInt32)] = Array(repeating: (0, 0), count: 3)
    var transactions = 0
    /// Wall seconds minus simulated seconds, for the daily schedules of scenario loads; nil without a wall clock.
    var wallOffset: Double?
    /// The model at the current sample, built once for all the words a transfer reads; cleared whenever
    /// time moves, a register is written or the scenario changes.
    var modelCache: Model?

    /// The physical model now (cached).
    mutating func currentModel() -> Model {
        if let modelCache { return modelCache }
        let model = Model(state: self)
        modelCache = model
        return model
    }
    /// DSP sample at which a scheduled silent reset happens.
    var scheduledReset: Int64?
    var resetAfterSeconds: Double?
    /// DSP sample at which the chip wedges (``ScenarioFaults/wedgedAfterS``).
    var scheduledWedge: Int64?
    var wedgeAfterSeconds: Double?
    /// Wedged: answers all ones, ignores writes (SWRST too); only a hardware reset clears it.
    var wedged = false
    /// The RESET pin is held low: the chip is in reset and does not drive MISO.
    var heldInReset = false

    let partID: UInt32 = 0x0010_0C33
    /// TEMP_OFFSET 3200 (100 °C) and TEMP_GAIN 3277 (−0.05 °C per LSB).
    let temperatureTrim: UInt32 = 0x0C80_0CCD

    init(scenario: Scenario) {
        self.scenario = scenario
        self.frontEnd = scenario.frontEnd ?? .nibV3
        self.random = SplitMix64(seed: scenario.seed ?? 1)
        self.fundamentalRandom = SplitMix64(seed: (scenario.seed ?? 1) ^ 0x6675_6E64) // "fund"
        self.halfCycleRandom = SplitMix64(seed: (scenario.seed ?? 1) ^ 0x6861_6C66) // "half"
        self.faults = scenario.faults?.wireFaults ?? .none
        self.resetAfterSeconds = scenario.faults?.silentResetAfterS
        self.wedgeAfterSeconds = scenario.faults?.wedgedAfterS
        reset()
    }

    // MARK: Reset

    /// Power-up or reset: every register to its DS Table 6 value, RUN = 0, RSTDONE set (DS p.62).
    mutating func reset() {
        modelCache = nil
        registers = [:]
        for register in Register.all where register.access != .readOnly || register.resetValue != 0 {
            registers[register.address] = register.resetValue
        }
        registers[Register.PART_ID.address] = partID
        registers[Register.TEMP_TRIM.address] = temperatureTrim
        registers[Register.STATUS1.address] = 1 << 16
        runStartSample = nil
        internalEnergy = [[Int64]](repeating: [0, 0, 0], count: 3)
        userEnergy = [[Int64]](repeating: [0, 0, 0], count: 3)
        energyPeriodCount = 0
        temperatureDue = nil
        latchedPF = [0, 0, 0]
        latchedTHD = Array(repeating: (0, 0), count: 3)
        powerQuality = PowerQualityEngine()
    }

    func value(_ register: Register) -> UInt32 { registers[register.address] ?? 0 }
    var isRunning: Bool { value(.RUN) & 1 == 1 }
    var burstEnabled: Bool { value(.CONFIG1) & (1 << 11) != 0 }

    // MARK: Time

    /// Runs the DSP up to `seconds` of simulated time: energy, PF latches, status flags.
    mutating func advance(to seconds: Double) {
        let target = Int64((seconds * Self.dspRate).rounded(.down))
        guard started else {
            sample = target; started = true; originSample = target
            scheduleDisturbances()
            if let after = resetAfterSeconds { scheduledReset = target + Int64(after * Self.dspRate) }
            if let after = wedgeAfterSeconds { scheduledWedge = target + Int64(after * Self.dspRate) }
            return
        }
        guard target > sample else { return }
        // Loads are constant within a step; one second keeps time-varying scenarios honest.
        while sample < target {
            var step = min(target - sample, Int64(Self.dspRate))
            if let at = scheduledReset, at > sample { step = min(step, at - sample) }
            // A step has one disturbance state: split at every start and end.
            if let edge = disturbanceSpan(at: sample + 1)?.to { step = min(step, edge - sample) }
            runTemperatureSensor(through: sample + step)
            runDSP(samples: step)
            if let at = scheduledReset, sample >= at { scheduledReset = nil; reset() }
        }
        if let at = scheduledWedge, sample >= at { scheduledWedge = nil; wedged = true }
    }

    private mutating func runDSP(samples count: Int64) {
        modelCache = nil
        defer { sample += count; modelCache = nil }
        guard isRunning, let runStart = runStartSample else { return }
        // The step lies between two disturbance edges: the loads of its first sample hold throughout.
        let model = Model(state: self, atSample: sample + 1)

        // Power factor and THD refresh every 1.024 s = 8192 samples after RUN (DS p.39).
        let before = (sample - runStart) / 8192, after = (sample + count - runStart) / 8192
        if after > before {
            latchedPF = (0..<3).map { model.phases[$0].pfCode }
            latchedTHD = (0..<3).map { (model.phases[$0].vthdCode, model.phases[$0].ithdCode) }
            setStatus0(1 << 21)
        }
        runPowerQuality(model, from: sample, to: sample + count)

        // Energy accumulates once PWR_SETTLE has passed and EP_CFG.EGY_PWR_EN is set (DS p.34, p.76).
        guard value(.EP_CFG) & Self.EGY_PWR_EN != 0 else { return }
        let settle = Self.settleSamples[Int(value(.CONFIG1) >> 8 & 3)]
        let end = sample + count
        let start = max(sample, min(end, runStart + settle))
        accumulateEnergy(model, from: start, to: end)
    }

    mutating func setStatus0(_ bits: UInt32) { registers[Register.STATUS0.address, default: 0] |= bits }

    // Static: in debug builds an instance method called from a mutating one copies the whole state, here in loops of 9.
    static func wrap42(_ v: Int64) -> Int64 { (v << 22) >> 22 }
    static func wrap45(_ v: Int64) -> Int64 { (v << 19) >> 19 }

    // MARK: Register reads

    /// What the chip answers for `address` now. Measurements come from the physical model.
    mutating func read(_ address: UInt16) -> UInt32 {
        if let (quantity, phase) = Self.burstAliases[address] { return measurement(quantity, phase) }
        for p in Phase.allCases {
            let base = UInt16(p.rawValue) * 0x20
            switch address {
            case 0x20A + base: return measurement("I_PCF", p)
            case 0x20B + base: return measurement("V_PCF", p)
            case 0x20C + base: return measurement("IRMS", p)
            case 0x20D + base: return measurement("VRMS", p)
            case 0x20E + base: return measurement("FIRMS", p)
            case 0x20F + base: return measurement("FVRMS", p)
            case 0x210 + base: return measurement("WATT", p)
            case 0x211 + base: return measurement("VAR", p)
            case 0x212 + base: return measurement("VA", p)
            case 0x213 + base: return measurement("FWATT", p)
            case 0x214 + base: return measurement("FVAR", p)
            case 0x215 + base: return measurement("FVA", p)
            case 0x216 + base: return measurement("PF", p)
            case 0x217 + base: return measurement("VTHD", p)
            case 0x218 + base: return measurement("ITHD", p)
            case 0x219 + base: return measurement("IRMSONE", p)
            case 0x21A + base: return measurement("VRMSONE", p)
            default: break
            }
            let energyBase = UInt16(p.rawValue) * 0x3C
            for (q, lo) in Self.energyLoAddresses.enumerated() {
                let value = UInt64(bitPattern: userEnergy[p.rawValue][q]) & ((1 << 45) - 1)
                if address == lo + energyBase { return UInt32(value & 0x1FFF) }
                if address == lo + 1 + energyBase {
                    // HI = bits 44..13, sign-extended into 32 bits (DS Fig. 65).
                    return UInt32(truncatingIfNeeded: userEnergy[p.rawValue][q] >> 13)
                }
            }
            if address == 0x418 + UInt16(p.rawValue) { return period() }
            if address == 0x485 + UInt16(p.rawValue) { return isRunning ? currentModel().phases[p.rawValue].angleCount : 0 }
        }
        switch address {
        case Register.COM_PERIOD.address: return period()
        case Register.ISUMRMS.address:
            guard isRunning else { return 0 }
            let noise = scenario.noiseLSB ?? 2, value = currentModel().isumrms
            return UInt32(clamping: Int64(max(0, noise > 0 ? value + Double.random(in: -noise...noise, using: &random) : value).rounded()))
        case Register.VERSION2.address: return isRunning ? 0x0C : 0
        case Register.ANGL_VA_VB.address: return voltageAngle(from: 0, to: 1)
        case Register.ANGL_VB_VC.address: return voltageAngle(from: 1, to: 2)
        case Register.ANGL_VA_VC.address: return voltageAngle(from: 0, to: 2)
        case Register.WR_LOCK.address: return registers[address] == 1 ? 1 : 0
        default: return registers[address] ?? 0
        }
    }

    private func period() -> UInt32 {
        guard isRunning else { return Register.COM_PERIOD.resetValue }
        return UInt32((Self.dspRate * 65_536 / scenario.frequencyHz).rounded()) - 1
    }

    private func voltageAngle(from a: Int, to b: Int) -> UInt32 {
        guard isRunning else { return 0 }
        let lag = { (i: Int) in self.scenario.phases[i].voltageAngleDeg ?? Double(i) * 120 }
        var degrees = (lag(b) - lag(a)).truncatingRemainder(dividingBy: 360)
        if degrees < 0 { degrees += 360 }
        return UInt32((degrees / 360 * 1_024_000 / scenario.frequencyHz).rounded()) & 0xFFFF
    }

    private mutating func measurement(_ quantity: String, _ phase: Phase) -> UInt32 {
        guard isRunning else { return 0 }
        let model = currentModel().phases[phase.rawValue]
        let noise = scenario.noiseLSB ?? 2
        func noisy(_ value: Double) -> Double {
            noise > 0 ? value + Double.random(in: -noise...noise, using: &random) : value
        }
        func noisyFundamental(_ value: Double) -> Double {
            noise > 0 ? value + Double.random(in: -noise...noise, using: &fundamentalRandom) : value
        }
        func noisyHalfCycle(_ value: Double) -> UInt32 {
            let noisy = noise > 0 ? value + Double.random(in: -noise...noise, using: &halfCycleRandom) : value
            return UInt32(clamping: Int64(max(0, noisy).rounded()))
        }
        func signed(_ value: Double) -> UInt32 { UInt32(bitPattern: Int32(clamping: Int64(value.rounded()))) }
        switch quantity {
        case "IRMS": return UInt32(clamping: Int64(max(0, noisy(model.irms)).rounded()))
        case "VRMS": return UInt32(clamping: Int64(max(0, noisy(model.vrms)).rounded()))
        case "WATT": return signed(noisy(Double(model.wattCode)))
        case "VAR": return signed(noisy(Double(model.varCode)))
        case "VA": return signed(max(0, noisy(Double(model.vaCode))))
        case "PF": return latchedPF[phase.rawValue]
        case "FIRMS": return UInt32(clamping: Int64(max(0, noisyFundamental(model.ifrms)).rounded()))
        case "FVRMS": return UInt32(clamping: Int64(max(0, noisyFundamental(model.vfrms)).rounded()))
        case "FWATT": return signed(noisyFundamental(Double(model.fwattCode)))
        case "FVAR": return signed(noisyFundamental(Double(model.fvarCode)))
        case "FVA": return signed(max(0, noisyFundamental(Double(model.fvaCode))))
        case "IRMSONE": return noisyHalfCycle(powerQuality.irmsOne[phase.rawValue])
        case "VRMSONE": return noisyHalfCycle(powerQuality.vrmsOne[phase.rawValue])
        case "VTHD": return latchedTHD[phase.rawValue].voltage
        case "ITHD": return latchedTHD[phase.rawValue].current
        case "I_PCF", "V_PCF":
            let t = Double(sample) / Self.dspRate, w = 2 * Double.pi * scenario.frequencyHz
            let peak = quantity == "I_PCF" ? model.waveformIrms : model.waveformVrms
            let angle = quantity == "I_PCF" ? model.currentAngleRad : model.voltageAngleRad
            // Each harmonic at its own frequency and phase, on the same scale (RMS code × 74,532,013 / 52,702,092 = peak).
            let harmonics = (quantity == "I_PCF" ? model.currentHarmonics : model.voltageHarmonics).reduce(0.0) {
                $0 + $1.rms * 74_532_013 / Self.rmsFullScale * sin(Double($1.order) * w * t - $1.angleRad)
            }
            return signed(peak * 74_532_013 / Self.rmsFullScale * 2.0.squareRoot() * sin(w * t - angle) / 2.0.squareRoot() + harmonics)
        default: return 0
        }
    }

    /// `_2` burst alias address → (quantity, phase), 0x680–0x6B8 (DS Table 6 pp. 56–57).
    static let burstAliases: [UInt16: (String, Phase)] = {
        var map: [UInt16: (String, Phase)] = [:]
        for p in Phase.allCases {
            for quantity in Register.burstPhaseLayout {
                map[Register.burstAlias(quantity, p)!.address] = (quantity, p)
            }
        }
        return map
    }()

    static func isBurstable(_ address: UInt16) -> Bool {
        (0x500...0x63C).contains(address) || (0x680...0x6BC).contains(address)
    }
}
