// SPDX-License-Identifier: Apache-2.0
public import ADE9000
public import Logging
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
/// ## Calling contract
/// - One writer, many readers: the service's storage inserts; other tasks (HTTP API, exporter, forecaster) read.
///   Writes go through one connection under an internal `Mutex`; reads go through a small pool of read-only
///   connections (WAL), so a reader never waits for the writer's transaction or fsync, and sees the last
///   committed rows. Connections never leave their locks, so the type is `Sendable`, checked by the compiler.
/// - Every call blocks its thread until SQLite is done: an insert waits for an fsync (milliseconds on an SD card),
///   and up to 5 s (`busy_timeout`) when another process holds the write lock. Call it from a task that may block
///   that long. An actor would not avoid this (SQLite has no asynchronous I/O, the actor would block a cooperative
///   thread all the same) and would make every reader `async`; the lock keeps the API synchronous.
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
    private let connection: Mutex<SQLiteConnection?>
    private let readers: ReaderPool
    /// Whether the store is open, without taking the writer's lock (readers must not wait on the writer).
    private let isOpen = Atomic<Bool>(true)

    /// Opens (or creates) the database at `path`, ready to use.
    ///
    /// Creates the parent folder when missing; sets `journal_mode = WAL`, `synchronous = FULL`, `busy_timeout`
    /// 5000 ms; runs `PRAGMA quick_check`. A file that is not a database or is damaged is moved aside, with its
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
        connection = Mutex(try Self.openDatabase(path: path, readOnly: readOnly, features: self.features, logger: logger))
        readers = ReaderPool(path: path, size: 4)
    }

    /// Opens the file again, with every check of ``init(path:logger:)`` (including moving a damaged file aside),
    /// then closes the old connection. For the service to retry after a transient error, e.g. once the
    /// filesystem is writable again, or after ``close()``. On failure the store stays as it was.
    /// - Throws: ``StoreError``, as ``init(path:logger:)``.
    public func reopen() throws(StoreError) {
        try connection.withLock { (connection: inout SQLiteConnection?) throws(StoreError) in
            let fresh = try Self.openDatabase(path: path, readOnly: readOnly, features: features, logger: logger)
            connection?.close()
            connection = fresh
        }
        readers.closeAll()  // the file may have been moved aside: readers open the new one
        isOpen.store(true, ordering: .sequentiallyConsistent)
        logger.info("Reopened database")
    }

    /// Closes the connection (`sqlite3_close_v2`); SQLite checkpoints the WAL into the file. Later calls throw
    /// `.closed` until ``reopen()``. Safe to call twice. Deinit closes too.
    public func close() {
        isOpen.store(false, ordering: .sequentiallyConsistent)
        readers.closeAll()
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
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
        return try withConnection(.write, what) { connection throws(SQLiteError) in
            try connection.transaction { () throws(SQLiteError) in
                let writer = try RowWriter(connection)
                return try rows.map { row throws(SQLiteError) in try writer.insert(row) }
            }
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
        return try withConnection(.write, "cannot store \(rows.count) rows aside in meter_data_conflicts") {
            connection throws(SQLiteError) in
            try connection.transaction { () throws(SQLiteError) in
                let writer = try RowWriter(connection)
                return try rows.map { row throws(SQLiteError) in try writer.insert(row, aside: true) }
            }
        }
    }

    /// Deletes `meter_data` rows with `time < time` (retention). `energy_totals` and `meter_data_conflicts` are
    /// not touched. Internal: retention goes through ``applyRetention(keepingFrom:claims:)``, which asks the
    /// features' claims first.
    /// - Returns: the number of rows deleted.
    /// - Throws: ``StoreError``.
    @discardableResult
    func deleteRows(olderThan time: Int64) throws(StoreError) -> Int {
        try withConnection(.write, "cannot delete rows older than time \(time)") { connection throws(SQLiteError) in
            let statement = try connection.prepare("DELETE FROM meter_data WHERE time < ?")
            statement.bind(time, at: 1)
            _ = try statement.step()
            return connection.changes
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
        if !isOpen.load(ordering: .sequentiallyConsistent) { throw StoreError(.closed, path: path, detail: "\(what): the store is closed") }
        return try readers.withReader(what: what) { connection throws(StoreError) in try body(StoreDatabase(connection)) }
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`, rolled back when it throws).
    public func write<Result: Sendable>(_ what: String, _ body: (StoreDatabase) throws(StoreError) -> Result) throws(StoreError) -> Result {
        try connection.withLock { (connection: inout SQLiteConnection?) throws(StoreError) -> Result in
            guard let connection else { throw StoreError(.closed, path: path, detail: "\(what): the store is closed") }
            var thrown: StoreError?
            do throws(SQLiteError) {
                let result = try connection.transaction { () throws(SQLiteError) -> Result? in
                    do throws(StoreError) { return try body(StoreDatabase(connection)) } catch {
                        thrown = error
                        throw SQLiteError(code: .error, message: "\(error)", systemErrno: 0, sql: nil, path: path)
                    }
                }
                return result!
            } catch {
                throw thrown ?? StoreError(.write, path: path, detail: what, error)
            }
        }
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
        try withReader("cannot count rows") { connection throws(SQLiteError) in
            Int(try connection.int64("SELECT count(*) FROM meter_data"))
        }
    }

    /// Lifetime energy per phase from `energy_totals`: the sum of every row ever inserted (conflicts included),
    /// kept across restarts and retention. A phase without a row reads as zero.
    /// - Throws: ``StoreError``.
    public func totals() throws(StoreError) -> [Phase: MinuteRow.PhaseEnergy] {
        try withReader("cannot read energy_totals") { connection throws(SQLiteError) in
            var totals = Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, MinuteRow.PhaseEnergy.zero) })
            let statement = try connection.prepare("SELECT phase, wh_imp, wh_exp, varh, vah FROM energy_totals")
            while try statement.step() {
                guard let phase = Phase(rawValue: Int(statement.int64(at: 0)) - 1) else { continue }
                totals[phase] = .init(whImport: statement.double(at: 1), whExport: statement.double(at: 2),
                                      varh: statement.double(at: 3), vah: statement.double(at: 4))
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
        try withReader("cannot run PRAGMA integrity_check") { connection throws(SQLiteError) in
            try connection.strings("PRAGMA integrity_check").joined(separator: "\n")
        }
    }

    // MARK: - Helpers

    /// The rows of `PRAGMA <name>` on the store's own connection (per-connection settings such as `synchronous`).
    func pragma(_ name: String) throws(StoreError) -> [String] {
        try withConnection(.read, "cannot read PRAGMA \(name)") { connection throws(SQLiteError) in
            try connection.strings("PRAGMA \(name)")
        }
    }

    private func select(_ sql: String, _ parameters: [SQLiteValue], what: String) throws(StoreError) -> [MinuteRow] {
        try withReader(what) { connection throws(SQLiteError) in
            let statement = try connection.prepare(sql)
            statement.bind(parameters)
            var rows: [MinuteRow] = []
            while try statement.step() { rows.append(Columns.row(from: statement)) }
            return rows
        }
    }

    /// Runs `body` on a reader of the pool, turning an SQLite failure into a ``StoreError``.
    private func withReader<Result: Sendable>(
        _ what: String, _ body: (SQLiteConnection) throws(SQLiteError) -> Result
    ) throws(StoreError) -> Result {
        if !isOpen.load(ordering: .sequentiallyConsistent) { throw StoreError(.closed, path: path, detail: "\(what): the store is closed") }
        return try readers.withReader(what: what) { reader throws(StoreError) in
            do throws(SQLiteError) { return try body(reader) } catch { throw StoreError(.read, path: path, detail: what, error) }
        }
    }

    /// Runs `body` with the writer's connection under the lock, turning an SQLite failure into a ``StoreError``
    /// whose code is `kind` unless SQLite names a transient cause.
    private func withConnection<Result: Sendable>(
        _ kind: StoreError.Code, _ what: String, _ body: (SQLiteConnection) throws(SQLiteError) -> Result
    ) throws(StoreError) -> Result {
        try connection.withLock { (connection: inout SQLiteConnection?) throws(StoreError) -> Result in
            guard let connection else {
                throw StoreError(.closed, path: path, detail: "\(what): the store is closed")
            }
            do throws(SQLiteError) {
                return try body(connection)
            } catch {
                throw StoreError(kind, path: path, detail: what, error)
            }
        }
    }
}

/// The prepared statements of one insert transaction.
private struct RowWriter {
    let connection: SQLiteConnection
    let insertRow: Statement
    let insertConflict: Statement
    let sameTime: Statement
    let addEnergy: Statement

    init(_ connection: SQLiteConnection) throws(SQLiteError) {
        self.connection = connection
        insertRow = try connection.prepare(
            "INSERT INTO meter_data (\(Columns.list)) VALUES (\(Columns.placeholders)) ON CONFLICT (time) DO NOTHING")
        insertConflict = try connection.prepare(
            "INSERT INTO meter_data_conflicts (\(Columns.list), stored_at) VALUES (\(Columns.placeholders), ?)")
        sameTime = try connection.prepare("""
            SELECT \(Columns.list) FROM meter_data WHERE time = ?1
            UNION ALL SELECT \(Columns.list) FROM meter_data_conflicts WHERE time = ?1
            """)
        addEnergy = try connection.prepare("""
            INSERT INTO energy_totals (phase, wh_imp, wh_exp, varh, vah, updated) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (phase) DO UPDATE SET wh_imp = wh_imp + excluded.wh_imp, wh_exp = wh_exp + excluded.wh_exp,
                varh = varh + excluded.varh, vah = vah + excluded.vah, updated = excluded.updated
            """)
    }

    /// Inserts into `meter_data` (unless `aside`), else into `meter_data_conflicts` unless an identical row is
    /// stored; then adds the energy. `ON CONFLICT (time) DO NOTHING` catches only a taken `time`; any other
    /// constraint still fails loudly.
    func insert(_ row: MinuteRow, aside: Bool = false) throws(SQLiteError) -> InsertOutcome {
        let values = Columns.values(of: row)
        defer { insertRow.reset(); insertConflict.reset(); sameTime.reset(); addEnergy.reset() }

        let aside = aside || row.flags.contains(.unsynchronised)  // its time cannot be trusted
        if !aside {
            insertRow.bind(values)
            _ = try insertRow.step()
        }
        let outcome: InsertOutcome
        if !aside && connection.changes == 1 {
            outcome = .inserted
        } else {
            sameTime.bind(row.time, at: 1)
            while try sameTime.step() {
                if Columns.values(of: Columns.row(from: sameTime)) == values { return .duplicate }
            }
            insertConflict.bind(values)
            insertConflict.bind(DatabaseFiles.now(), at: Int32(values.count) + 1)
            _ = try insertConflict.step()
            outcome = .conflict
        }
        for phase in Phase.allCases {
            let energy = row.energy[phase.rawValue]
            func finite(_ value: Double) -> Double { value.isFinite ? value : 0 }
            addEnergy.bind([.integer(Int64(phase.rawValue + 1)), .real(finite(energy.whImport)),
                            .real(finite(energy.whExport)), .real(finite(energy.varh)), .real(finite(energy.vah)),
                            .integer(row.time)])
            _ = try addEnergy.step()
            addEnergy.reset()
        }
        return outcome
    }
}
