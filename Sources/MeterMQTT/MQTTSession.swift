// SPDX-License-Identifier: Apache-2.0
import Logging
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The broker connection, on a thread of its own: connects, reconnects for ever with backoff, publishes the minutes
/// from the database through ``MinuteOutbox``, the energy totals, the discovery configs and the outputs, and takes
/// commands. Nothing here runs on the sampler's or the storage's tasks; the live state and the power-quality events
/// are handed in by ``publishState(_:)`` and ``publishEvent(_:)`` from any thread (libmosquitto queues them and wakes
/// the loop).
///
/// **Why our own loop and not `mosquitto_loop_start`.** libmosquitto's own thread (`mosquitto_loop_forever`) gives
/// up for good on what it calls fatal errors, among them a host name that does not resolve (`MOSQ_ERR_EAI`: the
/// network is not up yet at boot), a TLS error and a refused login: the "MQTT never reconnects" bug of many meters
/// (SmartPi#127). Here every failure, whatever it is, is followed by another attempt after a backoff: 1 s doubling
/// to 60 s (±20 % jitter, so a fleet does not come back in step after a broker restart), 60 s at once after a
/// refusal. Real time, also under `--sim-speed`. A failure is logged once when the connection is lost (or the first
/// attempt fails) and once when it is back, not at every attempt.
final class MQTTSession: Sendable {
    struct Configuration: Sendable {
        var settings: MQTTSettings
        var discovery: HomeAssistantDiscovery
        var outputs: MQTTOutputs?
        /// MQTT keep-alive, seconds: a broker that vanished without closing the connection is noticed after 1.5×.
        var keepalive = 30
        /// A connection that has no CONNACK after this many seconds is dropped and tried again.
        var connackTimeout = 10.0
        var backoff: Backoff = {
            var backoff = Backoff()
            backoff.base = 1; backoff.maximum = 60; backoff.permanent = 60
            return backoff
        }()
        /// Minutes in flight (sent, not acknowledged) at most.
        var window = 32
        /// Minutes in flight this long (seconds, connected all along) are sent again from the cursor.
        var resendAfter = 60.0
        /// The cursor is written at most this often (seconds).
        var cursorEvery = 1.0
        /// Outputs switched elsewhere (HTTP API, `clemap-edge output`) are noticed within this many seconds.
        var outputPollEvery = 5.0
        /// A connection that held this long (seconds) resets the backoff.
        var stableAfter = 30.0
        /// Power-quality events queued at most while not connected (libmosquitto holds them in memory until the next
        /// CONNACK); past that they are dropped here, and stay in `pq_event`.
        var eventBacklog = 1000
    }

    /// Messages handed to libmosquitto, by kind (for the stop's log line and the benchmark).
    final class Counters: Sendable {
        let state = Atomic<Int>(0), minutes = Atomic<Int>(0), events = Atomic<Int>(0), other = Atomic<Int>(0), connections = Atomic<Int>(0)
        var total: Int {
            state.load(ordering: .relaxed) + minutes.load(ordering: .relaxed) + events.load(ordering: .relaxed) + other.load(ordering: .relaxed)
        }
    }

    private struct Shared {
        /// The newest row broadcast, and when (monotonic seconds) it was.
        var newestRow: Int64?
        var newestRowAt = 0.0
        /// A stop was asked for: deliver the minutes through `drainThrough` until `deadline`, then go offline.
        var stop: (drainThrough: Int64?, deadline: Double)?
        var stopped = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Events handed to libmosquitto since the connection was last up, and whether the drop past
        /// ``Configuration/eventBacklog`` was logged.
        var eventsWhileDown = 0
        var eventDropLogged = false
    }

    let configuration: Configuration
    let topics: MQTTTopics
    let hub: LiveHub
    let logger: Logger
    let counters = Counters()
    private let shared = Mutex(Shared())
    /// The client while the thread runs, for publishes from other threads; nil before and after.
    private let client = Mutex<MosquittoClient?>(nil)
    /// CONNACK accepted and the connection not lost since.
    private let connected = Atomic<Bool>(false)

    init(configuration: Configuration, hub: LiveHub, logger: Logger) {
        self.configuration = configuration; topics = MQTTTopics(settings: configuration.settings); self.hub = hub; self.logger = logger
    }

    /// Starts the connection's thread.
    func start() {
        let started = DetachedThread.start(name: "mqtt") { [self] in
            SessionLoop(session: self).run()
            let waiters = shared.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.stopped = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        if !started {
            logger.error("MQTT: no thread could be started for the broker connection; metering goes on without MQTT")
            shared.withLock { $0.stopped = true }
        }
    }

    /// True while connected to the broker (CONNACK accepted).
    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// Publishes the live state (QoS 0, not retained). Dropped while not connected: the live state is not queued.
    func publishState(_ payload: [UInt8]) {
        guard connected.load(ordering: .relaxed) else { return }
        client.withLock { client in
            guard let client else { return }
            if (try? client.publish(topic: topics.state, payload: payload, qos: 0, retain: false)) != nil {
                counters.state.add(1, ordering: .relaxed)
            }
        }
    }

    /// Publishes a power-quality event (QoS 1, not retained). While not connected libmosquitto queues it and sends it
    /// after the next CONNACK, up to ``Configuration/eventBacklog`` events; the rest are dropped (logged once an outage:
    /// `pq_event` and `GET /api/v1/pq/events` have them all).
    func publishEvent(_ payload: [UInt8]) {
        let up = connected.load(ordering: .relaxed)
        let (queue, logDrop) = shared.withLock { state -> (Bool, Bool) in
            guard !up else { return (true, false) }
            guard state.eventsWhileDown < configuration.eventBacklog else {
                defer { state.eventDropLogged = true }
                return (false, !state.eventDropLogged)
            }
            state.eventsWhileDown += 1
            return (true, false)
        }
        if logDrop {
            logger.warning("MQTT: \(configuration.eventBacklog) power-quality events wait for the broker; later ones are not published (they are in pq_event, GET /api/v1/pq/events)")
        }
        guard queue else { return }
        client.withLock { client in
            guard let client else { return }
            do {
                try client.publish(topic: topics.pqEvent, payload: payload, qos: 1, retain: false)
                counters.events.add(1, ordering: .relaxed)
            } catch {
                logger.debug("MQTT publish failed", metadata: ["topic": "\(topics.pqEvent)", "error": "\(error)"])
            }
        }
    }

    /// A final row was broadcast: it is published once the storage has committed it.
    func rowBroadcast(_ time: Int64) {
        let now = Monotonic.now()
        shared.withLock { $0.newestRow = max($0.newestRow ?? time, time); $0.newestRowAt = now }
    }

    /// Asks the thread to deliver the minutes through `drainThrough` (at most `timeout` seconds), publish `offline`,
    /// disconnect and end; returns when it did, or after `timeout` + 2 s (a thread stuck in a TCP connect is left
    /// behind: the process is stopping).
    func stop(drainThrough: Int64?, timeout: Double) async {
        let deadline = Monotonic.now() + timeout
        let done = shared.withLock { state -> Bool in
            state.stop = (drainThrough, deadline)
            return state.stopped
        }
        if done { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = shared.withLock { state -> Bool in
                if state.stopped { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume(); return }
            // The watchdog: resumes the waiter if the thread has not ended in time.
            DetachedThread.start(name: "mqtt-stop") { [self] in
                while Monotonic.now() < deadline + 2 {
                    if shared.withLock({ $0.stopped }) { return }
                    Monotonic.sleep(0.05)
                }
                let waiters = shared.withLock { state -> [CheckedContinuation<Void, Never>] in
                    defer { state.waiters = [] }
                    return state.waiters
                }
                if !waiters.isEmpty { logger.warning("MQTT: the connection's thread did not stop in time; left behind") }
                for waiter in waiters { waiter.resume() }
            }
        }
    }

    // MARK: - For the loop

    fileprivate var stopRequest: (drainThrough: Int64?, deadline: Double)? { shared.withLock { $0.stop } }
    fileprivate var newestRow: (time: Int64?, at: Double) { shared.withLock { ($0.newestRow, $0.newestRowAt) } }
    fileprivate func setClient(_ value: MosquittoClient?) { client.withLock { $0 = value } }
    fileprivate func setConnected(_ value: Bool) {
        connected.store(value, ordering: .relaxed)
        if value { shared.withLock { $0.eventsWhileDown = 0; $0.eventDropLogged = false } }
    }
}

/// The connection's state machine, owned by its thread.
private final class SessionLoop {
    let session: MQTTSession
    let configuration: MQTTSession.Configuration
    let settings: MQTTSettings
    let topics: MQTTTopics
    let logger: Logger
    var client: MosquittoClient?

    var socketOpen = false
    var active = false
    var connackDeadline = 0.0
    var activeSince = 0.0
    var everActive = false
    var failures = 0
    var nextAttempt = 0.0
    var outageSince: Double?
    var reportedReason: String?
    var refusal: String?

    var outbox: MinuteOutbox
    var cursorPersisted: Int64?
    var lastPersist = -Double.infinity
    var catchingUp = true
    var lastQuery = -Double.infinity
    var newestStored: Int64?
    var energyDue = true
    var outputsPublished: [MQTTOutputs.Output: Bool] = [:]
    var lastOutputPoll = -Double.infinity
    var storeProblem: String?
    var lastCommandWarning = -Double.infinity
    var offlineMid: Int32?
    var offlineAcked = false

    init(session: MQTTSession) {
        self.session = session; configuration = session.configuration; settings = configuration.settings
        topics = session.topics; logger = session.logger
        outbox = MinuteOutbox(window: configuration.window)
    }

    var broker: String { "\(settings.tls ? "mqtts" : "mqtt")://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(settings.port)" }

    func run() {
        guard let client = makeClient() else {
            // The handle itself could not be made (out of memory, a client id libmosquitto refuses): nothing to retry.
            while session.stopRequest == nil { Monotonic.sleep(0.1) }
            return
        }
        self.client = client
        session.setClient(client)
        while true {
            let now = Monotonic.now()
            if let stop = session.stopRequest {
                if !active || now >= stop.deadline || drained(through: stop.drainThrough) { break }
            }
            loadCursor()
            if !socketOpen {
                if now >= nextAttempt { connect(client) }
                if !socketOpen { Monotonic.sleep(min(0.05, max(0.001, nextAttempt - Monotonic.now()))); continue }
            }
            var loopError: MosquittoError?
            do { try client.loop(timeoutMilliseconds: 50) } catch { loopError = error }
            handle(client.drainEvents(), client)
            if let loopError {
                failed(refusal ?? loopError.description, refused: refusal != nil || loopError.isRefusal, tls: loopError.isTLS)
                continue
            }
            if !active, Monotonic.now() > connackDeadline {
                client.disconnect()
                failed("no CONNACK from the broker within \(Int(configuration.connackTimeout)) s", refused: false)
                continue
            }
            if active { work(client) }
        }
        shutdown(client)
    }

    func makeClient() -> MosquittoClient? {
        do {
            let client = try MosquittoClient(clientID: settings.clientID)
            try client.setWill(topic: topics.status, payload: MQTTPayloads.offline, qos: 1, retain: true)
            if let username = settings.username { try client.setCredentials(username: username, password: settings.password) }
            if settings.tls { try client.setTLS(caFile: settings.caFile, caPath: settings.caFile == nil ? "/etc/ssl/certs" : nil) }
            return client
        } catch {
            let fix = error.call.hasPrefix("dl") ? "install libmosquitto: apt-get install libmosquitto1"
                : "check [MQTT] client_id, username, tls and ca_file in config.ini"
            logger.error("MQTT client cannot be set up; metering goes on without MQTT", metadata: ["error": "\(error)", "fix": "\(fix)"])
            return nil
        }
    }

    // MARK: - Connecting

    func connect(_ client: MosquittoClient) {
        refusal = nil
        do {
            try client.connect(host: settings.host, port: settings.port, keepalive: configuration.keepalive)
            socketOpen = true
            connackDeadline = Monotonic.now() + configuration.connackTimeout
        } catch {
            failed(error.description, refused: error.isRefusal, tls: error.isTLS)
        }
    }

    /// A connection attempt failed or the connection was lost: the next attempt after the backoff.
    func failed(_ reason: String, refused: Bool, tls: Bool = false) {
        // The same failure reported by another call (a TLS handshake ends in connect or in the loop) is the same news.
        let key = reason.split(separator: ": ", maxSplits: 1).last.map(String.init) ?? reason
        let wasActive = active
        active = false; socketOpen = false
        session.setConnected(false)
        failures += 1
        let delay = configuration.backoff.delay(failures: failures, permanent: refused, unit: Double.random(in: 0..<1))
        nextAttempt = Monotonic.now() + delay
        var metadata: Logger.Metadata = ["broker": "\(broker)", "reason": "\(reason)"]
        if wasActive {
            let held = Monotonic.now() - activeSince
            metadata["connected.seconds"] = "\(Int(held.rounded()))"
            if held < 5 { metadata["hint"] = "dropped right after connecting: another client with client id \(settings.clientID)? the broker's ACL?" }
            outageSince = Monotonic.now()
            reportedReason = key
            logger.warning("MQTT connection lost; reconnecting by itself (every 1 s doubling to 60 s); the live state is dropped meanwhile, minutes wait in the database", metadata: metadata)
        } else if reportedReason != key, outageSince == nil || refused {
            // Before the first connection, each new reason is news; during an outage only a refusal is (credentials,
            // authorisation: something to fix), not the broker's "connection refused" while it restarts.
            reportedReason = key
            metadata["fix"] = "\(fix(for: reason))"
            logger.warning(refused ? "MQTT broker refuses the connection; trying again every minute, metering goes on"
                : tls ? "MQTT: the TLS connection to the broker failed; retrying by itself, metering goes on"
                : everActive ? "MQTT still not connected; retrying by itself"
                : "MQTT broker not reachable; retrying by itself (every 1 s doubling to 60 s), metering goes on", metadata: metadata)
        } else {
            logger.debug("MQTT connection attempt failed", metadata: ["reason": "\(reason)", "retry.seconds": "\(Int(delay.rounded()))"])
        }
    }

    func fix(for reason: String) -> String {
        if reason.contains("identifier rejected") { return "the broker refuses [MQTT] client_id: set another (unique on the broker)" }
        if reason.contains("username") || reason.contains("not authorised") || reason.contains("authoris") {
            return "check [MQTT] username and password, and the broker's ACL for \(topics.base)/# and \(topics.discoveryPrefix)/#"
        }
        if settings.tls, reason.lowercased().contains("tls") || reason.lowercased().contains("ssl") || reason.contains("certificate") {
            return "the broker's certificate must be signed by [MQTT] ca_file (or a system CA) and name [MQTT] host; check port (8883 for TLS)"
        }
        return "is the broker running and reachable at [MQTT] host and port? (the systemd unit allows loopback only: see systemd/network.conf)"
    }

    func handle(_ events: [MosquittoEvent], _ client: MosquittoClient) {
        for event in events {
            switch event {
            case .connected(code: 0):
                becameActive(client)
            case .connected(let code):
                refusal = "the broker refused the connection: \(client.refusal(code))"
            case .disconnected:
                session.setConnected(false)
            case .published(let mid):
                outbox.acknowledged(mid: mid)
                if mid == offlineMid { offlineAcked = true }
            case .message(let topic, let payload):
                message(topic: topic, payload: payload, client)
            }
        }
    }

    func becameActive(_ client: MosquittoClient) {
        active = true; activeSince = Monotonic.now()
        session.setConnected(true)
        session.counters.connections.add(1, ordering: .relaxed)
        if let since = outageSince {
            logger.notice("MQTT connection back; delivering the minutes stored meanwhile", metadata: [
                "broker": "\(broker)", "outage.seconds": "\(Int((Monotonic.now() - since).rounded()))",
                "minutes.acked_through": "\(outbox.ackedThrough.map(String.init) ?? "-")",
            ])
        } else if reportedReason != nil {
            logger.notice("MQTT connected after failed attempts", metadata: ["broker": "\(broker)", "client.id": "\(settings.clientID)"])
        } else {
            logger.notice("MQTT connected", metadata: ["broker": "\(broker)", "client.id": "\(settings.clientID)", "topics": "\(topics.base)/…",
                                                      "libmosquitto": "\(client.libraryVersion)"])
        }
        outageSince = nil; reportedReason = nil; everActive = true
        publish(client, topics.status, MQTTPayloads.online, qos: 1, retain: true)
        do {
            if settings.commands { try client.subscribe(topics.outputSetPattern, qos: 1) }
            if settings.discovery { try client.subscribe(topics.homeAssistantStatus, qos: 1) }
        } catch {
            logger.warning("MQTT: cannot subscribe; commands and Home Assistant restarts are not followed until the next connection", metadata: ["error": "\(error)"])
        }
        publishDiscovery(client)
        outputsPublished = [:]
        publishOutputs(client)
        energyDue = true
        catchingUp = true
    }

    // MARK: - Work while connected

    func work(_ client: MosquittoClient) {
        // The backoff starts again from 1 s only after a connection that held: one the broker drops at once (another
        // client with the same client id, an ACL that closes it) is retried ever more slowly, not every second.
        if failures > 0, Monotonic.now() - activeSince >= configuration.stableAfter { failures = 0 }
        publishMinutes(client)
        if energyDue { publishEnergy(client) }
        persistCursor(force: false)
        if Monotonic.now() - lastOutputPoll >= configuration.outputPollEvery { publishOutputs(client) }
        if let handed = outbox.oldestHandedAt, Monotonic.now() - max(handed, activeSince) > configuration.resendAfter {
            logger.warning("MQTT: minutes sent \(Int(configuration.resendAfter)) s ago were never acknowledged; sending them again", metadata: [
                "minutes.acked_through": "\(outbox.ackedThrough.map(String.init) ?? "-")",
            ])
            outbox.rewind()
            catchingUp = true
        }
    }

    @discardableResult
    func publish(_ client: MosquittoClient, _ topic: String, _ payload: [UInt8], qos: Int32, retain: Bool) -> Int32? {
        do {
            let mid = try client.publish(topic: topic, payload: payload, qos: qos, retain: retain)
            session.counters.other.add(1, ordering: .relaxed)
            return mid
        } catch {
            logger.debug("MQTT publish failed", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return nil
        }
    }

    /// The durable cursor, as soon as the storage has the database open (also while the broker is away, so that a
    /// first start during an outage does not skip the rows stored meanwhile).
    func loadCursor() {
        guard !outbox.started, let store = session.hub.store.current else { return }
        do {
            let (saved, newest) = try store.read("cannot read the MQTT cursor") { db throws(StoreError) in
                (try MQTTTables.cursor(in: db), try MQTTTables.newest(in: db))
            }
            if let saved {
                outbox.start(cursor: saved)
                cursorPersisted = saved
                logger.debug("MQTT: minutes are published from the cursor", metadata: ["minutes.acked_through": "\(saved)"])
            } else {
                // Written at once, also for an empty database: a `kill -9` before the first acknowledgement must not
                // make the next start take the rows of this one for history.
                outbox.start(cursor: newest ?? 0)
                if newest != nil {
                    logger.info("MQTT starts here: minutes stored from now on are published; older ones stay in the database (GET /api/v1/minutes)")
                }
                persistCursor(force: true)
            }
        } catch {
            storeTrouble("\(error)")
        }
    }

    func publishMinutes(_ client: MosquittoClient) {
        guard outbox.freeSlots > 0, let after = outbox.sentThrough, let store = session.hub.store.current else { return }
        let now = Monotonic.now()
        let announced = session.newestRow
        let waiting = announced.time.map { $0 > after } == true && now - announced.at < 30
        guard catchingUp || (waiting && now - lastQuery >= 0.02) || now - lastQuery >= 5 else { return }
        lastQuery = now
        let limit = outbox.freeSlots
        do {
            let times = try store.read("cannot read the minutes to publish") { db throws(StoreError) in
                try MQTTTables.times(after: after, limit: limit, in: db)
            }
            if let first = times.first, let last = times.last {
                for row in try store.rows(from: first, to: last + 1) {
                    let mid = try client.publish(topic: topics.minute, payload: try MQTTPayloads.minute(row), qos: 1, retain: false)
                    outbox.handed(time: row.time, mid: mid, at: now)
                    session.counters.minutes.add(1, ordering: .relaxed)
                }
            }
            catchingUp = times.count == limit
            if !catchingUp, let sent = outbox.sentThrough, newestStored.map({ sent > $0 }) ?? true {
                newestStored = sent
                energyDue = true
            }
            storeProblem = nil
        } catch let error as MosquittoError {
            logger.debug("MQTT: a minute could not be handed over; tried again", metadata: ["error": "\(error)"])
        } catch {
            storeTrouble("\(error)")
        }
    }

    func publishEnergy(_ client: MosquittoClient) {
        guard let store = session.hub.store.current else { return }
        do {
            let totals = try store.totals()
            if publish(client, topics.energy, try MQTTPayloads.energy(totals, time: newestStored), qos: 1, retain: true) != nil {
                energyDue = false
            }
        } catch {
            storeTrouble("\(error)")
        }
    }

    func persistCursor(force: Bool) {
        guard let acked = outbox.ackedThrough, acked != cursorPersisted, force || Monotonic.now() - lastPersist >= configuration.cursorEvery,
              let store = session.hub.store.current else { return }
        lastPersist = Monotonic.now()
        do {
            try store.write("cannot store the MQTT cursor") { db throws(StoreError) in try MQTTTables.setCursor(acked, in: db) }
            cursorPersisted = acked
        } catch {
            storeTrouble("\(error)")
        }
    }

    func storeTrouble(_ error: String) {
        guard storeProblem == nil else { return }
        storeProblem = error
        logger.warning("MQTT: the database cannot be read or written now; minutes are published once it can", metadata: ["error": "\(error)"])
    }

    func publishDiscovery(_ client: MosquittoClient) {
        do {
            for message in try configuration.discovery.messages() {
                publish(client, message.topic, message.payload, qos: 1, retain: true)
            }
        } catch {
            logger.error("MQTT: the discovery configs could not be encoded", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes each fitted output's state when it changed (or was never published on this connection).
    func publishOutputs(_ client: MosquittoClient) {
        lastOutputPoll = Monotonic.now()
        guard let outputs = configuration.outputs else { return }
        for output in outputs.fitted {
            guard let on = outputs.state(output), outputsPublished[output] != on else { continue }
            if publish(client, topics.outputState(output), MQTTPayloads.output(on), qos: 1, retain: true) != nil {
                outputsPublished[output] = on
            }
        }
    }

    func message(topic: String, payload: [UInt8], _ client: MosquittoClient) {
        if topic == topics.homeAssistantStatus {
            // Home Assistant (re)started: it has lost what it was not sent retained; send the configs again.
            if String(decoding: payload, as: UTF8.self) == "online" {
                publishDiscovery(client)
                outputsPublished = [:]
                publishOutputs(client)
                energyDue = true
            }
            return
        }
        guard settings.commands, let output = topics.output(commandTopic: topic) else { return }
        guard let outputs = configuration.outputs, outputs.fitted.contains(output) else {
            warnCommand("MQTT command for output \(output.rawValue) ignored: "
                        + (configuration.outputs == nil ? "the service runs without GPIO" : "it is not fitted ([GPIO_SERVICE] output_pin_setup)"))
            return
        }
        guard let on = MQTTPayloads.command(payload) else {
            let shown = String(String(decoding: payload.prefix(40), as: UTF8.self).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
            warnCommand("MQTT command on \(topic) ignored: '\(shown)' is not ON or OFF")
            outputsPublished[output] = nil
            publishOutputs(client)
            return
        }
        do {
            try outputs.set(output, on)
            logger.notice("output \(output.rawValue) switched \(on ? "on" : "off") over MQTT")
        } catch {
            logger.error("output \(output.rawValue) could not be switched over MQTT", metadata: ["error": "\(error)"])
        }
        outputsPublished[output] = nil
        publishOutputs(client)
    }

    /// A bad command is logged at most once a minute: a broker full of retained junk must not flood the journal.
    func warnCommand(_ text: String) {
        let now = Monotonic.now()
        guard now - lastCommandWarning >= 60 else { return }
        lastCommandWarning = now
        logger.warning("\(text)")
    }

    // MARK: - Stopping

    func drained(through time: Int64?) -> Bool {
        guard let time else { return true }
        return (outbox.ackedThrough ?? .min) >= time
    }

    func shutdown(_ client: MosquittoClient) {
        persistCursor(force: true)
        if active {
            offlineMid = publish(client, topics.status, MQTTPayloads.offline, qos: 1, retain: true)
            let deadline = Monotonic.now() + 1.5
            while offlineMid != nil, !offlineAcked, Monotonic.now() < deadline {
                do { try client.loop(timeoutMilliseconds: 50) } catch { break }
                handle(client.drainEvents(), client)
            }
            persistCursor(force: true)
            client.disconnect()
            for _ in 0..<4 { do { try client.loop(timeoutMilliseconds: 20) } catch { break } }
        }
        session.setConnected(false)
        session.setClient(nil)
        self.client = nil
        logger.info("MQTT stopped", metadata: [
            "messages.state": "\(session.counters.state.load(ordering: .relaxed))",
            "messages.minutes": "\(session.counters.minutes.load(ordering: .relaxed))",
            "messages.events": "\(session.counters.events.load(ordering: .relaxed))",
            "messages.other": "\(session.counters.other.load(ordering: .relaxed))",
            "connections": "\(session.counters.connections.load(ordering: .relaxed))",
            "minutes.acked_through": "\(outbox.ackedThrough.map(String.init) ?? "-")",
        ])
    }
}
