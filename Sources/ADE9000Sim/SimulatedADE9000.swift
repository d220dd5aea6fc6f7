// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import MeterClock
import Synchronization

/// A virtual ADE9000 on a virtual SPI bus: it receives the bytes a driver clocks out and answers the
/// bytes the chip would (DS p.42, TRM pp. 32–35), behind them a register file and a physical model of
/// the grid, the loads and the board (``Scenario``).
///
/// Wire behaviour (ade9000.md §1.10): the first 16 MOSI bits are CMD_HDR; width 16 bits for 0x480–0x4FE,
/// else 32; a write latches only when its whole data word arrived; a read answers 0x00 during the
/// header, then the register big-endian, then — with CONFIG1.BURST_EN = 0 — its CRC-16, else (burst
/// ranges 0x500–0x63C, 0x680–0x6BC) the next registers; anything after that reads 0xFF. CRC_SPI holds
/// the CRC of all data bytes sent in the last read (for a burst, of the whole burst: our reading of
/// "the data sent on MISO during the last register read", to be confirmed on silicon, ade9000.md §7).
///
/// Time: the clock's monotonic seconds; energy accumulates at 8 kSPS of them. Its wall clock places the
/// scenario's daily load schedules.
public final class SimulatedADE9000: SimulatedBus, Sendable {
    public let deviceName: String
    private let state: Mutex<ChipState>
    private let clock: any MeterClock

    /// - Parameters:
    ///   - scenario: the grid, loads and board.
    ///   - deviceName: how errors name this bus.
    ///   - clock: the meter's clock (tests pass a virtual one; `run --simulate` the service's).
    public init(scenario: Scenario, deviceName: String = "simulator", clock: any MeterClock) {
        self.deviceName = deviceName
        self.clock = clock
        self.state = Mutex(ChipState(scenario: scenario))
    }

    private func now() -> Double { clock.monotonic() }

    private func advance(_ chip: inout ChipState, to t: Double) {
        let offset = clock.wall(atMonotonic: t) - t
        if chip.wallOffset != offset { chip.wallOffset = offset; chip.modelCache = nil }
        chip.advance(to: t)
    }

    // MARK: Controls for tests and the service

    /// Changes the grid and loads from now on; energy so far stays.
    public func setScenario(_ scenario: Scenario) {
        let t = now()
        state.withLock { chip in
            advance(&chip, to: t)
            chip.scenario = scenario
            chip.frontEnd = scenario.frontEnd ?? .nibV3
            chip.modelCache = nil
        }
    }

    public var scenario: Scenario { state.withLock { $0.scenario } }

    /// Faults injected from now on.
    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    /// The chip resets without telling anyone (a brown-out, an ESD hit): registers to reset values,
    /// RUN = 0, RSTDONE set.
    public func resetSilently() {
        let t = now()
        state.withLock { chip in advance(&chip, to: t); chip.reset() }
    }

    /// A hardware reset (the RESET pin pulled low and released): clears a wedge, every register to its reset
    /// value, RUN = 0, RSTDONE set, as at power-up (DS p.13, p.62).
    public func hardwareReset() {
        let t = now()
        state.withLock { chip in
            advance(&chip, to: t)
            chip.wedged = false
            chip.heldInReset = false
            chip.reset()
        }
    }

    /// The level of the chip's RESET pin (active low), as the simulated GPIO drives it: while low the chip is
    /// held in reset and answers nothing (all ones); the rising edge ends the reset (``hardwareReset()``).
    public func resetPin(high: Bool) {
        let wasHeld = state.withLock { chip in
            defer { chip.heldInReset = !high }
            return chip.heldInReset
        }
        if high, wasHeld { hardwareReset() }
    }

    /// Wedges the chip now, as `faults.wedged_after_s` does at its time: all ones on MISO, every write
    /// (SWRST too) ignored, until ``hardwareReset()``.
    public func wedge() {
        let t = now()
        state.withLock { chip in advance(&chip, to: t); chip.wedged = true }
    }

    /// Whether the chip is wedged (``ScenarioFaults/wedgedAfterS``) and waits for a hardware reset.
    public var isWedged: Bool {
        let t = now()
        return state.withLock { chip in advance(&chip, to: t); return chip.wedged }
    }

    /// Register contents by backdoor, without a bus transaction (tests only).
    public func peek(_ register: Register) -> UInt32 {
        let t = now()
        return state.withLock { chip in advance(&chip, to: t); return chip.read(register.address) }
    }

    /// Chip-select-framed transactions seen so far.
    public var transactionCount: Int { state.withLock { $0.transactions } }

    // MARK: SPITransport

    public func transfer(_ frames: [[UInt8]]) throws(SPIError) -> [[UInt8]] {
        try stampedTransfer(frames, clock: { 0 }).miso
    }

    /// The chip's own time of the transfer (its `now`), whatever `clock` says: the service passes the
    /// same clock as `now`, and this way no scheduling hiccup between reading a clock and clocking the
    /// frames can separate the stamp from the energy counters it labels.
    public func stampedTransfer(_ frames: [[UInt8]], clock: () -> Double) throws(SPIError) -> (miso: [[UInt8]], at: Double) {
        let t = now()
        let miso = state.withLock { chip in
            advance(&chip, to: t)
            return frames.map { chip.transaction($0) }
        }
        return (miso, t)
    }
}

extension ChipState {
    /// One chip-select-framed transaction.
    mutating func transaction(_ mosi: [UInt8]) -> [UInt8] {
        transactions += 1
        if let dead = faults.deadBus { return [UInt8](repeating: dead == .allOnes ? 0xFF : 0x00, count: mosi.count) }
        // Wedged or held in reset: nothing drives MISO (its pull-up reads all ones) and no write lands.
        if wedged || heldInReset { return [UInt8](repeating: 0xFF, count: mosi.count) }
        var miso = [UInt8](repeating: 0xFF, count: mosi.count)
        guard mosi.count >= 2 else { return miso }
        miso[0] = 0; miso[1] = 0
        let header = UInt16(mosi[0]) << 8 | UInt16(mosi[1])
        let address = header >> 4
        let isRead = header & 0x0008 != 0
        let width = RegisterWidth(address: address).byteCount

        if !isRead {
            guard mosi.count >= 2 + width else { return miso } // SS rose early: nothing written (TRM p.35)
            var value: UInt32 = 0
            for byte in mosi[2..<(2 + width)] { value = value << 8 | UInt32(byte) }
            write(address, value)
            updateLast(address: address, header: header, value: value, width: width)
            return miso
        }

        var sent: [UInt8] = []
        var cursor = 2
        func emit(_ value: UInt32, bytes: Int) {
            for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) where cursor < miso.count {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                miso[cursor] = byte; sent.append(byte); cursor += 1
            }
        }
        let first = read(address)
        resetEnergyOnRead(address)
        emit(first, bytes: width)
        if burstEnabled, Self.isBurstable(address) {
            var next = address + 1
            while cursor < miso.count, Self.isBurstable(next) {
                emit(read(next), bytes: 4)
                next += 1
            }
        }
        let crc = WireCRC.lfsr(sent)
        if !burstEnabled, cursor + 2 <= miso.count {
            miso[cursor] = UInt8(crc >> 8); miso[cursor + 1] = UInt8(crc & 0xFF)
        }
        if address != Register.CRC_SPI.address { registers[Register.CRC_SPI.address] = UInt32(crc) }
        updateLast(address: address, header: header, value: first, width: width)

        // Noise on MISO after the chip computed its CRC: one flipped data bit.
        if faults.crcCorruptionProbability > 0, !sent.isEmpty,
           Double.random(in: 0..<1, using: &random) < faults.crcCorruptionProbability {
            let bit = Int.random(in: 0..<(sent.count * 8), using: &random)
            miso[2 + bit / 8] ^= UInt8(1 << (bit % 8))
        }
        return miso
    }

    /// LAST_CMD / LAST_DATA_16/32 (TRM p.35); reading them does not update them.
    private mutating func updateLast(address: UInt16, header: UInt16, value: UInt32, width: Int) {
        let own: Set<UInt16> = [Register.LAST_CMD.address, Register.LAST_DATA_16.address, Register.LAST_DATA_32.address]
        guard !own.contains(address) else { return }
        registers[Register.LAST_CMD.address] = UInt32(header)
        registers[width == 2 ? Register.LAST_DATA_16.address : Register.LAST_DATA_32.address] = value
    }

    /// A register write with the chip's side effects (DS Table 7).
    mutating func write(_ address: UInt16, _ value: UInt32) {
        modelCache = nil
        powerQuality.settings = nil
        let locked = registers[Register.WR_LOCK.address] == 1
        if locked, address <= 0x073 || (0x400...0x4FE).contains(address), address != Register.WR_LOCK.address { return }
        switch address {
        case Register.WR_LOCK.address:
            if value == 0x3C64 { registers[address] = 1 } else if value == 0x4AD1 { registers[address] = 0 }
        case Register.STATUS0.address, Register.STATUS1.address:
            registers[address, default: 0] &= ~value // write 1 to clear
            if address == Register.STATUS1.address { status1Cleared(value) }
        case Register.CONFIG1.address:
            if value & 1 != 0 { reset(); return } // SWRST, self-clearing
            registers[address] = value & ~(1 << 5) // CF_ACC_CLR self-clears
        case Register.RUN.address:
            if value & 1 == 1, !isRunning {
                runStartSample = sample; latchedPF = [0, 0, 0]; latchedTHD = Array(repeating: (0, 0), count: 3)
                startPowerQuality()
            }
            if value & 1 == 0 { runStartSample = nil }
            registers[address] = value & 1
        case Register.TEMP_CFG.address:
            writeTemperatureConfig(value)
        case Register.EP_CFG.address:
            energyConfigWritten(old: registers[address] ?? 0, new: value)
            registers[address] = value
        default:
            guard let register = Register.at(address) else { registers[address] = value; return }
            guard register.access != .readOnly else { return }
            registers[address] = register.format == .u24 ? value & 0x00FF_FFFF : value
        }
    }
}
