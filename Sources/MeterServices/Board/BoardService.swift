// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterClock
public import MeterGPIO
public import ServiceLifecycle

/// The meter's GPIO while the service runs: outputs at their stored state, the status LED showing the
/// most urgent ``ServiceHealth`` condition, and the reset button (short press: acknowledge and log the
/// status; long press ≥ 5 s: a clean restart). No press ever deletes data.
public final class BoardService: Service {
    private let board: BoardIO
    private let clock: any MeterClock
    private let health: ServiceHealth
    private let logger: Logger
    private let requestRestart: @Sendable () -> Void

    /// - Parameters:
    ///   - board: the requested lines (`BoardIO.start()` is called here).
    ///   - requestRestart: called on a long press; the caller shuts the group down gracefully and exits
    ///     with ``ResetButton/restartExitCode`` so systemd starts the service again.
    public init(board: BoardIO, clock: any MeterClock, health: ServiceHealth, logger: Logger,
                requestRestart: @escaping @Sendable () -> Void) {
        self.board = board; self.clock = clock; self.health = health; self.logger = logger; self.requestRestart = requestRestart
    }

    public func run() async throws {
        do {
            try board.start()
        } catch {
            // GPIO trouble must not stop metering: log it once and carry on without LED and button.
            logger.error("GPIO unavailable; metering continues without LED, button and outputs", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        defer { board.close() }
        let health = self.health, logger = self.logger, requestRestart = self.requestRestart, clock = self.clock
        let led = board.offset(of: .led).map { StatusLEDDriver(backend: board.backend, offset: $0, clock: clock, logger: logger) }
        let button = board.offset(of: .resetButton).map { ResetButtonMonitor(backend: board.backend, offset: $0, clock: clock, logger: logger) }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let led {
                    group.addTask { try? await led.run() }
                    group.addTask {
                        // The LED follows the health, checked every 100 ms.
                        while !Task.isCancelled {
                            led.show(Self.ledState(for: health.current))
                            try? await Task.sleep(for: .milliseconds(100))
                        }
                    }
                }
                if let button {
                    group.addTask {
                        try? await button.run { event in
                            switch event.action {
                            case .showStatus:
                                led?.acknowledge()
                                logger.notice("reset button: status", metadata: ["status": "\(health.summary)"])
                                return .continue
                            case .restartService:
                                logger.notice("reset button held: restarting the service cleanly (no data is deleted)")
                                requestRestart()
                                return .stop
                            }
                        }
                    }
                }
                await group.waitForAll()
            }
        }
        // Returning before the group's shutdown reaches us would count as a failure: wait for our turn.
        try? await gracefulShutdown()
    }

    /// The LED state for a set of conditions: the most urgent one.
    public static func ledState(for conditions: Set<ServiceHealth.Condition>) -> StatusLEDState {
        StatusLEDState.mostUrgent(conditions.map { condition -> StatusLEDState in
            switch condition {
            case .starting: .starting
            case .clockUnsynchronised: .waitingForClockSync
            case .meterFault: .meterFault
            case .chipUnresponsive: .chipUnresponsive
            case .storageFault: .storageFault
            case .exporterBacklog: .exporterBacklog
            }
        })
    }
}
