// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Running totals since the process started, kept by the parts that know them and read by the API and `/metrics`
/// without touching the bus or the database.
public final class ServiceCounters: Sendable {
    public struct Values: Sendable, Hashable {
        /// Successful snapshots.
        public var snapshots = 0
        /// Snapshots that failed (bus, CRC after retries, chip not answering).
        public var snapshotFailures = 0
        /// SPI reads whose CRC did not match (each was repeated).
        public var spiCRCErrors = 0
        /// Times the chip was found reset or stopped and set up again.
        public var chipReinitialisations = 0
        /// Rows committed to the database (`meter_data` or its conflicts table).
        public var rowsWritten = 0
        /// Failed attempts to open or write the database (each retried later; rows wait in memory).
        public var storageFaults = 0
        public init() {}
    }

    private let values = Mutex(Values())
    public init() {}

    public var current: Values { values.withLock { $0 } }
    public func update(_ body: (inout Values) -> Void) { values.withLock { body(&$0) } }
}
