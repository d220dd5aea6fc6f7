// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// What is wrong with the service right now, as the parts that know report it: the sampler (meter
/// fault, clock not synchronised), the storage (database unwritable), later the exporter (backlog).
/// The status LED shows the most urgent; the reset button's short press logs them.
public final class ServiceHealth: Sendable {
    public enum Condition: String, Sendable, Hashable, CaseIterable {
        /// The chip is not set up yet.
        case starting
        /// The wall clock is not synchronised: rows are held until it is.
        case clockUnsynchronised = "clock-unsynchronised"
        /// Snapshots are failing.
        case meterFault = "meter-fault"
        /// The database cannot be written; rows wait in memory.
        case storageFault = "storage-fault"
        /// The exporter has a backlog.
        case exporterBacklog = "exporter-backlog"
    }

    private let conditions = Mutex<Set<Condition>>([.starting])

    public init() {}

    public func set(_ condition: Condition, _ present: Bool) {
        conditions.withLock { if present { $0.insert(condition) } else { $0.remove(condition) } }
    }

    public var current: Set<Condition> { conditions.withLock { $0 } }

    /// `healthy`, or the conditions joined by commas.
    public var summary: String {
        let now = current
        return now.isEmpty ? "healthy" : Condition.allCases.filter(now.contains).map(\.rawValue).joined(separator: ", ")
    }
}
