// SPDX-License-Identifier: Apache-2.0

import ADE9000
public import Logging
public import MeterReadings
public import MeterConfig
public import ServiceLifecycle
import UnixSignals

/// Re-reads `config.ini` on SIGHUP (`systemctl reload clemap-edge`) and hands the new calibration and
/// scale to the running meter. An invalid file is reported and ignored: the meter keeps measuring with
/// what it had. Other settings (interval, database, GPIO) need a restart; the log says so when they
/// changed.
public final class ConfigReloadService: Service {
    private let path: String
    private let meter: Meter
    private let logger: Logger
    private let initial: MeterConfiguration

    public init(configuration: MeterConfiguration, meter: Meter, logger: Logger) {
        self.path = configuration.source
        self.initial = configuration
        self.meter = meter
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// Loads the file and applies its calibration; never throws.
    public func reload() async {
        let configuration: MeterConfiguration
        do {
            configuration = try MeterConfiguration.load(path: path)
        } catch {
            logger.error("config.ini not reloaded: it has errors; the meter keeps its calibration", metadata: ["config.errors": "\(error)"])
            return
        }
        do {
            try await meter.update(calibration: configuration.calibration, scales: configuration.scales)
        } catch {
            logger.error("new calibration could not be written to the chip", metadata: ["error": "\(error)"])
            return
        }
        let changed = Phase.allCases.filter { initial.calibration[$0] != configuration.calibration[$0] }.count
        logger.notice("calibration reloaded from config.ini", metadata: ["config.path": "\(path)", "phases.changed.since.start": "\(changed)"])
        if configuration.gatheringIntervalSeconds != initial.gatheringIntervalSeconds || configuration.resolvedDBPath != initial.resolvedDBPath
            || configuration.gpio != initial.gpio {
            logger.warning("interval, database or GPIO settings changed: they take effect at the next restart")
        }
    }
}
