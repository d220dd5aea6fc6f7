// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MeterReadings
public import PowerQuality
import Synchronization

/// Where the running service's data meets its consumers: the latest reading and health, readable at any
/// time without touching the bus, and broadcasts of every reading (once a second) and every final row (once
/// an interval).
///
/// The sampler is the only publisher. A row is final when it is published: stamped (re-stamped after a
/// clock synchronisation), flagged, and destined for `meter_data`, or for `meter_data_conflicts` when it
/// carries ``RowFlags/unsynchronised``. The storage subscribes to ``rows`` without loss; every other
/// feature (HTTP, MQTT, Modbus, forecaster, exporter) subscribes with a bounded buffer, so a slow one drops
/// its own oldest elements and never slows sampling or storage.
///
/// ## Topics
/// - Now: ``latest``, ``latestRow``, ``health``
/// - Streams: ``readings``, ``rows``, ``events``
/// - The features' tables: ``store``
/// - Totals since start: ``counters``, ``startedMonotonic``
public final class LiveHub: Sendable {
    /// What is wrong right now (LED, status).
    public let health: ServiceHealth
    /// Every successful snapshot, as SI readings.
    public let readings: Broadcast<Reading>
    /// Every final row, in order.
    public let rows: Broadcast<MinuteRow>
    /// Every power-quality event when it ends (the row `pq_event` gets), published by the power-quality service.
    public let events: Broadcast<PQEvent>
    /// The database the storage service has open, for the features' own tables.
    public let store = SharedStore()
    /// Totals since start: snapshots, SPI CRC errors, rows written, storage faults.
    public let counters = ServiceCounters()
    /// When the hub was made (the service's start), on the meter clock's monotonic scale: uptime is measured from it,
    /// so a clock synchronised after boot (a Pi has no RTC) does not make it jump.
    public let startedMonotonic: Double

    private struct Latest { var reading: Reading?; var row: MinuteRow?; var temperature: Double? }
    private let latestValues = Mutex(Latest())

    public init(health: ServiceHealth = ServiceHealth(), startedMonotonic: Double = 0, logger: Logger) {
        self.health = health
        self.startedMonotonic = startedMonotonic
        readings = Broadcast("readings", logger: logger)
        rows = Broadcast("rows", logger: logger)
        events = Broadcast("events", logger: logger)
    }

    /// The newest reading, nil before the first snapshot.
    public var latest: Reading? { latestValues.withLock { $0.reading } }
    /// The newest final row, nil before the first.
    public var latestRow: MinuteRow? { latestValues.withLock { $0.row } }
    /// The chip's temperature as last read (every few snapshots, not with each), °C.
    public var latestTemperature: Double? { latestValues.withLock { $0.temperature } }

    /// Sampler only: a new snapshot.
    public func publish(_ reading: Reading) {
        latestValues.withLock {
            $0.reading = reading
            if let temperature = reading.temperature { $0.temperature = temperature }
        }
        readings.publish(reading)
    }

    /// Sampler only: a final row.
    public func publish(_ row: MinuteRow) {
        latestValues.withLock { $0.row = row }
        rows.publish(row)
    }

    /// Sampler only: no more readings or rows; every stream ends after what it holds. Events stored after this (those
    /// still going on at the stop) are in `pq_event` only.
    public func finish() {
        readings.finish()
        rows.finish()
        events.finish()
    }
}
