// SPDX-License-Identifier: Apache-2.0

import ADE9000

/// Energy accumulation (DS p.34, EP_CFG Table 7 p.76, TRM pp. 20–21): every 8 kSPS sample adds xWATT, xVAR and
/// xVA to 42-bit internal accumulators; at the end of each energy period (EGYRDY) they are added to
/// (EGY_LD_ACCUM = 0) or copied into (= 1) the 45-bit user registers, and cleared.
extension ChipState {
    // EP_CFG bits (DS Table 7 p.76).
    static let EGY_PWR_EN: UInt32 = 1 << 0
    static let EGY_TMR_MODE: UInt32 = 1 << 1
    static let EGY_LD_ACCUM: UInt32 = 1 << 4
    static let RD_RST_EN: UInt32 = 1 << 5
    static let EGYRDY: UInt32 = 1 << 0

    /// What EGY_TIME counts: 8 kSPS samples (EGY_TMR_MODE = 0) or half line cycles of the ZX_SEL signal (= 1);
    /// the period is EGY_TIME + 1 of them (TRM p.20).
    enum EnergyTimer {
        case samples
        /// nil: the selected signal is below ZXTHRSH, no crossing comes and no period ends.
        case halfCycles(ZeroCrossingSignal?)

        /// The sample at which a period of `period` units ends, `count` of them already counted at sample `s`.
        ///
        /// When EGY_TIME shrank below what the running period already counted, the period ends at the next
        /// unit. The DS and TRM say only "after EGY_TIME + 1 samples or half line cycles" and nothing of a
        /// restart on a write, so the count is compared with the new EGY_TIME: the energy held goes out with the
        /// next EGYRDY, neither lost nor carried into a later period, and no chunk is ever negative.
        func periodEnd(after s: Int64, count: Int64, period: Int64) -> Int64? {
            let left = max(1, period - count)
            switch self {
            case .samples: return s + left
            case .halfCycles(let zx?): return zx.sample(reaching: zx.crossings(through: s) + left, after: s)
            case .halfCycles(nil): return nil
            }
        }

        /// Units counted in the samples (a, b].
        func units(from a: Int64, to b: Int64) -> Int64 {
            switch self {
            case .samples: return b - a
            case .halfCycles(let zx?): return zx.crossings(through: b) - zx.crossings(through: a)
            case .halfCycles(nil): return 0
            }
        }
    }

    /// Accumulates the samples (start, end] of one step, in which the model is constant.
    mutating func accumulateEnergy(_ model: Model, from start: Int64, to end: Int64) {
        let epCfg = value(.EP_CFG)
        let period = Int64(value(.EGY_TIME) & 0x1FFF) + 1
        let latch = epCfg & Self.EGY_LD_ACCUM != 0
        let timer: EnergyTimer = epCfg & Self.EGY_TMR_MODE == 0
            ? .samples : .halfCycles(ZeroCrossingSignal(state: self, model: model))
        let perSample = (0..<3).map { [model.phases[$0].wattCode, model.phases[$0].varCode, model.phases[$0].vaCode] }

        var s = start
        while s < end {
            if !latch, energyPeriodCount == 0, internalEnergy.allSatisfy({ $0.allSatisfy { $0 == 0 } }) {
                // Whole periods in one go (add mode): the same sum as period by period.
                let periods = timer.units(from: s, to: end) / period
                if periods > 0, let at = timer.periodEnd(after: s, count: 0, period: periods * period), at <= end {
                    for p in 0..<3 { for q in 0..<3 { userEnergy[p][q] = Self.wrap45(userEnergy[p][q] &+ perSample[p][q] * (at - s)) } }
                    setStatus0(Self.EGYRDY)
                    s = at
                    continue
                }
            }
            guard let at = timer.periodEnd(after: s, count: energyPeriodCount, period: period), at <= end else {
                addInternal(perSample, samples: end - s)
                energyPeriodCount += timer.units(from: s, to: end)
                return
            }
            addInternal(perSample, samples: at - s)
            for p in 0..<3 {
                for q in 0..<3 {
                    userEnergy[p][q] = latch ? internalEnergy[p][q] : Self.wrap45(userEnergy[p][q] &+ internalEnergy[p][q])
                    internalEnergy[p][q] = 0
                }
            }
            energyPeriodCount = 0
            setStatus0(Self.EGYRDY)
            s = at
        }
    }

    private mutating func addInternal(_ perSample: [[Int64]], samples n: Int64) {
        for p in 0..<3 { for q in 0..<3 { internalEnergy[p][q] = Self.wrap42(internalEnergy[p][q] &+ perSample[p][q] * n) } }
    }

    /// EP_CFG written: a change of EGY_TMR_MODE starts the count afresh in the new unit (energy held stays).
    mutating func energyConfigWritten(old: UInt32, new: UInt32) {
        if (old ^ new) & Self.EGY_TMR_MODE != 0 { energyPeriodCount = 0 }
    }

    /// Read with reset (EP_CFG.RD_RST_EN, DS Table 7 p.76; TRM p.21): reading a user energy register over the
    /// bus resets that register, so it accumulates from zero; reading xWATTHR_HI leaves xWATTHR_LO as it was,
    /// and reading LO leaves HI. Errata (DS p.43, ade9000.md §3.4): the feature does not work on silicon, do not
    /// use it; the driver keeps RD_RST_EN = 0. The DS does not describe how it fails, so this models the
    /// documented behaviour only. Back-door reads (``SimulatedADE9000/peek(_:)``) reset nothing.
    mutating func resetEnergyOnRead(_ address: UInt16) {
        guard value(.EP_CFG) & Self.RD_RST_EN != 0 else { return }
        for p in Phase.allCases {
            for (q, lo) in Self.energyLoAddresses.enumerated() {
                let base = lo + UInt16(p.rawValue) * 0x3C
                if address == base { userEnergy[p.rawValue][q] = (userEnergy[p.rawValue][q] >> 13) << 13 }
                if address == base + 1 { userEnergy[p.rawValue][q] &= 0x1FFF }
            }
        }
    }

    /// AWATTHR_LO, AVARHR_LO, AVAHR_LO; HI follows each, phase stride 0x3C (DS Table 6 pp. 49–51).
    static let energyLoAddresses: [UInt16] = [0x2E6, 0x2F0, 0x2FA]
}
