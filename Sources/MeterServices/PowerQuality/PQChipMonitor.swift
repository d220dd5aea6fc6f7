// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock
public import PowerQuality

/// Polls the chip's half-cycle engine on a fixed grid and feeds a ``PQChipEventDecoder``: the seam between the meter
/// and the events, used by ``PowerQualityService`` and by the tests that time events against the simulated chip.
///
/// Deadlines are absolute (`start + k · interval`); a late poll skips the polls it missed (the chip latched whatever
/// happened meanwhile). A failed poll is logged once per episode and tried again 200 intervals later: the sampler owns
/// the chip's health, and a dead bus must not take 200 retried reads a second. Each poll is one short bus transfer through the driver actor, between two snapshots, never inside one.
public struct PQChipMonitor: Sendable {
    /// Clock seconds between polls (`event_poll_ms`, times `--sim-speed` on a scaled clock).
    public var interval: Double
    public var clock: any MeterClock
    /// One poll: `watchingCurrents` asks for the half-cycle currents too (an overcurrent is open).
    public var poll: @Sendable (_ watchingCurrents: Bool) async throws -> PQChipObservation

    public init(interval: Double, clock: any MeterClock, poll: @escaping @Sendable (_ watchingCurrents: Bool) async throws -> PQChipObservation) {
        self.interval = interval; self.clock = clock; self.poll = poll
    }

    /// Polls until cancelled; `handle` gets each poll's started and finished events. - Returns: the decoder's open
    /// events, ended at the last poll.
    public func run(decoder: PQChipEventDecoder, logger: Logger,
                    handle: (_ started: [PQEvent], _ finished: [PQEvent]) async -> Void) async -> [PQEvent] {
        var decoder = decoder
        var failing = false
        let origin = clock.monotonic()
        var tick = 0.0
        while !Task.isCancelled {
            do {
                let observation = try await poll(decoder.watchingCurrents)
                if failing { logger.info("power quality: the chip's detectors answer again") }
                failing = false
                let (started, finished) = decoder.observe(observation)
                if !started.isEmpty || !finished.isEmpty { await handle(started, finished) }
            } catch {
                if !failing { logger.warning("power quality: reading the chip's detectors failed, trying again", metadata: ["error": "\(error)"]) }
                failing = true
            }
            let now = clock.monotonic()
            // While failing, every 200th poll (a second at 5 ms): each failed read was already retried on the bus.
            tick = max(tick + (failing ? 200 : 1), ((now - origin) / interval).rounded(.down) + 1)
            do { try await clock.follow(untilMonotonic: origin + tick * interval) } catch { break }
        }
        return decoder.close()
    }
}
