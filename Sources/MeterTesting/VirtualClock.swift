// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Simulated time for tests: it moves only when someone sleeps on it or advances it, so a test of
/// minutes runs in milliseconds and the same every time.
///
/// Hand ``now`` to the simulator and ``sleep`` to the driver: a driver that waits 50 ms for RSTDONE
/// moves the chip's clock 50 ms forward, instantly.
public final class VirtualClock: Sendable {
    private let seconds: Mutex<Double>

    public init(start: Double = 1_000) { seconds = Mutex(start) }

    /// Seconds since an arbitrary origin.
    public var now: @Sendable () -> Double { { [self] in self.seconds.withLock { $0 } } }

    /// Advances the clock by `duration` and returns at once.
    public var sleep: @Sendable (Duration) async throws -> Void {
        { [self] duration in self.advance(by: duration) }
    }

    public func advance(by duration: Duration) {
        let (s, attoseconds) = duration.components
        seconds.withLock { $0 += Double(s) + Double(attoseconds) * 1e-18 }
    }

    public func advance(seconds delta: Double) { seconds.withLock { $0 += delta } }
}
