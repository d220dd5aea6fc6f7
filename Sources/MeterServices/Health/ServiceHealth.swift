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
        /// The metering chip stopped answering and no RESET pin is wired (`chip_reset_pin`): only a power
        /// cycle brings it back.
        case chipUnresponsive = "chip-unresponsive"
        /// The database cannot be written; rows wait in memory.
        case storageFault = "storage-fault"
        /// The exporter has a backlog.
        case exporterBacklog = "exporter-backlog"
    }

    /// The exporter's outbox: uploads waiting, and the start of the oldest data among them (Unix seconds).
    public struct ExportBacklog: Sendable, Hashable {
        public var pending: Int
        public var oldest: Int64?
        public init(pending: Int, oldest: Int64?) { self.pending = pending; self.oldest = oldest }
    }

    private let conditions = Mutex<Set<Condition>>([.starting])
    private let backlog = Mutex<ExportBacklog?>(nil)

    public init() {}

    /// The exporter's backlog as it last counted it; nil without an exporter.
    public var exportBacklog: ExportBacklog? {
        get { backlog.withLock { $0 } }
        set { backlog.withLock { $0 = newValue } }
    }

    public func set(_ condition: Condition, _ present: Bool) {
        conditions.withLock { if present { $0.insert(condition) } else { $0.remove(condition) } }
    }

    public var current: Set<Condition> { conditions.withLock { $0 } }

    /// `healthy`, or the conditions joined by commas; the exporter's backlog with its size: `exporter-backlog (12 uploads)`.
    public var summary: String {
        let now = current
        guard !now.isEmpty else { return "healthy" }
        return Condition.allCases.filter(now.contains).map { condition in
            guard condition == .exporterBacklog, let backlog = exportBacklog else { return condition.rawValue }
            return "\(condition.rawValue) (\(backlog.pending) uploads\(backlog.oldest.map { ", the oldest from \($0)" } ?? ""))"
        }.joined(separator: ", ")
    }
}
