// SPDX-License-Identifier: Apache-2.0
import Logging

/// The database schema as an ordered list of migrations, versioned with `PRAGMA user_version`.
///
/// A migration's SQL is history: never edit a shipped one, append a new version. That is why version 1 spells its
/// columns out instead of deriving them from ``Columns/meterData`` (a test checks the two agree).
enum Schema {
    /// One step: the SQL that takes the database from `version - 1` to `version`.
    struct Migration: Sendable {
        let version: Int64
        let sql: String
    }

    /// All migrations, in order, versions 1, 2, 3, … without gaps.
    static let migrations: [Migration] = [
        // 1: minute rows, rows that met an existing `time`, and lifetime energy per phase.
        // REAL and INTEGER column types, so Python's sqlite3 returns floats for lN_p. Measurements are nullable:
        // NULL stands for NaN (SQLite stores NaN as NULL), e.g. lN_pf of a phase without load.
        // energy_totals.updated is the `time` of the last row whose energy was added (NULL before the first).
        Migration(version: 1, sql: """
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
    ]

    /// The newest version this build knows.
    static var currentVersion: Int64 { migrations.last?.version ?? 0 }

    /// Applies every migration newer than the file's `user_version`, each in its own transaction together with
    /// its `PRAGMA user_version = N`, so a failed step leaves the file at the previous version.
    /// The caller has already refused a file newer than ``currentVersion``.
    static func migrate(_ connection: SQLiteConnection, from version: Int64, logger: Logger) throws(StoreError) {
        var reached = version
        for migration in migrations where migration.version > version {
            do {
                try connection.transaction { () throws(SQLiteError) in
                    try connection.execute(migration.sql)
                    try connection.execute("PRAGMA user_version = \(migration.version)")
                }
            } catch {
                throw StoreError(.schema, path: connection.path,
                                 detail: "cannot apply schema migration \(migration.version) (file stays at version \(reached))",
                                 error)
            }
            reached = migration.version
            logger.info("Applied database schema migration", metadata: ["db.schema.version": "\(migration.version)"])
        }
    }
}
