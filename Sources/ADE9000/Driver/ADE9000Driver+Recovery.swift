// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterClock

/// Bringing back a chip that stopped answering: its RESET pin when the board has one wired, else a software
/// reset, and when neither helps an error that says how to fix it.
extension ADE9000Driver {
    /// How long RESET is held low: the chip needs ≥ 1 µs (DS pin table p.13); 100 µs is far from that edge and
    /// still short next to the 50 ms the chip then takes.
    public static let resetPulseWidth: Duration = .microseconds(100)

    /// What to do when the chip stopped answering and no RESET pin is wired.
    public static let unresponsiveRemedy =
        "wire the ADE9000 RESET pin to a GPIO and set [GPIO_SERVICE] chip_reset_pin, or power-cycle the meter"

    /// Resets the chip, writes the start-up sequence and the calibration, verifies every register by
    /// read-back, starts the DSP and waits until the first power factor is ready (about 1 s).
    ///
    /// A chip that answers all ones or all zeros, or ignores a software reset (no RSTDONE), is wedged. With a
    /// ``resetLine`` the driver then pulses RESET low (``resetPulseWidth``), waits for RSTDONE (up to 1 s), sets
    /// the chip up again, reads the calibration back, and logs one notice. Without one, a chip that answered
    /// before gets one more software reset; if that does not help, the error is `.unresponsive` and names the fix.
    /// - Throws: ``ADE9000Error`` naming the register that failed; nothing is left half-running: a failed
    ///   start leaves RUN = 0.
    @discardableResult
    public func initialize() async throws -> ChipIdentity {
        settingUp = true
        defer { settingUp = false }
        do {
            return try await setUp()
        } catch let error as ADE9000Error where error.code == .noChip || error.code == .unresponsive {
            if let resetLine { return try await recover(through: resetLine, seen: error) }
            // A chip never seen on this bus is not wedged but absent: keep the error that says so.
            guard identity != nil else { throw error }
            // Today's remedy first: a software reset written blind, then the whole start again.
            try? writeWithoutReadback(.CONFIG1, Config1.SWRST.rawValue)
            burstEnabled = false
            try await clock.sleep(for: .milliseconds(50))
            do {
                return try await setUp()
            } catch let again as ADE9000Error where again.code == .noChip || again.code == .unresponsive {
                throw ADE9000Error(.unresponsive, subject: device,
                    detail: "the ADE9000 stopped answering: \(again.detail); a software reset did not bring it back",
                    remedy: Self.unresponsiveRemedy)
            }
        }
    }

    /// The hardware reset: pulse, RSTDONE, the start-up sequence, the calibration read back; one log line.
    private func recover(through line: any ChipResetLine, seen: ADE9000Error) async throws -> ChipIdentity {
        let micros = Int((Self.resetPulseWidth.seconds * 1e6).rounded())
        var metadata: Logger.Metadata = ["spi.device": "\(device)", "chip.seen": "\(seen.detail)", "reset.line": "\(line.name)"]
        func failed(_ detail: String) -> ADE9000Error {
            // Once per episode: the sampler tries again every sample.
            if !resetFailureLogged {
                logger.error("ADE9000 RESET pulse did not bring the chip back", metadata: metadata.merging(["error": "\(detail)"]) { $1 })
                resetFailureLogged = true
            }
            return ADE9000Error(.unresponsive, subject: "\(device) RESET (\(line.name))", detail: "\(seen.detail); \(detail)",
                                remedy: "check that chip_reset_pin is the GPIO wired to the ADE9000's RESET pin; power-cycle the meter")
        }
        let low: Double
        do {
            low = try await line.pulse(width: Self.resetPulseWidth)
        } catch {
            throw failed("the RESET pulse could not be driven: \(error)")
        }
        statistics.hardwareResets += 1
        burstEnabled = false
        metadata["reset.pulse_us"] = "\(micros) (measured \((low * 1e7).rounded() / 10))"
        let started = clock.monotonic()
        do {
            // As the Linux driver does after its reset GPIO: 50 ms, then RSTDONE within 1 s (ade9000.md §1.9).
            try await clock.sleep(for: .milliseconds(50))
            try await waitForResetDone(within: .seconds(1))
        } catch {
            throw failed("RSTDONE (STATUS1 bit 16) never set within 1 s of a \(micros) µs RESET pulse: \(error)")
        }
        metadata["chip.rstdone_ms"] = "\(Int(((clock.monotonic() - started) * 1000).rounded()))"
        let identity: ChipIdentity
        let verified: Int
        do {
            identity = try await setUp()
            verified = try verifyCalibration()
        } catch {
            throw failed("after the RESET pulse the chip could not be set up again: \(error)")
        }
        metadata["calibration.verified"] = "\(verified) registers read back equal"
        resetFailureLogged = false
        logger.notice("ADE9000 recovered through its RESET pin: set up again with the calibration", metadata: metadata)
        return identity
    }

    /// Polls STATUS1.RSTDONE every 10 ms; reads that still fail their CRC (the chip not answering yet) count
    /// as not done.
    private func waitForResetDone(within limit: Duration) async throws {
        var waited: Duration = .zero
        let step: Duration = .milliseconds(10)
        while true {
            if let status = try? read([.single(.STATUS1)], framing: .crcRegister)[0][0], status & Status1.RSTDONE.rawValue != 0 { return }
            guard waited < limit else {
                throw ADE9000Error(.timeout, subject: "\(device) STATUS1", detail: "RSTDONE not set after \(limit)")
            }
            try await clock.sleep(for: step)
            waited += step
        }
    }

    /// Reads every calibration register back and compares it with the setup.
    /// - Returns: how many registers were read back equal.
    /// - Throws: ``ADE9000Error`` `.verify` naming the first register that differs.
    public func verifyCalibration() throws -> Int {
        let expected = setup.calibrationWrites
        let values = try read(expected.map { .single($0.0) }).map { $0[0] }
        for ((register, value), read) in zip(expected, values) {
            let mask: UInt32 = register.width == .bits16 ? 0xFFFF : 0xFFFF_FFFF
            guard read & mask == value & mask else {
                throw ADE9000Error(.verify, subject: "\(device) \(register)",
                    detail: "calibration register reads 0x\(String(read, radix: 16)), config.ini sets 0x\(String(value & mask, radix: 16))",
                    remedy: "check that the chip is not write-locked (WR_LOCK) and the SPI wiring")
            }
        }
        return expected.count
    }

    /// PART_ID and CRC_SPI read raw (no CRC check): `all ones` or `all zeros` when every bit came back the
    /// same, which no answering chip sends (PART_ID has bit 20 set); nil when the chip answers.
    func silentAnswer() -> String? {
        guard let miso = try? clock([Frame.read(.PART_ID, withCRC: false), Frame.read(.CRC_SPI, withCRC: false)]).miso else {
            return nil
        }
        let part = Frame.value(in: miso[0], width: .bits32), crc = Frame.value(in: miso[1], width: .bits16)
        if part == 0xFFFF_FFFF, crc == 0xFFFF { return "all ones (PART_ID 0xFFFFFFFF)" }
        if part == 0, crc == 0 { return "all zeros (PART_ID 0x00000000)" }
        return nil
    }
}
