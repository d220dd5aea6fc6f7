// SPDX-License-Identifier: Apache-2.0
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
        // Power quality per minute: THD-V and THD-I mean and max (%), the neutral current (A). Older files gain the
        // columns in place, their rows NULL there (unknown), every row and total kept.
        StoreMigration("2 power quality: THD, neutral current", sql: """
            ALTER TABLE meter_data ADD COLUMN l1_vthd REAL;
            ALTER TABLE meter_data ADD COLUMN l2_vthd REAL;
            ALTER TABLE meter_data ADD COLUMN l3_vthd REAL;
            ALTER TABLE meter_data ADD COLUMN l1_vthd_max REAL;
            ALTER TABLE meter_data ADD COLUMN l2_vthd_max REAL;
            ALTER TABLE meter_data ADD COLUMN l3_vthd_max REAL;
            ALTER TABLE meter_data ADD COLUMN l1_ithd REAL;
            ALTER TABLE meter_data ADD COLUMN l2_ithd REAL;
            ALTER TABLE meter_data ADD COLUMN l3_ithd REAL;
            ALTER TABLE meter_data ADD COLUMN l1_ithd_max REAL;
            ALTER TABLE meter_data ADD COLUMN l2_ithd_max REAL;
            ALTER TABLE meter_data ADD COLUMN l3_ithd_max REAL;
            ALTER TABLE meter_data ADD COLUMN n_i REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l1_vthd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l2_vthd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l3_vthd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l1_vthd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l2_vthd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l3_vthd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l1_ithd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l2_ithd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l3_ithd REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l1_ithd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l2_ithd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN l3_ithd_max REAL;
            ALTER TABLE meter_data_conflicts ADD COLUMN n_i REAL;
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
    static func checkNotNewer(_ connection: SQLiteConnection, version: Int64, features: [StoreSchema]) throws(StoreError) {
        guard version <= currentVersion else {
            throw StoreError(.newerSchema, path: connection.path,
                             detail: "the database has schema version \(version), newer than the \(currentVersion) "
                                 + "this clemap-edge knows; the file was left untouched")
        }
        guard version >= 2 else { return }
        let applied: [String: Set<String>]
        do { applied = try appliedMigrations(connection) } catch {
            throw StoreError(.open, path: connection.path, detail: "cannot read store_migrations", error)
        }
        for schema in features {
            let known = Set(schema.migrations.map(\.name))
            if let unknown = applied[schema.feature]?.first(where: { !known.contains($0) }) {
                throw StoreError(.newerSchema, path: connection.path,
                                 detail: "the database has migration '\(unknown)' of \(schema.feature), which this clemap-edge "
                                     + "does not know (written by a newer release); the file was left untouched")
            }
        }
    }

    /// Applies every missing migration, features in order, each in its own transaction with its bookkeeping row.
    /// The bookkeeping itself (`store_migrations`, `user_version` 2, the first release's migration recorded) goes
    /// into the first of those transactions, so a file is never left with bookkeeping but no tables.
    static func migrate(_ connection: SQLiteConnection, from version: Int64, features: [StoreSchema], logger: Logger) throws(StoreError) {
        var applied: [String: Set<String>] = [:]
        if version >= 2 {
            do { applied = try appliedMigrations(connection) } catch {
                throw StoreError(.schema, path: connection.path, detail: "cannot read store_migrations", error)
            }
        } else if version == 1 {
            // The first release applied the minute tables and said so with user_version 1 alone.
            applied[meterData.feature] = [meterData.migrations[0].name]
        }
        var bookkeepingDone = version >= currentVersion
        func bookkeeping() throws(SQLiteError) {
            guard !bookkeepingDone else { return }
            try connection.execute(Schema.bookkeeping)
            if version == 1 { try record(connection, feature: meterData.feature, name: meterData.migrations[0].name) }
            try connection.execute("PRAGMA user_version = \(currentVersion)")
        }
        let pending = features.flatMap { schema in
            schema.migrations.filter { !(applied[schema.feature]?.contains($0.name) ?? false) }.map { (schema.feature, $0) }
        }
        if pending.isEmpty, !bookkeepingDone {
            do { try connection.transaction { () throws(SQLiteError) in try bookkeeping() } } catch {
                throw StoreError(.schema, path: connection.path, detail: "cannot record migrations by name (file stays at version \(version))", error)
            }
            bookkeepingDone = true
        }
        for (feature, migration) in pending {
            do {
                try connection.transaction { () throws(SQLiteError) in
                    try bookkeeping()
                    try connection.execute(migration.sql)
                    try record(connection, feature: feature, name: migration.name)
                }
            } catch {
                throw StoreError(.schema, path: connection.path,
                                 detail: "cannot apply migration '\(migration.name)' of \(feature) (rolled back)", error)
            }
            if !bookkeepingDone, version == 1 {
                logger.info("Upgraded the database to named migrations", metadata: ["db.schema.version": "\(currentVersion)"])
            }
            bookkeepingDone = true
            logger.info("Applied database schema migration", metadata: [
                "db.migration.feature": "\(feature)", "db.migration.name": "\(migration.name)",
            ])
        }
        if version == 1, pending.isEmpty {
            logger.info("Upgraded the database to named migrations", metadata: ["db.schema.version": "\(currentVersion)"])
        }
    }

    private static func record(_ connection: SQLiteConnection, feature: String, name: String) throws(SQLiteError) {
        let statement = try connection.prepare("INSERT INTO store_migrations (feature, name, applied_at) VALUES (?, ?, ?)")
        statement.bind([.text(feature), .text(name), .integer(DatabaseFiles.now())])
        _ = try statement.step()
    }

    /// Migration names by feature, from `store_migrations`.
    static func appliedMigrations(_ connection: SQLiteConnection) throws(SQLiteError) -> [String: Set<String>] {
        let statement = try connection.prepare("SELECT feature, name FROM store_migrations")
        var applied: [String: Set<String>] = [:]
        while try statement.step() {
            applied[statement.string(at: 0) ?? "", default: []].insert(statement.string(at: 1) ?? "")
        }
        return applied
    }
}
