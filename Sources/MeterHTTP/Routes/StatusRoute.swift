// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterServices
import MeterStore
import MeterClock
import MeterConfig
import MeterReadings
import Logging

extension MeterAPI {
    struct StatusAnswer: Encodable, Sendable {
        struct Chip: Encodable, Sendable {
            var snapshots: Int, snapshot_failures: Int, crc_errors: Int, reinitialisations: Int
            var last_reading: Nullable<Double>, temp_c: Nullable<Double>
        }
        struct Clock: Encodable, Sendable { var synchronized: Bool }
        struct Storage: Encodable, Sendable {
            var db_path: String, open: Bool, rows: Nullable<Int>, newest: Nullable<Int64>, rows_written: Int, faults: Int
        }
        struct Exporter: Encodable, Sendable { var enabled: Bool, pending: Nullable<Int>, oldest: Nullable<Int64> }
        struct Forecaster: Encodable, Sendable { var enabled: Bool, model_in_use: Nullable<ModelInUse> }
        struct Outputs: Encodable, Sendable { var a: Nullable<Bool>, b: Nullable<Bool> }
        var version: String, time: Int64, started: Int64, uptime_s: Double
        var health: String, conditions: [String]
        var chip: Chip, clock: Clock, storage: Storage, exporter: Exporter, forecast: Forecaster, outputs: Outputs
    }

    /// `GET /api/v1/status`: what is wrong, if anything, and the figures behind it.
    func status() throws -> Response {
        let wall = clock.wall(), counters = hub.counters.current, latest = hub.latest
        let store = hub.store.current
        let stored = try? store?.read("cannot count meter_data for GET /api/v1/status") { db throws(StoreError) in
            try db.query("SELECT count(*), max(time) FROM meter_data").first
        }
        let row = stored.flatMap { $0 }
        let backlog = exporterEnabled ? hub.health.exportBacklog : nil
        let conditions = ServiceHealth.Condition.allCases.filter(hub.health.current.contains).map(\.rawValue)
        let answer = StatusAnswer(
            version: version, time: Int64(wall.rounded(.down)), started: Int64((wall - uptime).rounded(.down)),
            uptime_s: (uptime * 1000).rounded() / 1000,
            health: hub.health.summary, conditions: conditions,
            chip: .init(snapshots: counters.snapshots, snapshot_failures: counters.snapshotFailures, crc_errors: counters.spiCRCErrors,
                        reinitialisations: counters.chipReinitialisations, last_reading: Nullable(finite: latest?.time),
                        temp_c: Nullable(finite: hub.latestTemperature)),
            clock: .init(synchronized: clock.isSynchronized()),
            storage: .init(db_path: databasePath, open: store != nil, rows: Nullable(row.map { Int($0[0].int) }),
                           newest: Nullable(row.flatMap { $0[1].isNull ? nil : $0[1].int }),
                           rows_written: counters.rowsWritten, faults: counters.storageFaults),
            exporter: .init(enabled: exporterEnabled, pending: Nullable(backlog?.pending), oldest: Nullable(backlog?.oldest)),
            forecast: .init(enabled: forecast.enabled, model_in_use: Nullable(modelInUse())),
            outputs: .init(a: Nullable(outputs?.state(.a)), b: Nullable(outputs?.state(.b))))
        return try jsonAnswer(answer)
    }
}
