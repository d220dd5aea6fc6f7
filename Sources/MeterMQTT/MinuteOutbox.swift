// SPDX-License-Identifier: Apache-2.0
public import MeterStore

/// Which stored minutes the broker has, and which to hand it next: a durable cursor plus a bounded window in flight.
///
/// **Why the database, not a queue in memory.** Every minute is already in `meter_data` (committed, `synchronous =
/// FULL`), so the outbox keeps only a cursor: `acked_through`, the newest `time` such that every row up to it was
/// acknowledged by the broker (PUBACK, QoS 1). The rows after it are read back from `meter_data`, oldest first, at
/// most ``window`` at a time in flight. So
/// - memory is bounded by the window, whatever the outage (a queue of rows in memory would have to drop or grow);
/// - an outage of any length up to the retention window (`persistence_interval_sec`, 14 days by default) loses
///   nothing, nor does a restart or `kill -9` of the service during it: the cursor is in the same file as the rows;
/// - delivery is at least once, as QoS 1 is: minutes in flight when the connection or the process ended are sent
///   again (subscribers can tell a repeat by its `time`), and so are those acknowledged in the second before a
///   `kill -9` (the cursor is written at most once a second, one small transaction).
/// The first start with MQTT on begins at the newest stored row: history from before MQTT was enabled is not
/// replayed into the broker (`GET /api/v1/minutes` serves it). Rows that reach `meter_data` with a time at or below
/// the cursor later (a spill file stored at the next start) were normally published when they were measured.
public struct MinuteOutbox: Sendable {
    /// Minutes handed to the client and not yet acknowledged, at most.
    public let window: Int
    /// Every `meter_data` row with `time <= ackedThrough` was acknowledged; nil before ``start(cursor:)``.
    public private(set) var ackedThrough: Int64?
    private var inFlight: [(time: Int64, mid: Int32, at: Double, acked: Bool)] = []

    public init(window: Int = 32) { self.window = max(1, window) }

    /// Starts from the durable cursor.
    public mutating func start(cursor: Int64) {
        ackedThrough = cursor; inFlight = []
    }

    public var started: Bool { ackedThrough != nil }
    /// The newest minute handed over (or acknowledged): the next query starts after it.
    public var sentThrough: Int64? { inFlight.last?.time ?? ackedThrough }
    public var freeSlots: Int { window - inFlight.count }
    public var inFlightCount: Int { inFlight.count }
    /// When the oldest unacknowledged minute was handed over (monotonic seconds), nil when none is in flight.
    public var oldestHandedAt: Double? { inFlight.first { !$0.acked }?.at }

    /// Minute `time` was handed to the client as message `mid` at monotonic time `at`.
    public mutating func handed(time: Int64, mid: Int32, at: Double) {
        precondition(sentThrough.map { time > $0 } ?? true, "minutes are handed over in time order (a caller bug)")
        inFlight.append((time, mid, at, false))
    }

    /// The broker acknowledged message `mid` (any message: ids not in flight are ignored).
    /// - Returns: true when ``ackedThrough`` moved.
    @discardableResult
    public mutating func acknowledged(mid: Int32) -> Bool {
        guard let index = inFlight.firstIndex(where: { $0.mid == mid && !$0.acked }) else { return false }
        inFlight[index].acked = true
        var moved = false
        while let first = inFlight.first, first.acked {
            ackedThrough = first.time
            inFlight.removeFirst()
            moved = true
        }
        return moved
    }

    /// Forgets what is in flight: the next query starts after ``ackedThrough`` again (those minutes are sent twice).
    public mutating func rewind() { inFlight = [] }
}

/// The MQTT client's table (feature `mqtt`): `mqtt_state(name, value)`, holding `minute_acked_through`.
public enum MQTTTables {
    public static let schema = StoreSchema(feature: "mqtt", migrations: [
        StoreMigration("1 state", sql: """
            CREATE TABLE mqtt_state (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            """),
    ])

    static let cursorName = "minute_acked_through"

    /// The durable cursor, nil before the first start with MQTT on.
    public static func cursor(in db: StoreDatabase) throws(StoreError) -> Int64? {
        try db.query("SELECT value FROM mqtt_state WHERE name = ?", [.text(cursorName)]).first.flatMap { Int64($0[0].string) }
    }

    public static func setCursor(_ time: Int64, in db: StoreDatabase) throws(StoreError) {
        _ = try db.execute("INSERT INTO mqtt_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                           [.text(cursorName), .text(String(time))])
    }

    /// Up to `limit` times of `meter_data` after `time`, oldest first.
    static func times(after time: Int64, limit: Int, in db: StoreDatabase) throws(StoreError) -> [Int64] {
        try db.query("SELECT time FROM meter_data WHERE time > ? ORDER BY time LIMIT ?", [.integer(time), .integer(Int64(limit))]).map { $0[0].int }
    }

    /// The newest `time` of `meter_data`, nil when it is empty.
    static func newest(in db: StoreDatabase) throws(StoreError) -> Int64? {
        let value = try db.query("SELECT max(time) FROM meter_data")[0][0]
        return value.isNull ? nil : value.int
    }
}
