// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock

/// The ADE9000 driver: detects the chip, sets it up, writes and verifies the calibration, reads snapshots.
///
/// An actor: it owns the bus, so no read-modify-write interleaves. Measurement registers are never cached.
/// Every register read is CRC-checked: the CRC the chip appends (CONFIG1.BURST_EN = 0) or, once burst reads
/// are on (no CRC appended to any read, DS Table 7 p.70), the CRC_SPI register read straight after the data
/// (it holds the CRC-16 of the data sent on MISO during the last read, DS p.42). A read whose CRC does not
/// match is repeated; a value is used only after its CRC matched.
public actor ADE9000Driver {
    /// Counters of what the driver did, for logs, tests and benchmarks.
    public struct Statistics: Sendable, Hashable {
        /// Chip-select-framed transactions clocked.
        public var transactions = 0
        /// Calls into the transport (one spidev ioctl each).
        public var transfers = 0
        /// Reads whose CRC did not match and were repeated.
        public var crcMismatches = 0
        /// Writes whose read-back differed and were repeated.
        public var verifyMismatches = 0
        /// Times the chip was found reset or stopped and set up again.
        public var reinitialisations = 0
        /// RESET pin pulses (``ChipResetLine``) given to a chip that stopped answering.
        public var hardwareResets = 0
        /// Polls of the power-quality detectors (``pollPowerQuality(watchingCurrents:)``), and the transactions and
        /// transfers they took (included in the totals above).
        public var eventPolls = 0
        public var eventPollTransactions = 0
        public var eventPollTransfers = 0
    }

    public nonisolated let transport: any SPITransport
    public private(set) var setup: ADE9000Setup
    public internal(set) var statistics = Statistics()
    public private(set) var identity: ChipIdentity?
    /// The chip's RESET pin, when the board has it wired to a GPIO (`[GPIO_SERVICE] chip_reset_pin`).
    public nonisolated let resetLine: (any ChipResetLine)?

    let logger: Logger
    let clock: any MeterClock
    /// What CONFIG1.BURST_EN is believed to be; decides how reads are framed.
    var burstEnabled = false
    /// The chip stopped answering and that was logged; cleared by the next good snapshot (one warning per episode).
    private var silenceLogged = false
    /// A RESET pulse failed and that was logged; cleared by a recovery that works.
    var resetFailureLogged = false
    /// ``initialize()`` is under way (its waits let other calls onto the actor): the power-quality poll stays off the bus.
    var settingUp = false
    /// When the first transfer since it was cleared happened (``RawSnapshot/takenAt``).
    var lastTransferAt: Double?
    /// When the `together` items of the last ``read(_:trailingWrites:framing:together:)`` were read.
    private var togetherAt: Double?
    private var temperatureTrim: UInt32 = 0

    /// - Parameters:
    ///   - transport: the bus; the driver is its only user from now on.
    ///   - setup: settings and calibration to write at ``initialize()``.
    ///   - logger: where the driver reports resets, retries and warnings.
    ///   - clock: the meter's clock: the driver waits on it between polls, and stamps each snapshot with its
    ///     monotonic and wall time at the bus transfer (``RawSnapshot/takenAt``, ``RawSnapshot/wallTime``).
    ///   - resetLine: the chip's RESET pin, if wired: pulsed when the chip stops answering (see ``initialize()``).
    public init(transport: any SPITransport, setup: ADE9000Setup, logger: Logger, clock: any MeterClock = SystemClock(),
                resetLine: (any ChipResetLine)? = nil) {
        self.transport = transport
        self.setup = setup
        self.logger = logger
        self.clock = clock
        self.resetLine = resetLine
    }

    var device: String { transport.deviceName }

    // MARK: - Detection and start-up

    /// Reads PART_ID and VERSION and checks they are an ADE9000's. Writes nothing.
    /// - Throws: ``ADE9000Error`` `.noChip` when the bus answers all ones or all zeros, `.notADE9000` when
    ///   PART_ID bit 20 is clear, `.crc` when the answer is garbled.
    @discardableResult
    public func probe() throws -> ChipIdentity {
        // CRC_SPI framing works whatever BURST_EN is (a left-over from an earlier run, say).
        let partFrames = [Frame.read(.PART_ID, withCRC: false), Frame.read(.CRC_SPI, withCRC: false)]
        let miso = try clock(partFrames).miso
        let partID = Frame.value(in: miso[0], width: .bits32)
        if partID == 0xFFFF_FFFF || partID == 0 {
            let why = partID == 0 ? "all zeros: MISO held low" : "all ones: MISO pulled up, nothing driving it"
            throw ADE9000Error(.noChip, subject: "",
                detail: "no ADE9000 answered on \(device) (PART_ID read 0x\(hex(partID, digits: 8)), \(why))",
                remedy: transport is any SimulatedBus
                    ? "the simulated chip has a dead-bus fault in its scenario (faults.dead_bus)"
                    : "check the meter board's power, wiring and chip select, that SPI is enabled (dtparam=spi=on), or run with --simulate")
        }
        let crc = UInt16(truncatingIfNeeded: Frame.value(in: miso[1], width: .bits16))
        guard crc == CRC16.ccittFalse(value: partID, width: .bits32) else {
            // One garbled answer is not a verdict: read it again the careful way.
            let checked = try read([.single(.PART_ID)], framing: .crcRegister)[0][0]
            return try identify(partID: checked)
        }
        return try identify(partID: partID)
    }

    private func identify(partID: UInt32) throws -> ChipIdentity {
        guard partID & (1 << 20) != 0 else {
            throw ADE9000Error(.notADE9000, subject: "\(device) PART_ID (0x472)",
                detail: "read 0x\(hex(partID, digits: 8)), bit 20 (ADE9000_ID) is clear: the device on this bus is not an ADE9000",
                remedy: "check that --device names the meter's SPI bus and chip select")
        }
        let version = UInt16(try read([.single(.VERSION)], framing: .crcRegister)[0][0])
        let identity = ChipIdentity(partID: partID, version: version)
        if !identity.isKnownVersion {
            logger.warning("unexpected ADE9000 VERSION", metadata: ["spi.device": "\(device)", "register.value": "0x\(hex(version, digits: 4))"])
        }
        self.identity = identity
        return identity
    }

    /// The start-up sequence of ``initialize()``: resets the chip, writes the start-up sequence and the
    /// calibration, verifies every register by read-back, starts the DSP and waits until the first power
    /// factor is ready (about 1 s).
    /// - Throws: ``ADE9000Error`` naming the register that failed; `.unresponsive` when a software reset
    ///   never sets RSTDONE.
    func setUp() async throws -> ChipIdentity {
        let identity = try probe()

        // 1. Software reset; wait for RSTDONE (STATUS1 bit 16), at least 50 ms (no-OS: "> 46 ms").
        try writeWithoutReadback(.CONFIG1, Config1.SWRST.rawValue)
        burstEnabled = false
        try await clock.sleep(for: .milliseconds(50))
        do {
            // Through CRC_SPI: it checks out whatever BURST_EN is, so a chip that ignored SWRST reads as such.
            try await waitFor(.STATUS1, bit: Status1.RSTDONE.rawValue, within: .seconds(1), what: "RSTDONE after a software reset",
                              framing: .crcRegister)
        } catch let error as ADE9000Error where error.code == .timeout {
            // A chip that ignores SWRST is wedged: only the RESET pin or a power cycle helps (initialize()).
            throw ADE9000Error(.unresponsive, subject: error.subject, detail: error.detail + " (the chip ignores a software reset)")
        }
        try writeWithoutReadback(.STATUS1, Status1.RSTDONE.rawValue) // write 1 to clear

        // 2. Configuration and calibration, each verified.
        try writeVerified(setup.configurationWrites)
        temperatureTrim = try read(.TEMP_TRIM)

        // 3. Burst reads on (from here every read is checked through CRC_SPI), clear status, RUN, energy.
        if let config1 = setup.config1 {
            try writeVerified([(.CONFIG1, config1.rawValue)])
        }
        try writeWithoutReadback(.STATUS0, 0xFFFF_FFFF)
        try writeWithoutReadback(.STATUS1, 0xFFFF_FFFF)
        try writeVerified([(.RUN, 1)])
        try writeVerified([(.EP_CFG, setup.energyConfig(accumulate: true).rawValue)])
        try writeWithoutReadback(.TEMP_CFG, TemperatureConfig.TEMP_EN | TemperatureConfig.TEMP_START)

        // 4. RMS filters settle and the first PF arrives after 1.024 s (THD_PF_RDY, DS p.39).
        try await waitFor(.STATUS0, bit: Status0.THD_PF_RDY.rawValue, within: .milliseconds(2500), what: "the first power factor (THD_PF_RDY)")
        try writeWithoutReadback(.STATUS0, 0xFFFF_FFFF)
        logger.info("ADE9000 running", metadata: [
            "spi.device": "\(device)", "chip.part_id": "0x\(hex(identity.partID, digits: 8))",
            "chip.version": "0x\(hex(identity.version, digits: 4))", "spi.burst": "\(burstEnabled)",
        ])
        return identity
    }

    /// Writes new calibration registers into the running chip, verified, without a reset (SIGHUP).
    public func apply(calibration: [Phase: PhaseCalibration]) throws {
        setup.calibration = calibration
        try writeVerified(setup.calibrationWrites)
    }

    func waitFor(_ register: Register, bit: UInt32, within limit: Duration, what: String,
                 framing: ReadItem.Framing? = nil) async throws {
        var waited: Duration = .zero
        let step: Duration = .milliseconds(10)
        while try read([.single(register)], framing: framing)[0][0] & bit == 0 {
            guard waited < limit else {
                throw ADE9000Error(.timeout, subject: "\(device) \(register)",
                    detail: "waited \(limit) for \(what), bit \(bit.trailingZeroBitCount) never set",
                    remedy: "check the chip's clock (crystal) and supply; power-cycle the meter")
            }
            try await clock.sleep(for: step)
            waited += step
        }
    }

    // MARK: - Snapshots

    /// Reads the measurement registers: one burst for V, I, P, Q, S, PF, THD and the fundamental V and I RMS of
    /// all phases, plus COM_PERIOD, ISUMRMS (the neutral current: it has no burst alias, so it costs one more
    /// register read in the same transfer), ANGL_VA_VB and ANGL_VA_VC (16-bit, outside the burst ranges: two
    /// more reads in the same transfer), STATUS1 and RUN, and optionally the energy registers and the die
    /// temperature.
    ///
    /// When STATUS1.RSTDONE is set or RUN reads 0 the chip has reset behind our back (its calibration is
    /// gone): the driver sets it up again, then reads a fresh snapshot marked `reinitialised`. When every read
    /// comes back all ones or all zeros the chip stopped answering: ``initialize()`` resets it through its RESET
    /// pin if one is wired (the snapshot is then marked `reinitialised` too), else throws `.unresponsive`.
    public func snapshot(includeEnergy: Bool = true, includeTemperature: Bool = false) async throws -> RawSnapshot {
        for attempt in 0..<2 {
            var items: [ReadItem] = [.single(.STATUS1), .single(.RUN), .single(.COM_PERIOD), .single(.ISUMRMS),
                                     .single(.ANGL_VA_VB), .single(.ANGL_VA_VC)]
            let useBurst = burstEnabled
            if useBurst {
                items.append(.burst(ReadItem.measurementBurstStart, count: ReadItem.measurementBurstCount))
            } else {
                for p in Phase.allCases {
                    items += [.single(.IRMS(p)), .single(.VRMS(p)), .single(.WATT(p)), .single(.VAR(p)), .single(.VA(p)), .single(.PF(p)),
                              .single(.VTHD(p)), .single(.ITHD(p)), .single(.IFRMS(p)), .single(.VFRMS(p))]
                }
            }
            if includeEnergy {
                for p in Phase.allCases { items += [.single(.WATTHR_HI(p)), .single(.VARHR_HI(p)), .single(.VAHR_HI(p))] }
            }
            if includeTemperature { items.append(.single(.TEMP_RSLT)) }

            let values: [[UInt32]]
            lastTransferAt = nil
            togetherAt = nil
            // The energy registers must come from one transfer, whose time labels them: a retry of one re-reads all.
            let energyItems = Set(items.indices.filter { items[$0].register.name.contains("HR_HI") })
            do {
                values = try read(items, trailingWrites: includeTemperature
                    ? [Frame.write(.TEMP_CFG, TemperatureConfig.TEMP_EN | TemperatureConfig.TEMP_START)] : [],
                    together: energyItems)
            } catch ADE9000Error.Code.crc {
                // A reset clears BURST_EN, so the burst comes back framed the other way and never checks out.
                // STATUS1 and RUN read through CRC_SPI check out either way: ask them before giving up.
                let state: [[UInt32]]
                do {
                    state = try read([.single(.STATUS1), .single(.RUN)], framing: .crcRegister)
                } catch let error as ADE9000Error where error.code == .crc {
                    // Nothing checks out. All ones or all zeros on the wire: the chip stopped answering.
                    guard attempt == 0, let answer = silentAnswer() else { throw error }
                    statistics.reinitialisations += 1
                    if !silenceLogged {
                        logger.warning("ADE9000 stopped answering, setting it up again", metadata: [
                            "spi.device": "\(device)", "chip.answer": "\(answer)",
                        ])
                        silenceLogged = true
                    }
                    try await initialize()
                    continue
                }
                guard state[0][0] & Status1.RSTDONE.rawValue != 0 || state[1][0] & 1 == 0 else { throw ADE9000Error(.crc, subject: "\(device) snapshot", detail: "reads kept failing their CRC while the chip is running", remedy: "check the SPI wiring and ground, lower the SPI clock (spi_speed_hz)") }
                values = [state[0], state[1]]
            }
            // The transfer that read the energy counters (the first one of the batch unless they needed a retry).
            let takenAt = togetherAt ?? lastTransferAt ?? clock.monotonic()
            let status1 = values[0][0], run = values[1][0]
            if status1 & Status1.RSTDONE.rawValue != 0 || run & 1 == 0 {
                guard attempt == 0 else {
                    throw ADE9000Error(.timeout, subject: "\(device) STATUS1/RUN",
                        detail: "the chip reset again right after being set up (STATUS1 0x\(hex(status1, digits: 8)), RUN \(run))",
                        remedy: "check the meter's supply voltage and the RESET line")
                }
                statistics.reinitialisations += 1
                logger.warning("ADE9000 reset behind our back, setting it up again", metadata: [
                    "spi.device": "\(device)", "chip.status1": "0x\(hex(status1, digits: 8))", "chip.run": "\(run)",
                ])
                try await initialize()
                continue
            }
            if status1 & Status1.needsReset.rawValue != 0 {
                logger.warning("ADE9000 reports an error bit in STATUS1", metadata: ["chip.status1": "0x\(hex(status1, digits: 8))"])
            }
            // 16-bit registers arrive in the low half of the word.
            let angles = RawSnapshot.VoltageAngleCodes(aToB: UInt16(truncatingIfNeeded: values[4][0]),
                                                       aToC: UInt16(truncatingIfNeeded: values[5][0]))
            var index = 6
            var phases: [RawSnapshot.PhaseCodes] = []
            if useBurst {
                let words = values[index]; index += 1
                for p in Phase.allCases {
                    func word(_ quantity: String) -> UInt32 {
                        words[Int(Register.burstAlias(quantity, p)!.address - ReadItem.measurementBurstStart.address)]
                    }
                    phases.append(.init(irms: word("IRMS"), vrms: word("VRMS"), watt: Int32(bitPattern: word("WATT")),
                                        reactive: Int32(bitPattern: word("VAR")), apparent: Int32(bitPattern: word("VA")), pf: word("PF"),
                                        harmonics: .init(vthd: word("VTHD"), ithd: word("ITHD"), ifrms: word("FIRMS"), vfrms: word("FVRMS"))))
                }
            } else {
                for _ in Phase.allCases {
                    let v = values[index..<(index + 10)].map { $0[0] }; index += 10
                    phases.append(.init(irms: v[0], vrms: v[1], watt: Int32(bitPattern: v[2]), reactive: Int32(bitPattern: v[3]),
                                        apparent: Int32(bitPattern: v[4]), pf: v[5],
                                        harmonics: .init(vthd: v[6], ithd: v[7], ifrms: v[8], vfrms: v[9])))
                }
            }
            var energy: [RawSnapshot.EnergyCodes]?
            if includeEnergy {
                energy = Phase.allCases.map { _ in
                    defer { index += 3 }
                    return .init(watthrHi: values[index][0], varhrHi: values[index + 1][0], vahrHi: values[index + 2][0])
                }
            }
            let temperature = includeTemperature ? Temperature.celsius(result: values[index][0], trim: temperatureTrim) : nil
            silenceLogged = false
            return RawSnapshot(phases: phases, comPeriod: values[2][0], isumrms: values[3][0], voltageAngles: angles,
                               energy: energy, temperatureCelsius: temperature,
                               status1: status1, reinitialised: attempt > 0, takenAt: takenAt,
                               wallTime: clock.wall(atMonotonic: takenAt))
        }
        preconditionFailure("the loop returns or throws")
    }

    // MARK: - Registers

    /// Reads one register, CRC-checked.
    public func read(_ register: Register) throws -> UInt32 {
        try read([.single(register)])[0][0]
    }

    /// Writes `value` and reads it back until they agree.
    /// - Throws: ``ADE9000Error`` `.verify` naming the register, the value written and the value read.
    public func write(_ register: Register, _ value: UInt32) throws {
        try writeVerified([(register, value)])
    }

    /// Writes without reading back: for self-clearing and write-1-to-clear registers (CONFIG1.SWRST,
    /// STATUS0/1, TEMP_CFG.TEMP_START), whose read-back never equals what was written.
    public func writeWithoutReadback(_ register: Register, _ value: UInt32) throws {
        _ = try clock([Frame.write(register, value)])
    }

    /// Writes all, reads all back, repeats the ones that differ.
    private func writeVerified(_ writes: [(Register, UInt32)]) throws {
        var pending = writes.map { (register: $0.0, value: $0.1 & widthMask($0.0)) }
        for attempt in 1...max(1, setup.attempts) {
            _ = try clock(pending.map { Frame.write($0.register, $0.value) })
            if pending.contains(where: { $0.register == .CONFIG1 }) {
                burstEnabled = pending.first { $0.register == .CONFIG1 }!.value & Config1.BURST_EN.rawValue != 0
            }
            let readBack = try read(pending.map { .single($0.register) }).map { $0[0] }
            let mismatched = zip(pending, readBack).filter { write, read in read & verifyMask(write.register) != write.value & verifyMask(write.register) }
            if mismatched.isEmpty { return }
            statistics.verifyMismatches += mismatched.count
            if attempt == setup.attempts {
                let (write, read) = mismatched[0]
                throw ADE9000Error(.verify, subject: "\(device) \(write.register)",
                    detail: "wrote 0x\(hex(write.value, digits: write.register.width.byteCount * 2)), read back 0x\(hex(read, digits: write.register.width.byteCount * 2)) \(setup.attempts) times",
                    remedy: "check that the chip is not write-locked (WR_LOCK) and the SPI wiring; lower the SPI clock")
            }
            logger.debug("read-back differed, writing again", metadata: ["register.name": "\(mismatched[0].0.register.name)"])
            pending = mismatched.map { $0.0 }
        }
    }

    private func widthMask(_ register: Register) -> UInt32 { register.width == .bits16 ? 0xFFFF : 0xFFFF_FFFF }

    /// Bits that must read back as written. TEMP_START clears itself.
    private func verifyMask(_ register: Register) -> UInt32 {
        register == .TEMP_CFG ? widthMask(register) & ~TemperatureConfig.TEMP_START : widthMask(register)
    }

    // MARK: - Framing and CRC

    /// Reads the items in one transport call, CRC-checks each, and reads again only those that failed.
    ///
    /// The `together` items (a snapshot's energy counters) should come from one transfer, whose time then
    /// labels them (`togetherAt`). When a retry split them over several transfers, the whole group is read
    /// again, up to `attempts` times; if no clean read of all of them comes back, the values stand and the
    /// latest of their transfers' times is used (off by the retry's delay, about a millisecond on a real bus).
    /// - Returns: per item, its words (one for `.single`, `count` for `.burst`).
    func read(_ items: [ReadItem], trailingWrites: [[UInt8]] = [], framing: ReadItem.Framing? = nil,
              together: Set<Int> = []) throws -> [[UInt32]] {
        let framing = framing ?? (burstEnabled ? .crcRegister : .appendedCRC)
        var results = [[UInt32]?](repeating: nil, count: items.count)
        var times = [Double](repeating: 0, count: items.count)
        var pending = Array(items.indices)
        var writes = trailingWrites
        for _ in 0..<max(1, setup.attempts) {
            let (words, at) = try transfer(items, pending, framing: framing, writes: writes)
            writes = []
            var failed: [Int] = []
            for (index, value) in zip(pending, words) {
                if let value { results[index] = value; times[index] = at } else { failed.append(index) }
            }
            statistics.crcMismatches += failed.count
            if failed.isEmpty {
                if !together.isEmpty {
                    togetherAt = try regroup(items, together: together, framing: framing, results: &results, times: times)
                }
                return results.map { $0! }
            }
            logger.debug("CRC mismatch, reading again", metadata: [
                "spi.device": "\(device)", "register.name": "\(items[failed[0]].register.name)", "reads.failed": "\(failed.count)",
            ])
            pending = failed
        }
        let register = items[pending[0]].register
        throw ADE9000Error(.crc, subject: "\(device) \(register)",
            detail: "the CRC did not match the data in \(setup.attempts) reads in a row",
            remedy: "check the SPI wiring and ground, lower the SPI clock (spi_speed_hz), or check that no other program uses the bus")
    }

    /// Makes the `together` items one transfer's values if a retry split them; returns their time.
    private func regroup(_ items: [ReadItem], together: Set<Int>, framing: ReadItem.Framing,
                         results: inout [[UInt32]?], times: [Double]) throws -> Double {
        let group = together.sorted()
        let groupTimes = Set(group.map { times[$0] })
        if groupTimes.count == 1 { return groupTimes.first! }
        for _ in 0..<max(1, setup.attempts) {
            let (words, at) = try transfer(items, group, framing: framing, writes: [])
            let clean = words.compactMap { $0 }
            statistics.crcMismatches += words.count - clean.count
            if clean.count == group.count {
                for (index, value) in zip(group, clean) { results[index] = value }
                return at
            }
        }
        return groupTimes.max()!
    }

    /// Clocks the frames of `indices` (and `writes`) in one transfer; per item its words, nil on a CRC mismatch.
    private func transfer(_ items: [ReadItem], _ indices: [Int], framing: ReadItem.Framing,
                          writes: [[UInt8]]) throws -> (words: [[UInt32]?], at: Double) {
        var frames: [[UInt8]] = []
        var spans: [Range<Int>] = []
        for index in indices {
            let itemFrames = items[index].frames(framing)
            spans.append(frames.count..<(frames.count + itemFrames.count))
            frames += itemFrames
        }
        frames += writes
        let (miso, at) = try clock(frames)
        return (zip(indices, spans).map { index, span in items[index].decode(Array(miso[span]), framing) }, at)
    }

    /// One transport call; counts it. - Returns: the MISO bytes and when the transfer happened.
    @discardableResult
    func clock(_ frames: [[UInt8]]) throws -> (miso: [[UInt8]], at: Double) {
        statistics.transfers += 1
        statistics.transactions += frames.count
        do {
            let (miso, at) = try transport.stampedTransfer(frames, clock: { clock.monotonic() })
            if lastTransferAt == nil { lastTransferAt = at }
            return (miso, at)
        } catch {
            throw ADE9000Error(.bus, subject: device, detail: error.detail,
                               remedy: "check that the SPI device exists and is not used by another program")
        }
    }
}

/// What to read in one CRC-checked unit.
enum ReadItem {
    case single(Register)
    case burst(Register, count: Int)

    /// AIRMS_2 (0x682) … CFVRMS_2 (0x6B4): every per-phase quantity a reading needs, THD and the fundamental
    /// RMS included, 51 words, one transaction (6 words, 24 bytes, more than ending at CPF_2).
    static let measurementBurstStart = Register.burstAlias("IRMS", .a)!
    static let measurementBurstCount = Int(Register.burstAlias("FVRMS", .c)!.address - Register.burstAlias("IRMS", .a)!.address) + 1

    /// How a read proves its data: the CRC the chip appends (only while BURST_EN = 0), or a read of
    /// CRC_SPI straight after (works whatever BURST_EN is).
    enum Framing { case appendedCRC, crcRegister }

    var register: Register {
        switch self { case .single(let r), .burst(let r, _): r }
    }

    /// Appended CRC while BURST_EN = 0; a CRC_SPI read after the data once BURST_EN = 1.
    func frames(_ framing: Framing) -> [[UInt8]] {
        switch self {
        case .single(let register) where framing == .appendedCRC:
            return [Frame.read(register, withCRC: true)]
        case .single(let register):
            return [Frame.read(register, withCRC: false), Frame.read(.CRC_SPI, withCRC: false)]
        case .burst(let register, let count):
            return [Frame.burstRead(from: register, count: count), Frame.read(.CRC_SPI, withCRC: false)]
        }
    }

    /// The words, or nil when the CRC does not match.
    func decode(_ miso: [[UInt8]], _ framing: Framing) -> [UInt32]? {
        switch self {
        case .single(let register) where framing == .appendedCRC:
            let data = miso[0][2..<(2 + register.width.byteCount)]
            guard CRC16.ccittFalse(data) == Frame.appendedCRC(in: miso[0], width: register.width) else { return nil }
            return [Frame.value(in: miso[0], width: register.width)]
        case .single(let register):
            let data = miso[0][2...]
            guard CRC16.ccittFalse(data) == UInt16(Frame.value(in: miso[1], width: .bits16)) else { return nil }
            return [Frame.value(in: miso[0], width: register.width)]
        case .burst(_, let count):
            let data = miso[0][2...]
            guard CRC16.ccittFalse(data) == UInt16(Frame.value(in: miso[1], width: .bits16)) else { return nil }
            return (0..<count).map { Frame.value(in: miso[0], width: .bits32, at: 2 + 4 * $0) }
        }
    }
}
