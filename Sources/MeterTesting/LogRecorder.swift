// SPDX-License-Identifier: Apache-2.0

public import Logging
import Synchronization

/// Keeps every log line (message and metadata) for tests to look at.
public final class LogRecorder: Sendable {
    public init() {}
    private let lines = Mutex<[(level: Logger.Level, text: String)]>([])

    public var logger: Logger {
        Logger(label: "store-test") { _ in Handler(recorder: self) }
    }

    /// The messages (with their metadata, `key=value`) logged at `level`.
    public func entries(_ level: Logger.Level) -> [String] { lines.withLock { $0.filter { $0.level == level }.map(\.text) } }

    public struct Handler: LogHandler {
        let recorder: LogRecorder
        public var metadata: Logger.Metadata = [:]
        public var logLevel: Logger.Level = .trace
        public var metadataProvider: Logger.MetadataProvider?

        public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        public func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let text = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            recorder.lines.withLock { $0.append((event.level, text)) }
        }
    }
}
