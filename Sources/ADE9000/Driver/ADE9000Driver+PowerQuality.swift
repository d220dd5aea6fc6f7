// SPDX-License-Identifier: Apache-2.0

import MeterClock

extension ADE9000Driver {
    /// Reads the power-quality engine: STATUS1 and EVENT_STATUS in one transfer (two frames, the cost of an idle
    /// poll); when a dip, swell, overcurrent or zero-crossing latch is set, a phase is in a dip or swell, or
    /// `watchingCurrents` (an overcurrent is open), a second transfer reads DIPx, SWELLx, OISTATUS, OIx and xIRMSONE
    /// and, last in the same transfer, clears exactly the latches seen (write 1 to clear, DS p.41): a latch set after
    /// the read stays for the next poll, and OISTATUS is read before clearing OI resets it.
    ///
    /// The chip is set up with CONFIG1.DIP_SWELL_IRQ_MODE = 1, so a dip or swell latches once at its start and once at
    /// its end; EVENT_STATUS says which it was. RSTDONE and the error bits are the sampler's: never cleared here.
    /// - Throws: ``ADE9000Error`` as any read (the caller keeps polling; the sampler handles a chip that stopped).
    public func pollPowerQuality(watchingCurrents: Bool) throws -> RawPQStatus {
        let before = statistics
        defer {
            statistics.eventPolls += 1
            statistics.eventPollTransactions += statistics.transactions - before.transactions
            statistics.eventPollTransfers += statistics.transfers - before.transfers
        }
        guard !settingUp, identity != nil else {
            let now = clock.monotonic()
            return RawPQStatus(takenAt: now, wallTime: clock.wall(atMonotonic: now), status1: [], live: [], details: nil, chipReady: false)
        }
        lastTransferAt = nil
        let head = try read([.single(.STATUS1), .single(.EVENT_STATUS)])
        let takenAt = lastTransferAt ?? clock.monotonic()
        let status1 = Status1(rawValue: head[0][0])
        // Bits [5:0] only: the rest of EVENT_STATUS is the no-load and CF state (ade9000.md §2.5).
        let live = EventStatus(rawValue: head[1][0] & 0x3F)
        let latched = status1.intersection(.powerQuality)
        guard !status1.contains(.RSTDONE), !latched.isEmpty || !live.isEmpty || watchingCurrents else {
            return RawPQStatus(takenAt: takenAt, wallTime: clock.wall(atMonotonic: takenAt), status1: status1, live: live, details: nil)
        }
        var items: [ReadItem] = []
        for p in Phase.allCases { items += [.single(.DIP(p)), .single(.SWELL(p)), .single(.OI(p)), .single(.IRMSONE(p))] }
        items.append(.single(.OISTATUS))
        let words = try read(items, trailingWrites: latched.isEmpty ? [] : [Frame.write(.STATUS1, latched.rawValue)]).map { $0[0] }
        func column(_ offset: Int) -> [UInt32] { Phase.allCases.map { words[$0.rawValue * 4 + offset] & 0x00FF_FFFF } }
        let details = RawPQStatus.Details(dip: column(0), swell: column(1), overcurrent: column(2),
                                          overcurrentStatus: OvercurrentStatus(rawValue: words[12] & 0xF),
                                          halfCycleCurrent: Phase.allCases.map { words[$0.rawValue * 4 + 3] })
        return RawPQStatus(takenAt: takenAt, wallTime: clock.wall(atMonotonic: takenAt), status1: status1, live: live, details: details)
    }
}
