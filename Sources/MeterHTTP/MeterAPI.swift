// SPDX-License-Identifier: Apache-2.0

public import Forecast
public import MeterClock
public import MeterConfig
public import MeterServices

/// What the API reads: the live hub (latest reading, health, counters, the open store) and a few facts of the
/// configuration. Built by `MeterApp`; nothing here touches the bus, and the store is read only through its readers.
public struct MeterAPI: Sendable {
    /// An output the API may switch: `a` or `b`.
    public enum Output: String, Sendable, CaseIterable { case a, b }

    /// The board's outputs; nil without GPIO.
    public struct Outputs: Sendable {
        /// Sets an output and stores the state (as `clemap-edge output`); throws with a sentence when it cannot.
        public var set: @Sendable (Output, Bool) throws -> Void
        /// The output's state; nil when it is not fitted or cannot be read.
        public var state: @Sendable (Output) -> Bool?
        /// True when `output_pin_setup` fits it.
        public var fitted: @Sendable (Output) -> Bool
        public init(set: @escaping @Sendable (Output, Bool) throws -> Void, state: @escaping @Sendable (Output) -> Bool?,
                    fitted: @escaping @Sendable (Output) -> Bool) {
            self.set = set; self.state = state; self.fitted = fitted
        }
    }

    public var hub: LiveHub
    public var clock: any MeterClock
    public var settings: HTTPSettings
    public var version: String
    public var databasePath: String
    /// Local midnight for "energy today".
    public var calendar: ForecastCalendar
    public var forecast: ForecastSettings
    public var exporterEnabled: Bool
    public var outputs: Outputs?

    public init(hub: LiveHub, clock: any MeterClock, settings: HTTPSettings, version: String, databasePath: String,
                calendar: ForecastCalendar, forecast: ForecastSettings, exporterEnabled: Bool, outputs: Outputs?) {
        self.hub = hub; self.clock = clock; self.settings = settings; self.version = version; self.databasePath = databasePath
        self.calendar = calendar; self.forecast = forecast; self.exporterEnabled = exporterEnabled; self.outputs = outputs
    }

    /// Now on the meter's clock (simulated time under `--simulate`), Unix seconds.
    var now: Int64 { Int64(clock.wall().rounded(.down)) }

    /// Seconds since the service started, on the monotonic clock.
    var uptime: Double { max(0, clock.monotonic() - hub.startedMonotonic) }

    /// The start of the local day holding `time` (the config's timezone), Unix seconds.
    func localMidnight(_ time: Int64) -> Int64 {
        let minute = time / 60
        let offset = Int64(calendar.offsetMinutes(at: minute)) * 60
        let localMidnight = (time + offset) / 86_400 * 86_400
        // The offset at midnight itself, which differs on the day a daylight-saving change happens.
        return localMidnight - Int64(calendar.offsetMinutes(at: (localMidnight - offset) / 60)) * 60
    }
}
