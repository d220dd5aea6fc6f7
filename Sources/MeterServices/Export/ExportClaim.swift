// SPDX-License-Identifier: Apache-2.0
public import MeterStore

/// The exporter's claim on `meter_data`: retention keeps the rows of every hour not yet uploaded (and of the hours
/// not yet queued), whole. It is bounded by the retention window: the exporter gives up an hour once its end is
/// older than the window (warning a day before), and so releases it.
public struct ExportClaim: RetentionClaim {
    public var claimant: String { "exporter" }
    public init() {}

    public func oldestTimeNeeded(_ store: any ReadingStore) throws -> Int64? {
        try store.read("cannot read the export outbox") { db throws(StoreError) -> Int64? in
            let pending = try ExportTables.oldestPendingHour(in: db)
            // Hours from the queuing cursor on are not in the outbox yet; before the first pass, everything.
            let queued = try ExportTables.state("queued_through", in: db).flatMap { Int64($0) }
            var unqueued = queued
            if unqueued == nil, let oldest = try db.query("SELECT min(time) FROM meter_data").first?[0], !oldest.isNull { unqueued = oldest.int }
            return [pending, unqueued].compactMap { $0 }.min()
        }
    }
}
