// SPDX-License-Identifier: Apache-2.0

/// One phase's dip or swell detector (TRM UG-1098 p.30 "Dip/Swell Indication"), fed one level a half cycle: the
/// half-cycle RMS xVRMSONE / 2^5 (``ADE9000/PowerQualityLevels``).
///
/// Outside an event it counts consecutive half cycles past the level (below DIP_LVL, above SWELL_LVL); when the
/// count reaches DIP_CYC (SWELL_CYC) the phase enters the event, and DIPx (SWELLx) takes the extreme of the counted
/// half cycles. Inside it follows the extreme every half cycle and counts consecutive half cycles not past the level;
/// the same count ends the event. STATUS1 is set at the entry, then with CONFIG1.DIP_SWELL_IRQ_MODE = 1 at the exit,
/// with 0 every further DIP_CYC half cycles inside and not at the exit ("an interrupt every DIP_CYC cycles").
///
/// The TRM does not say whether the repeated interrupts count from the entry or pause while the exit is being
/// counted; here they count every half cycle inside the event, from the entry. A count of 0 in DIP_CYC/SWELL_CYC
/// acts as 1 (a mode change needs a half cycle to see). A count left above a DIP_CYC written smaller ends with the
/// next half cycle, as EGY_TIME does in ``ChipState/EnergyTimer``.
struct LevelDetector: Equatable {
    enum Kind: Equatable {
        /// Past = below the threshold; DIPx keeps the lowest level.
        case dip
        /// Past = above; SWELLx keeps the highest.
        case swell
    }

    /// The registers it reads, constant between two bus accesses.
    struct Settings: Equatable {
        /// DIP_LVL or SWELL_LVL, 24 bits.
        var threshold: UInt32
        /// DIP_CYC or SWELL_CYC, at least 1.
        var halfCycles: Int64
        /// CONFIG1.DIP_SWELL_IRQ_MODE: STATUS1 once at the entry and once at the exit.
        var latchAtEntryAndExit: Bool
    }

    let kind: Kind
    /// DIPx or SWELLx: the extreme level of the current or last event (kept after the exit).
    private(set) var register: UInt32
    /// In the event: its EVENT_STATUS bit.
    private(set) var isActive = false
    /// Outside: consecutive half cycles past the level. Inside: consecutive half cycles not past it.
    private var count: Int64 = 0
    /// The extreme of the half cycles counted toward an entry.
    private var candidate: UInt32 = 0
    /// Inside, with repeated interrupts: half cycles since the entry or the last repeat.
    private var sinceLatch: Int64 = 0

    /// Outside an event and counting nothing: more half cycles not past the level change nothing.
    var isIdle: Bool { !isActive && count == 0 }

    init(kind: Kind, register: UInt32) {
        self.kind = kind
        self.register = register
    }

    func isPast(_ level: UInt32, _ s: Settings) -> Bool {
        kind == .dip ? level < s.threshold : level > s.threshold
    }

    private func extreme(_ a: UInt32, _ b: UInt32) -> UInt32 { kind == .dip ? min(a, b) : max(a, b) }

    /// One half cycle. Returns whether STATUS1's bit is set by it.
    mutating func halfCycle(level: UInt32, _ s: Settings) -> Bool {
        let past = isPast(level, s)
        if !isActive {
            guard past else { count = 0; return false }
            candidate = count == 0 ? level : extreme(candidate, level)
            count += 1
            guard count >= s.halfCycles else { return false }
            isActive = true; register = candidate; count = 0; sinceLatch = 0
            return true
        }
        register = extreme(register, level)
        count = past ? 0 : count + 1
        if count >= s.halfCycles {
            isActive = false; count = 0; sinceLatch = 0
            return s.latchAtEntryAndExit
        }
        guard !s.latchAtEntryAndExit else { return false }
        sinceLatch += 1
        guard sinceLatch >= s.halfCycles else { return false }
        sinceLatch = 0
        return true
    }

    /// `n` half cycles of the same level, with the same result as `n` calls of ``halfCycle(level:_:)`` but in a
    /// few steps: the half cycles that only count are added at once, and at most two change the mode.
    mutating func halfCycles(level: UInt32, count n: Int64, _ s: Settings) -> Bool {
        var latched = false, left = n
        while left > 0 {
            let quiet = min(left, quietHalfCycles(level, s))
            if quiet > 0 { latched = skip(quiet, level: level, s) || latched; left -= quiet }
            if left > 0 { latched = halfCycle(level: level, s) || latched; left -= 1 }
        }
        return latched
    }

    /// How many half cycles of `level` from now change no mode (enter or leave nothing).
    private func quietHalfCycles(_ level: UInt32, _ s: Settings) -> Int64 {
        switch (isActive, isPast(level, s)) {
        case (false, true), (true, false): max(0, s.halfCycles - count - 1)
        case (false, false), (true, true): .max
        }
    }

    /// `k` half cycles of `level` that change no mode: counts, extremes and repeated interrupts only.
    private mutating func skip(_ k: Int64, level: UInt32, _ s: Settings) -> Bool {
        let past = isPast(level, s)
        guard isActive else {
            if past { candidate = count == 0 ? level : extreme(candidate, level); count += k } else { count = 0 }
            return false
        }
        register = extreme(register, level)
        count = past ? 0 : count + k
        guard !s.latchAtEntryAndExit else { return false }
        // The first repeat after max(1, N − sinceLatch) half cycles, then one every N.
        let first = max(1, s.halfCycles - sinceLatch)
        guard k >= first else { sinceLatch += k; return false }
        sinceLatch = (k - first) % s.halfCycles
        return true
    }
}
