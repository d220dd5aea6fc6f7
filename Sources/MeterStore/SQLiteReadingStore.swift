// SPDX-License-Identifier: Apache-2.0
public import ADE9000
public import Logging
internal import GRDB
public import MeterReadings
import Synchronization

/// What ``SQLiteReadingStore/insert(_:)-(MinuteRow)`` did with a row.
public enum InsertOutcome: Sendable, Hashable {
    /// Stored in `meter_data`; its energy added to `energy_totals`.
    case inserted
    /// `meter_data` already holds a different row with this `time` (the wall clock went backwards): the row was
    /// stored in `meter_data_conflicts` instead, and its energy added to `energy_totals`, since that energy is real.
    case conflict
    /// An identical row is already stored (in `meter_data` or `meter_data_conflicts`): nothing was written and the
    /// totals are unchanged. This makes inserting the same rows again after an error safe.
    case duplicate
}

/// The meter's minute rows in one SQLite file (`db_path` of `config.ini`), with lifetime energy per phase.
///
/// Tables: `meter_data` (one row per interval, keyed by `time`, columns named as the meter vocabulary:
/// `l1_p` is watts as REAL), `meter_data_conflicts` (rows whose `time` was already taken) and `energy_totals`
/// (lifetime Wh/varh/VAh per phase, updated in the same transaction as every stored row). The file is in WAL
/// mode, so other processes (the original `SELECT time, l1_p, l2_p, l3_p FROM meter_data …` readers, `sqlite3`)
/// can read while the service writes, with `synchronous = FULL` so a committed minute survives a power cut.
///
/// ## Mechanism
/// GRDB's `DatabasePool`: one writer connection behind GRDB's serial queue, and up to 4 read-only connections
/// (WAL), so a reader never waits for the writer's transaction or fsync and sees the last committed rows. Over
/// GRDB's defaults: `synchronous = FULL` on the writer (GRDB sets NORMAL), readers' busy timeout 5 s like the
/// writer's (GRDB: 10 s), foreign keys left off (SQLite's default; GRDB turns them on), and ``close()`` closes the
/// readers and checkpoints (`TRUNCATE`) before it closes the writer, so the writer closes last and SQLite removes the
/// `-wal` and `-shm` (GRDB's `close()` closes the writer first and leaves them: GRDB issue 739). Migrations go
/// through GRDB's `DatabaseMigrator` (see `Schema`). GRDB's `DatabaseError` becomes a ``StoreError`` with the OS
/// `errno` read through `sqlite3_system_errno` (which `DatabaseError` lacks), so a read-only filesystem, a full disk
/// and an I/O error stay apart. GRDB's types never leave this module.
///
/// ## Calling contract
/// - One writer, many readers: the service's storage inserts; other tasks (HTTP API, exporter, forecaster) read.
///   Writes are serialised by the pool's writer; reads take a reader of the pool. The pool is `Sendable`, and
///   the store holds it behind a `Mutex` that is taken only to fetch it, never for a whole read or write.
/// - Every call blocks its thread until SQLite is done: an insert waits for an fsync (milliseconds on an SD card),
///   and up to 5 s (`busy_timeout`) when another process holds the write lock. Call it from a task that may block
///   that long. GRDB's `async` variants would not avoid this (SQLite has no asynchronous I/O: they run on GRDB's
///   dispatch queues) and would make every reader `async`; the synchronous calls keep the API synchronous.
/// - A transient error (``StoreError/isTransient``) means: keep the rows in memory, call ``reopen()`` later,
///   then insert them again. Inserting a row that did get stored is harmless (``InsertOutcome/duplicate``).
///
/// ## Topics
/// - Opening: ``init(path:logger:)``, ``reopen()``, ``close()``, ``path``
/// - Writing: ``insert(_:)-(MinuteRow)``, ``insert(_:)-([MinuteRow])``, ``insertAside(_:)``, ``applyRetention(keepingFrom:claims:)``
/// - Reading: ``latest(limit:)``, ``rows(from:to:)``, ``row(at:)``, ``count()``, ``totals()``, ``conflicts()``
/// - Checking: ``integrityCheck()``
public final class SQLiteReadingStore: ReadingStore {
    /// The database file.
    public let path: String
    private let logger: Logger
    private let readOnly: Bool
    private let features: [StoreSchema]
    /// The open pool; nil once closed. Taken only to fetch the pool: readers never wait on the writer.
    private let pool: Mutex<DatabasePool?>
    /// Serialises ``reopen()`` and ``close()``.
    private let lifecycle = Mutex(())

    /// Opens (or creates) the database at `path`, ready to use.
    ///
    /// Creates the parent folder when missing; runs `PRAGMA quick_check` on a read-only connection; opens GRDB's
    /// `DatabasePool` (`journal_mode = WAL`) and sets `synchronous = FULL`, `busy_timeout` 5000 ms. A file that is not a database or is damaged is moved aside, with its
    /// `-wal` and `-shm`, to `<path>.corrupt-<yyyyMMddTHHmmssZ>` (UTC) and a new database is created; one warning
    /// names both paths. Nothing is ever deleted. Then applies the schema migrations the file lacks.
    ///
    /// - Parameters:
    ///   - path: the database file, e.g. `DB/data_gathering.db`.
    ///   - logger: receives the move-aside warning, migrations (info) and opening (debug).
    /// - Throws: ``StoreError``: `.newerSchema` when the file's schema is newer than this build (the file is not
    ///   touched); transient `.readOnly`, `.full`, `.busy`, `.ioError` when the folder or file cannot be used now;
    ///   `.open` or `.schema` otherwise.
    ///   - features: the tables of the features beside the minute rows (forecaster, exporter, …), whose missing
    ///     migrations are applied after the minute rows' own.
    public convenience init(path: String, logger: Logger, features: [StoreSchema] = []) throws(StoreError) {
        try self.init(path: path, logger: logger, readOnly: false, features: features)
    }

    /// `readOnly: true` opens with `SQLITE_OPEN_READONLY` (no folder creation, no move-aside): for tests that need
    /// writes to fail the way they do on a read-only file.
    init(path: String, logger: Logger, readOnly: Bool, features: [StoreSchema] = []) throws(StoreError) {
        var logger = logger
        logger[metadataKey: "db.path"] = "\(path)"
        self.path = path
        self.logger = logger
        self.readOnly = readOnly
        self.features = [Schema.meterData] + features
        pool = Mutex(try Self.openDatabase(path: path, readOnly: readOnly, features: self.features, logger: logger))
    }

    deinit { close() }

    /// Opens the file again, with every check of ``init(path:logger:)`` (including moving a damaged file aside),
    /// then closes the old pool. For the service to retry after a transient error, e.g. once the
    /// filesystem is writable again, or after ``close()``. On failure the store stays as it was.
    /// - Throws: ``StoreError``, as ``init(path:logger:)``.
    public func reopen() throws(StoreError) {
        try lifecycle.withLock { _ throws(StoreError) in
            let fresh = try Self.openDatabase(path: path, readOnly: readOnly, features: features, logger: logger)
            let old = pool.withLock { pool in defer { pool = fresh }; return pool }
            old.map(Self.closeCleanly)
        }
        logger.info("Reopened database")
    }

    /// Closes the pool; SQLite checkpoints the WAL into the file and removes the `-wal` and `-shm`. Later calls
    /// throw `.closed` until ``reopen()``. Waits for reads and writes in progress. Safe to call twice. Deinit closes too.
    public func close() {
        lifecycle.withLock { _ in
            pool.withLock { pool in defer { pool = nil }; return pool }.map(Self.closeCleanly)
        }
    }

    /// Closes the readers (`releaseMemory` waits for reads in progress), checkpoints (`TRUNCATE`: the file holds
    /// every committed row even if another process keeps it open), then closes the writer, now the last
    /// connection of this process, so that SQLite removes the `-wal` and `-shm`. Failures are left to SQLite's
    /// recovery at the next open: nothing committed is lost.
    private static func closeCleanly(_ pool: DatabasePool) {
        pool.releaseMemory()
        if !pool.configuration.readonly { _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) } }
        try? pool.close()
    }

    // MARK: - Writing

    /// Stores one closed interval in one transaction: into `meter_data`, or `meter_data_conflicts` when its
    /// `time` is taken or it is flagged ``RowFlags/unsynchronised``, and adds its energy to `energy_totals`.
    ///
    /// Energy that is NaN or infinite is not added to the totals (it would poison them for good); the row itself
    /// stores NaN as NULL.
    /// - Parameter row: three phases and three energies.
    /// - Returns: ``InsertOutcome``.
    /// - Throws: ``StoreError``; nothing was written. When ``StoreError/isTransient``, keep the row and insert it
    ///   again after ``reopen()``.
    @discardableResult
    public func insert(_ row: MinuteRow) throws(StoreError) -> InsertOutcome {
        try insert([row])[0]
    }

    /// Stores rows in order in ONE transaction (draining a backlog): all are stored or none.
    /// - Returns: one ``InsertOutcome`` per row, in order.
    /// - Throws: ``StoreError``; nothing was written.
    @discardableResult
    public func insert(_ rows: [MinuteRow]) throws(StoreError) -> [InsertOutcome] {
        guard let first = rows.first, let last = rows.last else { return [] }
        let what = rows.count == 1 ? "cannot store the minute row at time \(first.time)"
            : "cannot store \(rows.count) minute rows (time \(first.time) … \(last.time))"
        return try writing(what) { db in
            let writer = try RowWriter(db)
            return try rows.map { row in try writer.insert(row) }
        }
    }

    /// Stores rows whose `time` cannot be trusted (e.g. measured while the wall clock was never synchronised)
    /// in `meter_data_conflicts`, never in `meter_data`, in ONE transaction, and adds their energy to
    /// `energy_totals` (the energy is real even when the time is not).
    /// - Returns: per row, ``InsertOutcome/conflict`` (stored aside) or ``InsertOutcome/duplicate``.
    /// - Throws: ``StoreError``; nothing was written.
    @discardableResult
    public func insertAside(_ rows: [MinuteRow]) throws(StoreError) -> [InsertOutcome] {
        guard !rows.isEmpty else { return [] }
        return try writing("cannot store \(rows.count) rows aside in meter_data_conflicts") { db in
            let writer = try RowWriter(db)
            return try rows.map { row in try writer.insert(row, aside: true) }
        }
    }

    /// Deletes `meter_data` rows with `time < time` (retention). `energy_totals` and `meter_data_conflicts` are
    /// not touched. Internal: retention goes through ``applyRetention(keepingFrom:claims:)``, which asks the
    /// features' claims first.
    /// - Returns: the number of rows deleted.
    /// - Throws: ``StoreError``.
    @discardableResult
    func deleteRows(olderThan time: Int64) throws(StoreError) -> Int {
        try writing("cannot delete rows older than time \(time)") { db in
            try db.execute(sql: "DELETE FROM meter_data WHERE time < ?", arguments: [time])
            return db.changesCount
        }
    }

    /// Deletes the `meter_data` rows older than `cutoff` that no feature still claims: the oldest time any claim
    /// needs lowers the cutoff. A claim that cannot say what it needs holds everything (nothing is deleted).
    /// - Throws: ``StoreError`` of the delete.
    @discardableResult
    public func applyRetention(keepingFrom cutoff: Int64, claims: [any RetentionClaim]) throws(StoreError) -> RetentionOutcome {
        var effective = cutoff
        var heldBy: [String] = []
        for claim in claims {
            let needed: Int64?
            do { needed = try claim.oldestTimeNeeded(self) } catch {
                logger.warning("retention skipped: a feature could not say which rows it still needs",
                               metadata: ["claimant": "\(claim.claimant)", "error": "\(error)"])
                return RetentionOutcome(cutoff: cutoff, effectiveCutoff: .min, deleted: 0, heldBy: [claim.claimant])
            }
            if let needed, needed < effective {
                effective = needed
                heldBy.append(claim.claimant)
            }
        }
        let deleted = try deleteRows(olderThan: effective)
        return RetentionOutcome(cutoff: cutoff, effectiveCutoff: effective, deleted: deleted, heldBy: heldBy)
    }

    // MARK: - Features' own tables

    /// Runs `body` on a read-only connection of the pool (a consistent snapshot; never waits for the writer).
    /// - Parameter what: what is being read, for the error message ("cannot read the forecast table").
    public func read<Result: Sendable>(_ what: String, _ body: (StoreDatabase) throws(StoreError) -> Result) throws(StoreError) -> Result {
        try reading(what) { db in try body(StoreDatabase(db, path: path)) }
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`, rolled back when it throws).
    public func write<Result: Sendable>(_ what: String, _ body: (StoreDatabase) throws(StoreError) -> Result) throws(StoreError) -> Result {
        try writing(what) { db in try body(StoreDatabase(db, path: path)) }
    }

    // MARK: - Reading

    /// The newest rows of `meter_data`, newest first.
    /// - Parameter limit: at most this many rows.
    /// - Throws: ``StoreError``.
    public func latest(limit: Int) throws(StoreError) -> [MinuteRow] {
        try select("SELECT \(Columns.list) FROM meter_data ORDER BY time DESC LIMIT ?", [.integer(Int64(limit))],
                   what: "cannot read the latest \(limit) rows")
    }

    /// The rows of `meter_data` with `from <= time < to`, oldest first.
    /// - Throws: ``StoreError``.
    public func rows(from: Int64, to: Int64) throws(StoreError) -> [MinuteRow] {
        try select("SELECT \(Columns.list) FROM meter_data WHERE time >= ? AND time < ? ORDER BY time",
                   [.integer(from), .integer(to)], what: "cannot read rows from time \(from) to \(to)")
    }

    /// The row of `meter_data` with this `time`, nil when none.
    /// - Throws: ``StoreError``.
    public func row(at time: Int64) throws(StoreError) -> MinuteRow? {
        try select("SELECT \(Columns.list) FROM meter_data WHERE time = ?", [.integer(time)],
                   what: "cannot read the row at time \(time)").first
    }

    /// The number of rows in `meter_data`.
    /// - Throws: ``StoreError``.
    public func count() throws(StoreError) -> Int {
        try reading("cannot count rows") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM meter_data") ?? 0 }
    }

    /// Lifetime energy per phase from `energy_totals`: the sum of every row ever inserted (conflicts included),
    /// kept across restarts and retention. A phase without a row reads as zero.
    /// - Throws: ``StoreError``.
    public func totals() throws(StoreError) -> [Phase: MinuteRow.PhaseEnergy] {
        try reading("cannot read energy_totals") { db in
            var totals = Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, MinuteRow.PhaseEnergy.zero) })
            for row in try Row.fetchAll(db, sql: "SELECT phase, wh_imp, wh_exp, varh, vah FROM energy_totals") {
                guard let phase = Phase(rawValue: Int(row[0] as Int64) - 1) else { continue }
                totals[phase] = .init(whImport: row[1], whExport: row[2], varh: row[3], vah: row[4])
            }
            return totals
        }
    }

    /// The rows of `meter_data_conflicts`, in the order they were stored.
    /// - Throws: ``StoreError``.
    public func conflicts() throws(StoreError) -> [MinuteRow] {
        try select("SELECT \(Columns.list) FROM meter_data_conflicts ORDER BY rowid", [],
                   what: "cannot read meter_data_conflicts")
    }

    /// Runs `PRAGMA integrity_check` (reads the whole file: seconds on a large database).
    /// - Returns: `"ok"`, or SQLite's list of problems, one per line.
    /// - Throws: ``StoreError``.
    public func integrityCheck() throws(StoreError) -> String {
        try reading("cannot run PRAGMA integrity_check") { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }

    // MARK: - Helpers

    /// The rows of `PRAGMA <name>` on the writer (per-connection settings such as `synchronous`).
    func pragma(_ name: String) throws(StoreError) -> [String] {
        let pool = try openPool("cannot read PRAGMA \(name)")
        do {
            return try pool.writeWithoutTransaction { db in try capturingErrno(db, path: path) { try String.fetchAll(db, sql: "PRAGMA \(name)") } }
        } catch {
            throw StoreError(.read, path: path, detail: "cannot read PRAGMA \(name)", any: error)
        }
    }

    private func select(_ sql: String, _ parameters: [SQLiteValue], what: String) throws(StoreError) -> [MinuteRow] {
        try reading(what) { db in
            let statement = try db.cachedStatement(sql: sql)
            try statement.bind(parameters)
            return try Row.fetchAll(statement).map { Columns.row(from: $0.databaseValues.map(SQLiteValue.init)) }
        }
    }

    /// The pool, or `.closed`. Holds the lock only to fetch it.
    private func openPool(_ what: String) throws(StoreError) -> DatabasePool {
        guard let pool = pool.withLock({ $0 }) else { throw StoreError(.closed, path: path, detail: "\(what): the store is closed") }
        return pool
    }

    /// Runs `body` on a reader of the pool, turning a failure into a ``StoreError`` (a ``StoreError`` thrown by
    /// `body` as it is).
    private func reading<Result>(_ what: String, _ body: (Database) throws -> Result) throws(StoreError) -> Result {
        let pool = try openPool(what)
        do {
            return try pool.read { db in try capturingErrno(db, path: path) { try body(db) } }
        } catch {
            throw StoreError(.read, path: path, detail: what, any: error)
        }
    }

    /// Runs `body` on the writer in one transaction (`BEGIN IMMEDIATE`: a busy database fails before any work, never
    /// halfway), rolled back when anything throws, turning a failure into a ``StoreError`` whose code is `.write`
    /// unless SQLite names a transient cause (a ``StoreError`` thrown by `body` as it is).
    private func writing<Result>(_ what: String, _ body: (Database) throws -> Result) throws(StoreError) -> Result {
        let pool = try openPool(what)
        do {
            return try pool.writeWithoutTransaction { db in
                try capturingErrno(db, path: path) {
                    var result: Result?
                    try db.inTransaction(.immediate) {
                        result = try body(db)
                        return .commit
                    }
                    return result!
                }
            }
        } catch {
            throw StoreError(.write, path: path, detail: what, any: error)
        }
    }
}

/// The statements of one insert transaction (GRDB's statement cache keeps them compiled between transactions).
private struct RowWriter {
    let db: Database
    let insertRow: Statement
    let insertConflict: Statement
    let sameTime: Statement
    let addEnergy: Statement

    init(_ db: Database) throws {
        self.db = db
        insertRow = try db.cachedStatement(
            sql: "INSERT INTO meter_data (\(Columns.list)) VALUES (\(Columns.placeholders)) ON CONFLICT (time) DO NOTHING")
        insertConflict = try db.cachedStatement(
            sql: "INSERT INTO meter_data_conflicts (\(Columns.list), stored_at) VALUES (\(Columns.placeholders), ?)")
        sameTime = try db.cachedStatement(sql: """
            SELECT \(Columns.list) FROM meter_data WHERE time = ?1
            UNION ALL SELECT \(Columns.list) FROM meter_data_conflicts WHERE time = ?1
            """)
        addEnergy = try db.cachedStatement(sql: """
            INSERT INTO energy_totals (phase, wh_imp, wh_exp, varh, vah, updated) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (phase) DO UPDATE SET wh_imp = wh_imp + excluded.wh_imp, wh_exp = wh_exp + excluded.wh_exp,
                varh = varh + excluded.varh, vah = vah + excluded.vah, updated = excluded.updated
            """)
    }

    /// Inserts into `meter_data` (unless `aside`), else into `meter_data_conflicts` unless an identical row is
    /// stored; then adds the energy. `ON CONFLICT (time) DO NOTHING` catches only a taken `time`; any other
    /// constraint still fails loudly.
    func insert(_ row: MinuteRow, aside: Bool = false) throws -> InsertOutcome {
        let values = Columns.values(of: row)
        let aside = aside || row.flags.contains(.unsynchronised)  // its time cannot be trusted
        if !aside {
            try insertRow.bind(values)
            try insertRow.execute()
        }
        let outcome: InsertOutcome
        if !aside && db.changesCount == 1 {
            outcome = .inserted
        } else {
            try sameTime.bind([.integer(row.time)])
            for stored in try Row.fetchAll(sameTime) {
                if Columns.values(of: Columns.row(from: stored.databaseValues.map(SQLiteValue.init))) == values { return .duplicate }
            }
            try insertConflict.bind(values + [.integer(DatabaseFiles.now())])
            try insertConflict.execute()
            outcome = .conflict
        }
        for phase in Phase.allCases {
            let energy = row.energy[phase.rawValue]
            func finite(_ value: Double) -> Double { value.isFinite ? value : 0 }
            try addEnergy.bind([.integer(Int64(phase.rawValue + 1)), .real(finite(energy.whImport)),
                                .real(finite(energy.whExport)), .real(finite(energy.varh)), .real(finite(energy.vah)),
                                .integer(row.time)])
            try addEnergy.execute()
        }
        return outcome
    }
}
