// SPDX-License-Identifier: Apache-2.0
internal import GRDB
import Logging

/// One step of a feature's schema: a name (unique within the feature, never changed once shipped) and its SQL.
///
/// A shipped migration's SQL is history: never edit it, append a new one.
public struct StoreMigration: Sendable, Hashable {
    public let name: String
    public let sql: String
    public init(_ name: String, sql: String) { self.name = name; self.sql = sql }
}

/// The tables one feature owns, as its ordered migrations. The store applies every feature's missing
/// migrations at open, in order, each in its own transaction together with its row in `store_migrations`.
///
/// Features register theirs through ``SQLiteReadingStore/init(path:logger:features:)``; the minute rows are
/// the feature ``meterData``, always first.
public struct StoreSchema: Sendable, Hashable {
    /// The feature's name in `store_migrations.feature`, e.g. `forecast`.
    public let feature: String
    public let migrations: [StoreMigration]
    public init(feature: String, migrations: [StoreMigration]) {
        precondition(Set(migrations.map(\.name)).count == migrations.count, "duplicate migration names in \(feature)")
        self.feature = feature; self.migrations = migrations
    }
}

/// The store's schema bookkeeping.
///
/// `PRAGMA user_version` says how migrations are recorded: 1 was the first release (its one migration, the
/// minute tables, implied by the version), 2 records every applied migration by feature and name in
/// `store_migrations`. A file of version 1 is upgraded in place (its migration is recorded as applied, its rows
/// untouched). A file newer than this build (a higher version, or a migration of a known feature that this
/// build does not know) is refused before anything is written.
enum Schema {
    /// The `user_version` this build writes.
    static let currentVersion: Int64 = 2

    /// The minute rows: `meter_data`, `meter_data_conflicts`, `energy_totals`.
    static let meterData = StoreSchema(feature: "meter_data", migrations: [
        // REAL and INTEGER column types, so Python's sqlite3 returns floats for lN_p. Measurements are nullable:
        // NULL stands for NaN (SQLite stores NaN as NULL), e.g. lN_pf of a phase without load.
        // energy_totals.updated is the `time` of the last row whose energy was added (NULL before the first).
        // Spelled out rather than derived from `MinuteRow.columns`: a test checks the two agree.
        StoreMigration("1 minute rows, conflicts, lifetime totals", sql: """
            CREATE TABLE meter_data (
                time INTEGER PRIMARY KEY,
                l1_v REAL, l2_v REAL, l3_v REAL, l1_i REAL, l2_i REAL, l3_i REAL,
                l1_p REAL, l2_p REAL, l3_p REAL, l1_q REAL, l2_q REAL, l3_q REAL,
                l1_s REAL, l2_s REAL, l3_s REAL, l1_pf REAL, l2_pf REAL, l3_pf REAL,
                freq REAL,
                l1_wh_imp REAL, l2_wh_imp REAL, l3_wh_imp REAL, l1_wh_exp REAL, l2_wh_exp REAL, l3_wh_exp REAL,
                l1_varh REAL, l2_varh REAL, l3_varh REAL, l1_vah REAL, l2_vah REAL, l3_vah REAL,
                duration_s REAL,
                samples INTEGER NOT NULL,
                flags INTEGER NOT NULL,
                temp_c REAL,
                input_b INTEGER
            );
            CREATE TABLE meter_data_conflicts (
                time INTEGER NOT NULL,
                l1_v REAL, l2_v REAL, l3_v REAL, l1_i REAL, l2_i REAL, l3_i REAL,
                l1_p REAL, l2_p REAL, l3_p REAL, l1_q REAL, l2_q REAL, l3_q REAL,
                l1_s REAL, l2_s REAL, l3_s REAL, l1_pf REAL, l2_pf REAL, l3_pf REAL,
                freq REAL,
                l1_wh_imp REAL, l2_wh_imp REAL, l3_wh_imp REAL, l1_wh_exp REAL, l2_wh_exp REAL, l3_wh_exp REAL,
                l1_varh REAL, l2_varh REAL, l3_varh REAL, l1_vah REAL, l2_vah REAL, l3_vah REAL,
                duration_s REAL,
                samples INTEGER NOT NULL,
                flags INTEGER NOT NULL,
                temp_c REAL,
                input_b INTEGER,
                stored_at INTEGER NOT NULL
            );
            CREATE INDEX meter_data_conflicts_time ON meter_data_conflicts (time);
            CREATE TABLE energy_totals (
                phase INTEGER PRIMARY KEY CHECK (phase IN (1, 2, 3)),
                wh_imp REAL NOT NULL DEFAULT 0,
                wh_exp REAL NOT NULL DEFAULT 0,
                varh REAL NOT NULL DEFAULT 0,
                vah REAL NOT NULL DEFAULT 0,
                updated INTEGER
            );
            INSERT INTO energy_totals (phase) VALUES (1), (2), (3);
            """),
    ])

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS store_migrations (
            feature TEXT NOT NULL,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL,
            PRIMARY KEY (feature, name)
        )
        """

    /// Throws `.newerSchema` when the file was written by a newer build; reads only.
    static func checkNotNewer(_ db: Database, path: String, version: Int64, features: [StoreSchema]) throws(StoreError) {
        guard version <= currentVersion else {
            throw StoreError(.newerSchema, path: path,
                             detail: "the database has schema version \(version), newer than the \(currentVersion) "
                                 + "this clemap-edge knows; the file was left untouched")
        }
        guard version >= 2 else { return }
        let applied: [String: Set<String>]
        do { applied = try capturingErrno(db, path: path) { try appliedMigrations(db) } } catch {
            throw StoreError(.open, path: path, detail: "cannot read store_migrations", any: error)
        }
        for schema in features {
            let known = Set(schema.migrations.map(\.name))
            if let unknown = applied[schema.feature]?.first(where: { !known.contains($0) }) {
                throw StoreError(.newerSchema, path: path,
                                 detail: "the database has migration '\(unknown)' of \(schema.feature), which this clemap-edge "
                                     + "does not know (written by a newer release); the file was left untouched")
            }
        }
    }

    /// GRDB's name of a migration: `feature/name`, e.g. `meter_data/1 minute rows, conflicts, lifetime totals`.
    static func identifier(_ feature: String, _ migration: StoreMigration) -> String { "\(feature)/\(migration.name)" }

    /// Applies every missing migration, features in order, through GRDB's `DatabaseMigrator`: each migration in its
    /// own transaction (`BEGIN IMMEDIATE`) together with its row in `grdb_migrations` (GRDB's bookkeeping) and in
    /// `store_migrations` (ours, which a file keeps for older builds and for the newer-schema refusal, and which
    /// says `user_version` 2: the same transaction creates the table and sets the version, so a file is never left
    /// with bookkeeping but no tables).
    ///
    /// A file from before GRDB has `store_migrations` (version 2) or nothing but `user_version` 1 (the first
    /// release, whose one migration, the minute tables, the version implies). Its applied migrations are copied into
    /// `grdb_migrations` first, in one transaction, so the migrator skips them; a version-1 file gets its
    /// `store_migrations` in that transaction too (its rows untouched).
    static func migrate(_ pool: DatabasePool, from version: Int64, features: [StoreSchema], logger: Logger) throws(StoreError) {
        var migrator = DatabaseMigrator()
        for schema in features {
            for migration in schema.migrations {
                migrator.registerMigration(identifier(schema.feature, migration)) { db in
                    try db.execute(sql: bookkeeping)
                    try db.execute(sql: "PRAGMA user_version = \(currentVersion)")
                    try db.execute(sql: migration.sql)
                    try record(db, feature: schema.feature, name: migration.name)
                }
            }
        }
        // What is applied: GRDB's bookkeeping, and ours (the only one in a file from before GRDB).
        let pending: [(feature: String, migration: StoreMigration)]
        let needsAdopting: Bool
        do {
            (pending, needsAdopting) = try pool.writeWithoutTransaction { db in
                try capturingErrno(db, path: pool.path) {
                    var recorded = version >= 2 ? try appliedMigrations(db) : [:]
                    if version == 1 { recorded[meterData.feature] = [meterData.migrations[0].name] }
                    let adopted = try migrator.appliedIdentifiers(db)
                    let ours = Set(recorded.flatMap { feature, names in names.map { "\(feature)/\($0)" } })
                    let pending = features.flatMap { schema in
                        schema.migrations.filter { !ours.contains(identifier(schema.feature, $0)) }.map { (schema.feature, $0) }
                    }
                    return (pending, version == 1 || !ours.isSubset(of: adopted))
                }
            }
            if needsAdopting {
                try pool.writeWithoutTransaction { db in
                    try capturingErrno(db, path: pool.path) { try db.inTransaction(.immediate) { try adopt(db, version: version); return .commit } }
                }
            }
        } catch {
            throw StoreError(.schema, path: pool.path, detail: "cannot record migrations by name (file stays at version \(version))",
                             any: error)
        }
        if version == 1 {
            logger.info("Upgraded the database to named migrations", metadata: ["db.schema.version": "\(currentVersion)"])
        }
        guard !pending.isEmpty else { return }
        do {
            try migrator.migrate(pool)
        } catch {
            // The migrator stops at the first failure: find it among the pending ones.
            let applied = (try? pool.read { db in try migrator.appliedIdentifiers(db) }) ?? []
            let done = pending.prefix { applied.contains(identifier($0.feature, $0.migration)) }
            done.forEach(logApplied)
            let failed = pending[done.count]
            throw StoreError(.schema, path: pool.path,
                             detail: "cannot apply migration '\(failed.migration.name)' of \(failed.feature) (rolled back)",
                             any: withWriterErrno(error, pool))
        }
        pending.forEach(logApplied)

        func logApplied(_ step: (feature: String, migration: StoreMigration)) {
            logger.info("Applied database schema migration", metadata: [
                "db.migration.feature": "\(step.feature)", "db.migration.name": "\(step.migration.name)",
            ])
        }
    }

    /// Copies the migrations a file from before GRDB records (or, at version 1, implies) into `grdb_migrations`.
    /// Does nothing on a new file (version 0), and nothing new on a file GRDB has migrated already.
    private static func adopt(_ db: Database, version: Int64) throws {
        guard version >= 1 else { return }
        if version == 1 {
            try db.execute(sql: bookkeeping)
            try record(db, feature: meterData.feature, name: meterData.migrations[0].name)
            try db.execute(sql: "PRAGMA user_version = \(currentVersion)")
        }
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT OR IGNORE INTO grdb_migrations (identifier) SELECT feature || '/' || name FROM store_migrations;
            """)
    }

    private static func record(_ db: Database, feature: String, name: String) throws {
        try db.execute(sql: "INSERT INTO store_migrations (feature, name, applied_at) VALUES (?, ?, ?)",
                       arguments: [feature, name, DatabaseFiles.now()])
    }

    /// Migration names by feature, from `store_migrations`.
    static func appliedMigrations(_ db: Database) throws -> [String: Set<String>] {
        var applied: [String: Set<String>] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT feature, name FROM store_migrations") {
            applied[row[0] ?? "", default: []].insert(row[1] ?? "")
        }
        return applied
    }
}
