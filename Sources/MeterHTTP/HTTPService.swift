// SPDX-License-Identifier: Apache-2.0

import Hummingbird
public import Logging
public import ServiceLifecycle
import MeterConfig

/// The local API, `/metrics` and the dashboard: a Hummingbird server in the app's `ServiceGroup`.
///
/// It only reads (the hub, the store's readers) and switches outputs on request, so it never blocks sampling or
/// storage. When the port cannot be bound (another process holds it) the meter goes on metering: the error is
/// logged once, naming `[HTTP] port`, and binding is retried every ``retrySeconds``. Graceful shutdown stops the
/// listener and lets requests in flight finish.
public struct HTTPService: Service {
    private let api: MeterAPI
    private let logger: Logger
    /// Seconds between attempts to bind a port that was taken.
    public var retrySeconds: Double = 30

    public init(api: MeterAPI, logger: Logger) {
        self.api = api; self.logger = logger
    }

    public func run() async throws {
        let settings = api.settings
        let router = APIRoutes.router(api: api, metrics: MeterMetrics(version: api.version))
        var serverLogger = logger
        // Hummingbird logs every request at debug: at 600x with the dashboard open that drowns the rows' lines.
        serverLogger.logLevel = max(logger.logLevel, .info)
        let address = settings.bind.contains(":") ? "[\(settings.bind)]" : settings.bind
        let url = "http://\(address):\(settings.port)/"
        let logger = logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.bind, port: settings.port), serverName: nil),
            onServerRunning: { _ in
                logger.notice("HTTP API listening", metadata: [
                    "url": "\(url)", "access": "\(settings.isLoopback ? "this machine only" : "the network, with the token")",
                ])
            },
            logger: serverLogger)
        var failures = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await app.run()
                return
            } catch {
                failures += 1
                if failures == 1 {
                    logger.error("HTTP API cannot listen; metering goes on, retrying every \(Int(retrySeconds)) s", metadata: [
                        "url": "\(url)", "error": "\(error)",
                        "fix": "another process holds the port? set [HTTP] port in config.ini to a free one, or [HTTP] enabled = false",
                    ])
                }
            }
            let pause = retrySeconds
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(pause)) }
        }
    }
}

extension HTTPService: CustomStringConvertible {
    /// ServiceLifecycle names services in its log by their description; a struct's default would print every field.
    public var description: String { "MeterHTTP.HTTPService" }
}
