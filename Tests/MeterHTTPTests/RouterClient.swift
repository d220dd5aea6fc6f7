// SPDX-License-Identifier: Apache-2.0
import Forecast
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MeterClock
import MeterConfig
@testable import MeterHTTP
import MeterServices
import MeterStore
import MeterTesting
import NIOEmbedded
import Synchronization
import Testing

/// The API as a client meets it, without a socket: each request goes through the router `HTTPService` serves (the
/// error middleware, the token check, the route) with a real SQLite file behind the hub, on a virtual clock. The
/// context's channel is NIOEmbedded's, as HummingbirdTesting's router framework makes it.
final class RouterClient {
    /// One answer: the status, the headers and the whole body (a streamed one collected).
    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body through Foundation's parser: independent of the encoder under test.
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
        /// The `error` of an error answer.
        var error: String? { (try? json() as? [String: Any])?["error"] as? String }
    }

    let folder = TemporaryFolder()
    let hub: LiveHub
    let clock: VirtualClock
    let store: SQLiteReadingStore
    let responder: RouterResponder<BasicRequestContext>
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// - Parameters:
    ///   - now: the meter clock's wall time, Unix seconds.
    ///   - settings: `[HTTP]` (the token check reads it).
    ///   - features: the features' tables besides `meter_data`.
    init(now: Double, settings: HTTPSettings = HTTPSettings(), features: [StoreSchema] = [PQTables.schema]) throws {
        clock = VirtualClock(wall: now)
        hub = LiveHub(logger: logger)
        store = try SQLiteReadingStore(path: folder.file("meter.db"), logger: logger, features: features)
        hub.store.set(store)
        let api = MeterAPI(hub: hub, clock: clock, settings: settings, version: "0.1.0", databasePath: folder.file("meter.db"),
                           calendar: .utc, forecast: ForecastSettings(enabled: false), exporterEnabled: false, outputs: nil)
        responder = APIRoutes.router(api: api, metrics: MeterMetrics(version: api.version)).buildResponder()
    }

    deinit { store.close() }

    /// Writes in the store as a feature does.
    func write(_ body: (StoreDatabase) throws(StoreError) -> Void) throws {
        try store.write("test") { db throws(StoreError) in try body(db) }
    }

    func get(_ pathAndQuery: String, headers: HTTPFields = [:]) async throws -> Answer {
        let head = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:4000", path: pathAndQuery, headerFields: headers)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: logger))
        let response = try await responder.respond(to: request, context: context)
        let collected = Collected()
        try await response.body.write(CollectingWriter(collected: collected))
        return Answer(status: response.status, headers: response.headers, body: collected.bytes.withLock { $0 })
    }

    private final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    private struct CollectingWriter: ResponseBodyWriter {
        let collected: Collected
        mutating func write(_ buffer: ByteBuffer) async throws { collected.bytes.withLock { $0 += buffer.readableBytesView } }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
