// SPDX-License-Identifier: Apache-2.0
#include <sqlite3.h>

// What Swift cannot import from <sqlite3.h>: one call or constant each, no logic.

/// `SQLITE_TRANSIENT`, a cast of -1 to a function pointer (not importable): tells sqlite3_bind_text to copy the bytes.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

/// `sqlite3_db_config` for the options that take an int and return an int (variadic: not importable).
static inline int csqlite_db_config_int(sqlite3 *db, int op, int value, int *result) {
    return sqlite3_db_config(db, op, value, result);
}
