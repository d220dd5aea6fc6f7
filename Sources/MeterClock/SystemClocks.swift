// SPDX-License-Identifier: Apache-2.0

internal import CLinuxTime
#if canImport(Glibc)
import Glibc
#endif

/// The C clock calls, in one place.
enum SystemClocks {
    enum ID { case monotonic, realtime }

    /// `clock_gettime(id)` in seconds.
    static func read(_ id: ID) -> Double {
        var now = timespec()
        clock_gettime(id == .monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }

    /// `adjtimex(2)` with no change requested: TIME_ERROR or STA_UNSYNC mean the kernel's clock is not
    /// synchronised to a time source (C shim: the macros do not import).
    static func kernelSynchronized() -> Bool {
        clinuxtime_clock_synchronized() == 1
    }
}
