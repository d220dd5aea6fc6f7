// SPDX-License-Identifier: Apache-2.0
public import MeterStore

/// The exporter's tables, its own migrations (feature `export`), and every query on them.
///
/// `export_outbox` is the durable outbox: every upload is a row, committed before it is attempted, and marked
/// `uploaded` only after the store answered 200. A kill at any point leaves either a pending row (uploaded again,
/// to the same key with the same bytes) or a finished one. One row per closed hour (a unique index), so re-queuing an
/// hour that gained rows (a spill file stored late) re-arms that row instead of adding one; at most one training
/// export pending, covering every request not yet exported (they all write the same object).
public enum ExportTables {
    public static let schema = StoreSchema(feature: "export", migrations: [
        StoreMigration("1 outbox and state", sql: """
            CREATE TABLE export_outbox (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('hour', 'training')),
                object_key TEXT NOT NULL,
                from_time INTEGER NOT NULL,
                to_time INTEGER NOT NULL,
                queued INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt INTEGER NOT NULL,
                last_error TEXT,
                permanent INTEGER NOT NULL DEFAULT 0,
                uploaded INTEGER,
                dropped INTEGER,
                rows INTEGER,
                bytes INTEGER,
                request INTEGER
            );
            CREATE UNIQUE INDEX export_outbox_hour ON export_outbox (from_time) WHERE kind = 'hour';
            CREATE INDEX export_outbox_pending ON export_outbox (from_time) WHERE uploaded IS NULL AND dropped IS NULL;
            CREATE TABLE export_state (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            """),
    ])

    /// One upload to make (or made).
    public struct Entry: Sendable, Hashable {
        public var id: Int64
        /// `hour` (one closed hour of `meter_data`) or `training` (a training-data request of the forecaster).
        public var kind: String
        public var key: String
        /// The rows' times: `from ≤ time < to`.
        public var from: Int64, to: Int64
        public var queued: Int64
        public var attempts: Int
        public var nextAttempt: Int64
        public var lastError: String?
        public var permanent: Bool
        /// The `forecast_export_request` row (its rowid) a training export answers.
        public var request: Int64?
    }

    static let entryColumns = "id, kind, object_key, from_time, to_time, queued, attempts, next_attempt, last_error, permanent, request"

    static func entry(_ row: [SQLiteValue]) -> Entry {
        Entry(id: row[0].int, kind: row[1].string, key: row[2].string, from: row[3].int, to: row[4].int, queued: row[5].int,
              attempts: Int(row[6].int), nextAttempt: row[7].int, lastError: row[8].optionalString, permanent: row[9].int != 0,
              request: row[10].isNull ? nil : row[10].int)
    }

    // MARK: - Queuing

    /// Queues every closed hour in `[from, before)` with rows that has no outbox row, and re-arms an uploaded hour
    /// whose row count changed since. - Returns: the hours queued or re-armed.
    @discardableResult
    public static func queueHours(from: Int64, before: Int64, now: Int64, key: (Int64) -> String, in db: StoreDatabase) throws(StoreError) -> Int {
        let hours = try db.query("""
            SELECT m.hour, m.n, o.id FROM
                (SELECT time / 3600 AS hour, count(*) AS n FROM meter_data WHERE time >= ? AND time < ? GROUP BY hour) AS m
                LEFT JOIN export_outbox AS o ON o.kind = 'hour' AND o.from_time = m.hour * 3600
            WHERE o.id IS NULL OR (o.uploaded IS NOT NULL AND o.rows IS NOT m.n)
            ORDER BY m.hour
            """, [.integer(from), .integer(before)])
        for hour in hours {
            let start = hour[0].int * 3600
            if hour[2].isNull {
                try db.execute("INSERT INTO export_outbox (kind, object_key, from_time, to_time, queued, next_attempt) VALUES ('hour', ?, ?, ?, ?, ?)",
                               [.text(key(start)), .integer(start), .integer(start + 3600), .integer(now), .integer(now)])
            } else {
                try db.execute("UPDATE export_outbox SET uploaded = NULL, attempts = 0, next_attempt = ?, last_error = NULL, permanent = 0 WHERE id = ?",
                               [.integer(now), hour[2]])
            }
        }
        return hours.count
    }

    /// Queues the forecaster's training-data requests not yet queued: into the pending training export when there is
    /// one (widening its range), else as a new one. Several drifts at once (targets, models) make one upload.
    /// - Returns: true when something was queued.
    @discardableResult
    public static func queueTrainingRequests(key: String, now: Int64, in db: StoreDatabase) throws(StoreError) -> Bool {
        let new = try db.query("""
            SELECT max(rowid), min(from_time), max(to_time) FROM forecast_export_request
            WHERE exported IS NULL AND rowid > coalesce((SELECT max(request) FROM export_outbox WHERE kind = 'training'), 0)
            """)[0]
        guard !new[0].isNull else { return false }
        let changed = try db.execute("""
            UPDATE export_outbox SET request = ?, from_time = min(from_time, ?), to_time = max(to_time, ?), object_key = ?
            WHERE kind = 'training' AND uploaded IS NULL AND dropped IS NULL
            """, [new[0], new[1], new[2], .text(key)])
        if changed == 0 {
            try db.execute("""
                INSERT INTO export_outbox (kind, object_key, from_time, to_time, queued, next_attempt, request)
                VALUES ('training', ?, ?, ?, ?, ?, ?)
                """, [.text(key), new[1], new[2], .integer(now), .integer(now), new[0]])
        }
        return true
    }

    // MARK: - Uploading

    /// The pending uploads due at `now` (all pending ones with `ignoringBackoff`), oldest data first.
    public static func due(now: Int64, ignoringBackoff: Bool = false, limit: Int = 64, in db: StoreDatabase) throws(StoreError) -> [Entry] {
        try db.query("SELECT \(entryColumns) FROM export_outbox WHERE uploaded IS NULL AND dropped IS NULL"
                     + (ignoringBackoff ? "" : " AND next_attempt <= ?") + " ORDER BY kind = 'training', from_time LIMIT ?",
                     ignoringBackoff ? [.integer(Int64(limit))] : [.integer(now), .integer(Int64(limit))]).map(entry)
    }

    /// The minute rows of `[from, to)`, in time order, as the columns of `meter_data`.
    public static func minuteRows(from: Int64, to: Int64, in db: StoreDatabase) throws(StoreError) -> [[SQLiteValue]] {
        try db.query("SELECT \(LakeLayout.columns.joined(separator: ", ")) FROM meter_data WHERE time >= ? AND time < ? ORDER BY time",
                     [.integer(from), .integer(to)])
    }

    /// Marks an upload done; a training export also marks the requests it covered exported. A training export whose
    /// row was widened meanwhile (a request queued by another process during the upload) stays pending, to go again.
    public static func uploaded(_ entry: Entry, rows: Int, bytes: Int, at time: Int64, in db: StoreDatabase) throws(StoreError) {
        let changed = try db.execute("""
            UPDATE export_outbox SET uploaded = ?, attempts = attempts + 1, rows = ?, bytes = ?, last_error = NULL, permanent = 0
            WHERE id = ? AND request IS ?
            """, [.integer(time), .integer(Int64(rows)), .integer(Int64(bytes)), .integer(entry.id), entry.request.map { .integer($0) } ?? .null])
        if let request = entry.request, changed > 0 {
            try db.execute("UPDATE forecast_export_request SET exported = ? WHERE exported IS NULL AND rowid <= ?", [.integer(time), .integer(request)])
        }
    }

    /// Records a failed attempt and when to try again.
    public static func failed(_ entry: Entry, error: String, permanent: Bool, retryAt: Int64, in db: StoreDatabase) throws(StoreError) {
        try db.execute("UPDATE export_outbox SET attempts = attempts + 1, last_error = ?, permanent = ?, next_attempt = ? WHERE id = ?",
                       [.text(error), .integer(permanent ? 1 : 0), .integer(retryAt), .integer(entry.id)])
    }

    /// Gives up the pending hours whose rows retention deletes (`to ≤ cutoff`). - Returns: how many, and the oldest.
    public static func drop(hoursEndingBy cutoff: Int64, at time: Int64, in db: StoreDatabase) throws(StoreError) -> (count: Int, oldest: Int64?) {
        let oldest = try db.query("SELECT min(from_time) FROM export_outbox WHERE kind = 'hour' AND uploaded IS NULL AND dropped IS NULL AND to_time <= ?",
                                  [.integer(cutoff)]).first?[0]
        let count = try db.execute("UPDATE export_outbox SET dropped = ? WHERE kind = 'hour' AND uploaded IS NULL AND dropped IS NULL AND to_time <= ?",
                                   [.integer(time), .integer(cutoff)])
        return (count, oldest.flatMap { $0.isNull ? nil : $0.int })
    }

    /// The oldest `meter_data.time` a pending hour still needs.
    public static func oldestPendingHour(in db: StoreDatabase) throws(StoreError) -> Int64? {
        let value = try db.query("SELECT min(from_time) FROM export_outbox WHERE kind = 'hour' AND uploaded IS NULL AND dropped IS NULL").first?[0]
        return value.flatMap { $0.isNull ? nil : $0.int }
    }

    // MARK: - State

    public static func state(_ name: String, in db: StoreDatabase) throws(StoreError) -> String? {
        try db.query("SELECT value FROM export_state WHERE name = ?", [.text(name)]).first?[0].optionalString
    }

    public static func setState(_ name: String, _ value: String, in db: StoreDatabase) throws(StoreError) {
        try db.execute("INSERT INTO export_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                       [.text(name), .text(value)])
    }

    // MARK: - Status

    /// What `export status` and the health show.
    public struct Status: Sendable, Hashable, Codable {
        /// Uploads not yet made (hours and training exports).
        public var pending: Int
        /// The oldest pending data's start, nil without a backlog.
        public var oldestPending: Int64?
        /// Pending uploads whose last attempt failed, and how many of those failed permanently.
        public var failing: Int
        public var permanent: Int
        /// The exporter's newest error, as logged (never a secret); nil once an upload succeeded after it.
        public var lastError: String?
        public var uploaded: Int
        public var lastUploaded: Int64?
        public var uploadedRows: Int
        public var uploadedBytes: Int
        public var dropped: Int
        /// When the queue tries again after its last failure (Unix seconds), nil when it is not paused.
        public var pausedUntil: Int64?
        enum CodingKeys: String, CodingKey {
            case pending, failing, permanent, uploaded, dropped
            case pausedUntil = "paused_until"
            case oldestPending = "oldest_pending", lastError = "last_error", lastUploaded = "last_uploaded"
            case uploadedRows = "uploaded_rows", uploadedBytes = "uploaded_bytes"
        }
    }

    public static func status(in db: StoreDatabase) throws(StoreError) -> Status {
        let pending = try db.query("""
            SELECT count(*), min(from_time), sum(last_error IS NOT NULL), sum(permanent) FROM export_outbox
            WHERE uploaded IS NULL AND dropped IS NULL
            """)[0]
        let done = try db.query("SELECT count(*), max(uploaded), total(rows), total(bytes) FROM export_outbox WHERE uploaded IS NOT NULL")[0]
        let dropped = try db.query("SELECT count(*) FROM export_outbox WHERE dropped IS NOT NULL")[0][0].int
        // The exporter's newest error (an upload's, or a model listing's), cleared by the next upload.
        let lastError = try state("last_error", in: db)
        let pausedUntil = try state("paused_until", in: db).flatMap { Int64($0) }
        return Status(pending: Int(pending[0].int), oldestPending: pending[1].isNull ? nil : pending[1].int,
                      failing: Int(pending[2].int), permanent: Int(pending[3].int), lastError: lastError,
                      uploaded: Int(done[0].int), lastUploaded: done[1].isNull ? nil : done[1].int,
                      uploadedRows: Int(done[2].double ?? 0), uploadedBytes: Int(done[3].double ?? 0), dropped: Int(dropped),
                      pausedUntil: pausedUntil)
    }
}
