// SPDX-License-Identifier: Apache-2.0
public import ADE9000
public import MeterReadings

/// The role of the meter's store: minute rows in, minute rows and totals out. The mechanism is
/// ``SQLiteReadingStore``; services and features hold `any ReadingStore`.
///
/// Calls block their thread until the database is done (see ``SQLiteReadingStore``'s calling contract).
public protocol ReadingStore: AnyObject, Sendable {
    /// The database file.
    var path: String { get }
    /// Stores rows in order in one transaction; one ``InsertOutcome`` per row.
    func insert(_ rows: [MinuteRow]) throws(StoreError) -> [InsertOutcome]
    /// The newest rows of `meter_data`, newest first.
    func latest(limit: Int) throws(StoreError) -> [MinuteRow]
    /// The rows of `meter_data` with `from <= time < to`, oldest first.
    func rows(from: Int64, to: Int64) throws(StoreError) -> [MinuteRow]
    /// The row of `meter_data` at `time`.
    func row(at time: Int64) throws(StoreError) -> MinuteRow?
    /// Rows in `meter_data`.
    func count() throws(StoreError) -> Int
    /// Lifetime energy per phase.
    func totals() throws(StoreError) -> [Phase: MinuteRow.PhaseEnergy]
    /// Rows set aside in `meter_data_conflicts`, in the order stored.
    func conflicts() throws(StoreError) -> [MinuteRow]
    /// Deletes the rows older than `cutoff` that no claim still needs.
    func applyRetention(keepingFrom cutoff: Int64, claims: [any RetentionClaim]) throws(StoreError) -> RetentionOutcome
    /// Runs `body` on a reader (a consistent snapshot; never waits for the writer): a feature's own tables.
    func read<Result: Sendable>(_ what: String, _ body: (StoreDatabase) throws(StoreError) -> Result) throws(StoreError) -> Result
    /// Runs `body` in one write transaction, rolled back when it throws: a feature's own tables.
    func write<Result: Sendable>(_ what: String, _ body: (StoreDatabase) throws(StoreError) -> Result) throws(StoreError) -> Result
    /// Opens the file again after a failure (moving a damaged file aside).
    func reopen() throws(StoreError)
    /// Closes every connection; later calls throw `.closed` until ``reopen()``.
    func close()
}

extension ReadingStore {
    /// Stores one row. - Returns: its ``InsertOutcome``.
    @discardableResult
    public func insert(_ row: MinuteRow) throws(StoreError) -> InsertOutcome { try insert([row])[0] }
}

/// A feature that still needs stored rows (the exporter, until they are uploaded): retention asks every claim
/// before it deletes, and deletes nothing a claim needs.
public protocol RetentionClaim: Sendable {
    /// Who holds the claim, for logs: `exporter`.
    var claimant: String { get }
    /// The oldest `meter_data.time` still needed, nil when none is.
    /// - Throws: when it cannot tell; retention then deletes nothing this time.
    func oldestTimeNeeded(_ store: any ReadingStore) throws -> Int64?
}

/// What a retention pass did.
public struct RetentionOutcome: Sendable, Hashable {
    /// Rows older than this were due (now − `persistence_interval_sec`).
    public var cutoff: Int64
    /// Rows older than this were deleted: the cutoff, lowered by the claims.
    public var effectiveCutoff: Int64
    /// Rows deleted.
    public var deleted: Int
    /// The claimants that kept rows past the cutoff.
    public var heldBy: [String]
}
