// SPDX-License-Identifier: Apache-2.0
public import MeterStore
public import PowerQuality

/// The power-quality feature's tables (feature `power-quality`, its own migrations).
///
/// `pq_event`: one row per event (PowerQuality.PQEvent): start and end in Unix milliseconds UTC, phase 1…3 (0 for
/// all phases), kind, and the extreme value (V, A or Hz; NULL for a phase sequence).
public enum PQTables {
    public static let schema = StoreSchema(feature: "power-quality", migrations: [
        StoreMigration("1 events", sql: """
            CREATE TABLE pq_event (
                id INTEGER PRIMARY KEY,
                start_ms INTEGER NOT NULL,
                end_ms INTEGER NOT NULL CHECK (end_ms >= start_ms),
                phase INTEGER NOT NULL CHECK (phase BETWEEN 0 AND 3),
                kind TEXT NOT NULL CHECK (kind IN ('dip', 'swell', 'interruption', 'overcurrent', 'phase-sequence', 'frequency-deviation')),
                extreme REAL
            );
            CREATE INDEX pq_event_start ON pq_event (start_ms);
            """),
    ])

    public static func insert(_ event: PQEvent, in db: StoreDatabase) throws(StoreError) {
        try db.execute("INSERT INTO pq_event (start_ms, end_ms, phase, kind, extreme) VALUES (?, ?, ?, ?, ?)",
                       [.integer(event.startMs), .integer(event.endMs), .integer(Int64(event.phase)), .text(event.kind.rawValue),
                        event.extreme.map { .real($0) } ?? .null])
    }

    /// The events that start in `[fromMs, toMs)`, oldest first. A kind this build does not know (written by a newer
    /// one) is skipped rather than failing the read.
    public static func events(fromMs: Int64, toMs: Int64, in db: StoreDatabase) throws(StoreError) -> [PQEvent] {
        try db.query("SELECT start_ms, end_ms, phase, kind, extreme FROM pq_event WHERE start_ms >= ? AND start_ms < ? ORDER BY start_ms, id",
                     [.integer(fromMs), .integer(toMs)]).compactMap { row in
            guard let kind = PQEventKind(rawValue: row[3].string) else { return nil }
            return PQEvent(startMs: row[0].int, endMs: row[1].int, phase: Int(row[2].int), kind: kind, extreme: row[4].double)
        }
    }

    /// How many events are stored, by kind and phase (`/metrics`' `clemap_pq_events_total`). Kinds this build does not
    /// know are left out, as ``events(fromMs:toMs:in:)`` leaves them.
    public static func counts(in db: StoreDatabase) throws(StoreError) -> [(kind: PQEventKind, phase: Int, count: Int)] {
        try db.query("SELECT kind, phase, count(*) FROM pq_event GROUP BY kind, phase ORDER BY kind, phase").compactMap { row in
            guard let kind = PQEventKind(rawValue: row[0].string) else { return nil }
            return (kind, Int(row[1].int), Int(row[2].int))
        }
    }

    /// The stored minutes of `[from, to)` as the EN 50160 report reads them: voltages, frequency, and the THD-V
    /// means (NULL in rows stored before migration "2 power quality").
    public static func minutes(from: Int64, to: Int64, in db: StoreDatabase) throws(StoreError) -> [PQMinute] {
        try db.query("SELECT time, l1_v, l2_v, l3_v, freq, l1_vthd, l2_vthd, l3_vthd FROM meter_data WHERE time >= ? AND time < ? ORDER BY time",
                     [.integer(from), .integer(to)]).map { row in
            PQMinute(time: row[0].int, voltage: [row[1].double, row[2].double, row[3].double],
                     voltageTHD: [row[5].double, row[6].double, row[7].double], frequency: row[4].double)
        }
    }
}
