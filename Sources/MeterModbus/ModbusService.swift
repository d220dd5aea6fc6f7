// SPDX-License-Identifier: Apache-2.0

import ADE9000
public import Logging
public import MeterClock
public import MeterConfig
import MeterReadings
public import MeterServices
import MeterStore
public import ServiceLifecycle
import Synchronization

/// `[MODBUS]`: CLEMAP's Modbus TCP register map, served from the live hub, in the app's `ServiceGroup`.
///
/// Reads never touch the bus: live values are `hub.latest` (the newest one-second snapshot); the lifetime energy is
/// the store's `energy_totals` (which never decrease), read again whenever the storage has written a row, never
/// on a request. The server's threads are its own (``ModbusServer``), so serving never blocks sampling. When the port
/// cannot be bound the meter goes on metering: the error is logged once, naming `[MODBUS] port`, and binding is retried
/// every ``retrySeconds``.
public struct ModbusService: Service {
    /// The lifetime totals last read from the store, shared with the server's threads.
    final class TotalsCache: Sendable {
        private let value = Mutex<(totals: [Phase: MinuteRow.PhaseEnergy]?, rows: Int)>((nil, -1))
        var totals: [Phase: MinuteRow.PhaseEnergy]? { value.withLock { $0.totals } }
        var rows: Int { value.withLock { $0.rows } }
        func set(_ totals: [Phase: MinuteRow.PhaseEnergy], rows: Int) { value.withLock { $0 = (totals, rows) } }
    }

    private let settings: ModbusSettings
    private let hub: LiveHub
    private let clock: any MeterClock
    private let outputs: ModbusOutputs?
    private let logger: Logger
    /// Seconds between attempts to bind a port that was taken.
    public var retrySeconds: Double = 30

    /// - Parameters:
    ///   - settings: `[MODBUS]`.
    ///   - hub: the live hub: `latest`, `counters.rowsWritten`, `store`.
    ///   - clock: the meter's clock, to age the newest reading.
    ///   - outputs: the board's outputs A and B; nil without GPIO.
    public init(settings: ModbusSettings, hub: LiveHub, clock: any MeterClock, outputs: ModbusOutputs?, logger: Logger) {
        self.settings = settings; self.hub = hub; self.clock = clock; self.outputs = outputs; self.logger = logger
    }

    public func run() async throws {
        let hub = self.hub, clock = self.clock, totals = TotalsCache()
        let responder = ModbusResponder(settings: settings, sources: .init(
            latest: { hub.latest }, monotonicNow: { clock.monotonic() }, totals: { totals.totals }, outputs: outputs))
        let server = ModbusServer(responder: responder, logger: logger)
        let address = settings.bind.contains(":") ? "[\(settings.bind)]:\(settings.port)" : "\(settings.bind):\(settings.port)"
        var failures = 0, lastAttempt = -Double.infinity
        var elapsed = 0.0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if !server.isListening, elapsed - lastAttempt >= retrySeconds {
                lastAttempt = elapsed
                do {
                    try server.start()
                    logger.notice("Modbus TCP listening", metadata: [
                        "address": "\(address)", "modbus.unit": "\(settings.unitID)", "modbus.word_order": "\(settings.wordOrder.rawValue)",
                        "access": "\(settings.isLoopback ? "this machine only" : "the network, without authentication")",
                        "modbus.outputs": "\(settings.outputsWritable ? "writable" : "read only")",
                    ])
                } catch {
                    failures += 1
                    if failures == 1 {
                        logger.error("Modbus TCP cannot listen; metering goes on, retrying every \(Int(retrySeconds)) s",
                                     metadata: ["error": "\(error)"])
                    }
                }
            }
            refresh(totals)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            elapsed += 1
        }
        server.stop()
        let s = server.statistics
        logger.info("Modbus TCP stopped", metadata: [
            "modbus.requests": "\(s.requests)", "modbus.exceptions": "\(s.exceptions.values.reduce(0, +))",
            "modbus.connections": "\(s.connectionsAccepted)", "modbus.refused": "\(s.connectionsRefused)",
            "modbus.idle_closed": "\(s.connectionsIdleClosed)", "modbus.dropped": "\(s.connectionsDropped)",
        ])
    }

    /// Reads the totals again when the storage wrote a row since the last read (or none was read yet).
    private func refresh(_ cache: TotalsCache) {
        let rows = hub.counters.current.rowsWritten
        guard rows != cache.rows || cache.totals == nil, let store = hub.store.current else { return }
        do {
            cache.set(try store.totals(), rows: rows)
        } catch {
            logger.debug("Modbus TCP: lifetime energy not read", metadata: ["error": "\(error)"])
        }
    }
}

extension ModbusService: CustomStringConvertible {
    /// ServiceLifecycle names services in its log by their description; a struct's default would print every field.
    public var description: String { "MeterModbus.ModbusService" }
}
