// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread of its own (`pthread_create`, detached), for work that blocks in C (libmosquitto's loop, a TCP
/// connect): it never holds a thread of Swift's cooperative pool, which runs the sampler and the storage.
enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread; `name` says what it is for (`pthread_setname_np` needs `_GNU_SOURCE`,
    /// which Swift's Glibc module does not define, so the name is not given to the kernel).
    /// - Returns: false when no thread could be created (`pthread_create` failed; `body` does not run).
    @discardableResult
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return false
        }
        _ = pthread_detach(thread)
        return true
    }
}

/// The monotonic clock (`CLOCK_MONOTONIC`), seconds: the connection's timeouts and backoff are real time, whatever
/// `--sim-speed` does to the meter's clock.
enum Monotonic {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Sleeps `seconds` (`nanosleep`), on the calling thread.
    static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        _ = nanosleep(&request, nil)
    }
}
