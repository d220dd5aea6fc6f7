// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread of its own, for blocking socket work that must never occupy the Swift concurrency pool (whose few
/// threads run the sampler). The corresponding C function is `pthread_create`.
enum PosixThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread with a `stackSize`-byte stack; detached threads clean up after themselves,
    /// others must be joined (``join(_:)``).
    /// - Returns: the thread, or nil when the system has no thread to give (`EAGAIN`).
    static func start(stackSize: Int, detached: Bool, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        if detached { pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED)) }
        let argument = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, argument)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(argument).release()
            return nil
        }
        return thread
    }

    /// Waits for a joinable thread to end. The corresponding C function is `pthread_join`.
    static func join(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}
