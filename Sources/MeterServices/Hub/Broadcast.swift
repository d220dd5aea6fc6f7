// SPDX-License-Identifier: Apache-2.0

public import Logging
import Synchronization

/// One producer, many consumers: every subscriber gets its own `AsyncStream` of what is published after it
/// subscribed, in order, through its own bounded buffer.
///
/// ``publish(_:)`` never waits: a consumer that does not keep up loses the oldest elements of its own
/// buffer (``Buffer/newest(_:)``), which is logged when it starts dropping and when it has caught up, and
/// counted in ``dropped(by:)``. The other consumers and the producer (sampling) are not slowed. Only the
/// storage subscribes ``Buffer/lossless``: it must see every row, and bounds its own backlog.
///
/// Subscribe before the producer starts (in the service's `init`, which the app builder runs before the
/// group starts), or the first elements are missed.
public final class Broadcast<Element: Sendable>: Sendable {
    /// How much a subscriber may fall behind.
    public enum Buffer: Sendable, Hashable {
        /// Never drops; for the storage only.
        case lossless
        /// Keeps the newest `n` unread elements, dropping the oldest.
        case newest(Int)
    }

    private struct Subscriber {
        var name: String
        var continuation: AsyncStream<Element>.Continuation
        var capacity: Int?
        var dropped = 0
        var lagging = false
    }

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var next = 0
        var finished = false
        /// Drops by subscriber name, kept after it unsubscribes.
        var dropped: [String: Int] = [:]
    }

    /// What is broadcast, for logs: "rows", "readings".
    public let what: String
    private let logger: Logger
    private let state = Mutex(State())

    public init(_ what: String, logger: Logger) {
        self.what = what
        self.logger = logger
    }

    /// A stream of every element published from now on, until ``finish()`` or until the stream is dropped.
    /// - Parameters:
    ///   - name: the consumer, for logs ("storage", "mqtt").
    ///   - buffer: how far it may fall behind.
    public func subscribe(_ name: String, buffer: Buffer) -> AsyncStream<Element> {
        let policy: AsyncStream<Element>.Continuation.BufferingPolicy
        var capacity: Int?
        switch buffer {
        case .lossless: policy = .unbounded
        case .newest(let n): policy = .bufferingNewest(max(1, n)); capacity = max(1, n)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: policy)
        let finished = state.withLock { state -> Bool in
            guard !state.finished else { return true }
            let id = state.next
            state.next += 1
            state.subscribers[id] = Subscriber(name: name, continuation: continuation, capacity: capacity)
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }

    /// Hands `element` to every subscriber's buffer; never waits.
    public func publish(_ element: Element) {
        var events: [(name: String, dropped: Int, caughtUp: Bool)] = []
        state.withLock { state in
            for (id, var subscriber) in state.subscribers {
                let result = subscriber.continuation.yield(element)
                var changed = false
                switch result {
                case .dropped:
                    subscriber.dropped += 1
                    state.dropped[subscriber.name, default: 0] += 1
                    if !subscriber.lagging {
                        subscriber.lagging = true
                        events.append((subscriber.name, subscriber.dropped, false))
                    }
                    changed = true
                case .enqueued(let remaining):
                    // Caught up: only this element is waiting.
                    if subscriber.lagging, let capacity = subscriber.capacity, remaining >= capacity - 1 {
                        subscriber.lagging = false
                        events.append((subscriber.name, subscriber.dropped, true))
                        changed = true
                    }
                case .terminated:
                    break
                @unknown default:
                    break
                }
                if changed { state.subscribers[id] = subscriber }
            }
        }
        for event in events {
            if event.caughtUp {
                logger.notice("consumer caught up", metadata: ["broadcast": "\(what)", "consumer": "\(event.name)",
                                                               "dropped.total": "\(event.dropped)"])
            } else {
                logger.warning("consumer is not keeping up: dropping its oldest unread \(what); sampling and storage go on",
                               metadata: ["broadcast": "\(what)", "consumer": "\(event.name)"])
            }
        }
    }

    /// Ends every stream (after the elements already in its buffer). Later subscribers get a finished stream.
    public func finish() {
        let subscribers = state.withLock { state -> [Subscriber] in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.continuation.finish() }
    }

    /// Elements the consumer named `name` has lost so far (all its subscriptions).
    public func dropped(by name: String) -> Int { state.withLock { $0.dropped[name] ?? 0 } }

    /// The names of the current subscribers.
    public var subscribers: [String] { state.withLock { $0.subscribers.values.map(\.name).sorted() } }
}
