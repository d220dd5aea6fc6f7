// SPDX-License-Identifier: Apache-2.0
public import MeterStore
import Synchronization

/// The store the storage service has open, for the features' own tables: one writer connection in the process, so
/// a feature's write never races the minute rows for SQLite's lock, and every commit is as durable as theirs.
///
/// Nil while the database cannot be opened (read-only, full, gone): a feature then keeps what it has in memory and
/// tries again at its next minute. Features never close it; the storage service does, when it stops.
public final class SharedStore: Sendable {
    private let store = Mutex<(any ReadingStore)?>(nil)
    public init() {}
    /// The open store, or nil.
    public var current: (any ReadingStore)? { store.withLock { $0 } }
    /// Storage only: the store it opened, or nil when it closed it.
    public func set(_ value: (any ReadingStore)?) { store.withLock { $0 = value } }
}
