// SPDX-License-Identifier: Apache-2.0
public import Forecast
public import MeterStore

/// The forecaster's tables, its own migrations (feature `forecast`), and every query on them. The HTTP API and
/// `clemap-edge forecast status` read through these functions.
///
/// Times are Unix seconds UTC. A forecast is *issued* at the end of the last minute it knows (that row's `time`
/// + 60); its `target_time` is the `time` of the last `meter_data` row it is about: the row `horizon_min`
/// minutes after the last known one for a `value`, the last of the next `horizon_min` rows for a `mean`.
public enum ForecastTables {
    public static let schema = StoreSchema(feature: "forecast", migrations: [
        StoreMigration("1 forecasts, history, models, scores, events, export requests", sql: """
            CREATE TABLE forecast (
                issued INTEGER NOT NULL,
                target_time INTEGER NOT NULL,
                horizon_min INTEGER NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('value', 'mean')),
                model TEXT NOT NULL,
                value REAL NOT NULL,
                actual REAL,
                PRIMARY KEY (issued, horizon_min, kind, model)
            ) WITHOUT ROWID;
            CREATE INDEX forecast_target_time ON forecast (target_time);
            CREATE TABLE forecast_history (
                day INTEGER PRIMARY KEY,
                watts BLOB NOT NULL
            );
            CREATE TABLE forecast_model (
                name TEXT PRIMARY KEY,
                trained_at INTEGER NOT NULL,
                state TEXT NOT NULL
            );
            CREATE TABLE forecast_score (
                hour INTEGER NOT NULL,
                model TEXT NOT NULL,
                horizon_min INTEGER NOT NULL,
                kind TEXT NOT NULL,
                count INTEGER NOT NULL,
                sum_abs REAL NOT NULL,
                sum_sq REAL NOT NULL,
                sum_actual_abs REAL NOT NULL,
                sum_abs_persistence REAL NOT NULL,
                PRIMARY KEY (hour, model, horizon_min, kind)
            ) WITHOUT ROWID;
            CREATE TABLE forecast_event (
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                model TEXT,
                detail TEXT NOT NULL
            );
            CREATE INDEX forecast_event_time ON forecast_event (time);
            CREATE TABLE forecast_export_request (
                requested INTEGER NOT NULL,
                reason TEXT NOT NULL,
                from_time INTEGER NOT NULL,
                to_time INTEGER NOT NULL,
                exported INTEGER
            );
            """),
    ])

    // MARK: - Forecasts

    /// One issued forecast, in watts.
    public struct Row: Sendable, Hashable, Codable {
        public var issued: Int64
        public var targetTime: Int64
        public var horizonMinutes: Int
        /// `value` or `mean`.
        public var kind: String
        public var model: String
        public var value: Double
        /// The actual, once scored.
        public var actual: Double?
        /// The table's column names.
        enum CodingKeys: String, CodingKey {
            case issued, kind, model, value, actual
            case targetTime = "target_time", horizonMinutes = "horizon_min"
        }
        public init(issued: Int64, targetTime: Int64, horizonMinutes: Int, kind: String, model: String, value: Double, actual: Double? = nil) {
            self.issued = issued; self.targetTime = targetTime; self.horizonMinutes = horizonMinutes; self.kind = kind
            self.model = model; self.value = value; self.actual = actual
        }
    }

    public static func insert(_ rows: [Row], into db: StoreDatabase) throws(StoreError) {
        for row in rows {
            try db.execute("""
                INSERT OR REPLACE INTO forecast (issued, target_time, horizon_min, kind, model, value, actual)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.integer(row.issued), .integer(row.targetTime), .integer(Int64(row.horizonMinutes)), .text(row.kind),
                      .text(row.model), .real(row.value), row.actual.map { .real($0) } ?? .null])
        }
    }

    /// Records the actual of the forecasts issued at `issued` for one target (every model).
    public static func setActual(_ actual: Double, issued: Int64, horizonMinutes: Int, kind: String, in db: StoreDatabase) throws(StoreError) {
        try db.execute("UPDATE forecast SET actual = ? WHERE issued = ? AND horizon_min = ? AND kind = ?",
                       [.real(actual), .integer(issued), .integer(Int64(horizonMinutes)), .text(kind)])
    }

    /// The forecasts of the newest issue (every model and target), oldest target first.
    public static func latest(in db: StoreDatabase) throws(StoreError) -> [Row] {
        let rows = try db.query("""
            SELECT issued, target_time, horizon_min, kind, model, value, actual FROM forecast
            WHERE issued = (SELECT MAX(issued) FROM forecast) ORDER BY kind DESC, horizon_min, model
            """)
        return rows.map(row)
    }

    /// Forecasts with `from <= issued < to`, oldest first.
    public static func forecasts(issuedFrom from: Int64, to: Int64, in db: StoreDatabase) throws(StoreError) -> [Row] {
        try db.query("""
            SELECT issued, target_time, horizon_min, kind, model, value, actual FROM forecast
            WHERE issued >= ? AND issued < ? ORDER BY issued, kind DESC, horizon_min, model
            """, [.integer(from), .integer(to)]).map(row)
    }

    private static func row(_ values: [SQLiteValue]) -> Row {
        Row(issued: values[0].int, targetTime: values[1].int, horizonMinutes: Int(values[2].int), kind: values[3].string,
            model: values[4].string, value: values[5].double ?? .nan, actual: values[6].double)
    }

    /// Deletes forecasts issued before `time`, and score buckets and events older than `time` minus the score window.
    public static func prune(forecastsBefore time: Int64, scoresBefore scoreTime: Int64, in db: StoreDatabase) throws(StoreError) {
        try db.execute("DELETE FROM forecast WHERE issued < ?", [.integer(time)])
        try db.execute("DELETE FROM forecast_score WHERE hour < ?", [.integer(scoreTime / 3600)])
    }

    // MARK: - History (1440 little-endian Float32 a day, NaN = missing)

    public static func saveHistoryDay(_ day: Int64, watts: [Float], in db: StoreDatabase) throws(StoreError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(watts.count * 4)
        for value in watts { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        try db.execute("INSERT OR REPLACE INTO forecast_history (day, watts) VALUES (?, ?)", [.integer(day), .blob(bytes)])
    }

    /// Days with `day >= from` (and `< before`), oldest first. A blob of the wrong size is skipped (reported in `skipped`).
    public static func historyDays(from: Int64, before: Int64 = .max, in db: StoreDatabase) throws(StoreError)
        -> (days: [(day: Int64, watts: [Float])], skipped: [Int64]) {
        var days: [(day: Int64, watts: [Float])] = [], skipped: [Int64] = []
        for values in try db.query("SELECT day, watts FROM forecast_history WHERE day >= ? AND day < ? ORDER BY day",
                                   [.integer(from), .integer(before)]) {
            guard case .blob(let bytes) = values[1], bytes.count == 1440 * 4 else { skipped.append(values[0].int); continue }
            var watts = [Float](repeating: .nan, count: 1440)
            for i in 0..<1440 {
                let bits = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
                watts[i] = Float(bitPattern: bits)
            }
            days.append((values[0].int, watts))
        }
        return (days, skipped)
    }

    public static func deleteHistory(before day: Int64, in db: StoreDatabase) throws(StoreError) {
        try db.execute("DELETE FROM forecast_history WHERE day < ?", [.integer(day)])
    }

    // MARK: - Models

    public static func saveModel(name: String, trainedAt: Int64, state: String, in db: StoreDatabase) throws(StoreError) {
        try db.execute("INSERT OR REPLACE INTO forecast_model (name, trained_at, state) VALUES (?, ?, ?)",
                       [.text(name), .integer(trainedAt), .text(state)])
    }

    public static func model(name: String, in db: StoreDatabase) throws(StoreError) -> (trainedAt: Int64, state: String)? {
        try db.query("SELECT trained_at, state FROM forecast_model WHERE name = ?", [.text(name)]).first.map { ($0[0].int, $0[1].string) }
    }

    // MARK: - Scores (hourly sums; rolling windows add them up)

    /// Scores keyed by model, horizon and kind.
    public struct ScoreKey: Sendable, Hashable, Comparable {
        public var model: String
        public var horizonMinutes: Int
        public var kind: String
        public init(model: String, horizonMinutes: Int, kind: String) { self.model = model; self.horizonMinutes = horizonMinutes; self.kind = kind }
        /// Values before means, then by horizon, then by model name.
        public static func < (a: Self, b: Self) -> Bool {
            if a.kind != b.kind { return a.kind > b.kind }
            if a.horizonMinutes != b.horizonMinutes { return a.horizonMinutes < b.horizonMinutes }
            return a.model < b.model
        }
    }

    public static func addScores(_ sums: [ScoreKey: ForecastAccuracy], hour: Int64, in db: StoreDatabase) throws(StoreError) {
        for (key, s) in sums where s.count > 0 {
            try db.execute("""
                INSERT INTO forecast_score (hour, model, horizon_min, kind, count, sum_abs, sum_sq, sum_actual_abs, sum_abs_persistence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (hour, model, horizon_min, kind) DO UPDATE SET count = count + excluded.count,
                    sum_abs = sum_abs + excluded.sum_abs, sum_sq = sum_sq + excluded.sum_sq,
                    sum_actual_abs = sum_actual_abs + excluded.sum_actual_abs,
                    sum_abs_persistence = sum_abs_persistence + excluded.sum_abs_persistence
                """, [.integer(hour), .text(key.model), .integer(Int64(key.horizonMinutes)), .text(key.kind), .integer(Int64(s.count)),
                      .real(s.sumAbsoluteError), .real(s.sumSquaredError), .real(s.sumAbsoluteActual), .real(s.sumAbsolutePersistenceError)])
        }
    }

    /// The rolling scores over the hours `from <= hour < to` (Unix seconds, rounded down to hours).
    public static func scores(from: Int64, to: Int64, in db: StoreDatabase) throws(StoreError) -> [ScoreKey: ForecastAccuracy] {
        var result: [ScoreKey: ForecastAccuracy] = [:]
        for v in try db.query("""
            SELECT model, horizon_min, kind, SUM(count), SUM(sum_abs), SUM(sum_sq), SUM(sum_actual_abs), SUM(sum_abs_persistence)
            FROM forecast_score WHERE hour >= ? AND hour < ? GROUP BY model, horizon_min, kind
            """, [.integer(from / 3600), .integer(to / 3600 + (to % 3600 == 0 ? 0 : 1))]) {
            result[ScoreKey(model: v[0].string, horizonMinutes: Int(v[1].int), kind: v[2].string)] = accuracy(v[3...])
        }
        return result
    }

    /// The hourly sums of one model × target with `hour >= from / 3600`, by hour.
    public static func hourlyScores(_ key: ScoreKey, from: Int64, in db: StoreDatabase) throws(StoreError) -> [(hour: Int64, sums: ForecastAccuracy)] {
        try db.query("""
            SELECT hour, count, sum_abs, sum_sq, sum_actual_abs, sum_abs_persistence FROM forecast_score
            WHERE model = ? AND horizon_min = ? AND kind = ? AND hour >= ? ORDER BY hour
            """, [.text(key.model), .integer(Int64(key.horizonMinutes)), .text(key.kind), .integer(from / 3600)]).map { v in
            (v[0].int, accuracy(v[1...]))
        }
    }

    /// count, sum_abs, sum_sq, sum_actual_abs, sum_abs_persistence.
    private static func accuracy(_ v: ArraySlice<SQLiteValue>) -> ForecastAccuracy {
        let i = v.startIndex
        return ForecastAccuracy(count: Int(v[i].int), sumAbsoluteError: v[i + 1].double ?? 0, sumSquaredError: v[i + 2].double ?? 0,
                                sumAbsoluteActual: v[i + 3].double ?? 0, sumAbsolutePersistenceError: v[i + 4].double ?? 0)
    }

    // MARK: - Events and export requests

    public struct Event: Sendable, Hashable, Codable {
        public var time: Int64
        /// `trained`, `training_failed`, `model_loaded`, `model_rejected`, `drift`, `history_skipped`.
        public var kind: String
        public var model: String?
        /// For `model_loaded` and `model_rejected`: `<source>: <what>`, the source being the file's path or where
        /// an offered file came from (an S3 key), and what the model and its check, or the reason it was refused.
        public var detail: String
        public init(time: Int64, kind: String, model: String?, detail: String) { self.time = time; self.kind = kind; self.model = model; self.detail = detail }
    }

    public static func record(_ event: Event, in db: StoreDatabase) throws(StoreError) {
        try db.execute("INSERT INTO forecast_event (time, kind, model, detail) VALUES (?, ?, ?, ?)",
                       [.integer(event.time), .text(event.kind), event.model.map { .text($0) } ?? .null, .text(event.detail)])
    }

    /// The newest events, newest first.
    public static func events(limit: Int, in db: StoreDatabase) throws(StoreError) -> [Event] {
        try db.query("SELECT time, kind, model, detail FROM forecast_event ORDER BY time DESC, rowid DESC LIMIT ?", [.integer(Int64(limit))]).map {
            Event(time: $0[0].int, kind: $0[1].string, model: $0[2].optionalString, detail: $0[3].string)
        }
    }

    /// The newest event of `kind`, nil when there is none.
    public static func latestEvent(kind: String, in db: StoreDatabase) throws(StoreError) -> Event? {
        try db.query("SELECT time, kind, model, detail FROM forecast_event WHERE kind = ? ORDER BY time DESC, rowid DESC LIMIT 1",
                     [.text(kind)]).first.map {
            Event(time: $0[0].int, kind: $0[1].string, model: $0[2].optionalString, detail: $0[3].string)
        }
    }

    /// Queues an export of the minute rows `from <= time < to` as training data (the exporter uploads it).
    public static func requestExport(reason: String, from: Int64, to: Int64, at time: Int64, in db: StoreDatabase) throws(StoreError) {
        try db.execute("INSERT INTO forecast_export_request (requested, reason, from_time, to_time) VALUES (?, ?, ?, ?)",
                       [.integer(time), .text(reason), .integer(from), .integer(to)])
    }

    /// Export requests not yet exported, oldest first.
    public static func pendingExports(in db: StoreDatabase) throws(StoreError) -> [(requested: Int64, reason: String, from: Int64, to: Int64)] {
        try db.query("SELECT requested, reason, from_time, to_time FROM forecast_export_request WHERE exported IS NULL ORDER BY requested")
            .map { ($0[0].int, $0[1].string, $0[2].int, $0[3].int) }
    }
}
