// SPDX-License-Identifier: Apache-2.0

/// What the status LED shows. Each state has one repeating ``LEDPattern`` (table in README.md).
///
/// When several apply, show ``mostUrgent(_:)``: faults first, then the start-up phases, then a warning.
public enum StatusLEDState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The firmware is starting: chip probe, database open. Fast blink, 5 Hz.
    case starting
    /// Sampling, but the wall clock is not synchronised yet, so rows are held back. Even blink, 1 Hz.
    case waitingForClockSync = "waiting-for-clock-sync"
    /// Sampling and storing. On, with a 0.1 s wink every 2 s (a frozen firmware would leave it steady).
    case healthy
    /// The metering chip does not answer or failed verification. 2 flashes every 2 s.
    case meterFault = "meter-fault"
    /// The metering chip stopped answering and the firmware cannot reset it (no `chip_reset_pin`): someone
    /// must power-cycle the meter. 4 short flashes every 2 s.
    case chipUnresponsive = "chip-unresponsive"
    /// Rows cannot be written (disk full, read-only, database error). 3 flashes every 2 s.
    case storageFault = "storage-fault"
    /// Sampling is fine but the exporter has a backlog of rows not yet uploaded. 1 flash every 2 s.
    case exporterBacklog = "exporter-backlog"

    /// The blink pattern of this state.
    public var pattern: LEDPattern {
        switch self {
        case .starting: LEDPattern([(true, 100), (false, 100)])
        case .waitingForClockSync: LEDPattern([(true, 500), (false, 500)])
        case .healthy: LEDPattern([(true, 1900), (false, 100)])
        case .meterFault: LEDPattern([(true, 200), (false, 200), (true, 200), (false, 1400)])
        case .chipUnresponsive: LEDPattern([(true, 100), (false, 150), (true, 100), (false, 150), (true, 100), (false, 150),
                                            (true, 100), (false, 1150)])
        case .storageFault: LEDPattern([(true, 200), (false, 200), (true, 200), (false, 200), (true, 200), (false, 1000)])
        case .exporterBacklog: LEDPattern([(true, 200), (false, 1800)])
        }
    }

    /// The order ``mostUrgent(_:)`` uses, most urgent first.
    public static let urgency: [StatusLEDState] = [
        .chipUnresponsive, .meterFault, .storageFault, .starting, .waitingForClockSync, .exporterBacklog, .healthy,
    ]

    /// The state to show when several hold: the first of ``urgency`` among them; ``healthy`` if none.
    public static func mostUrgent(_ states: some Sequence<StatusLEDState>) -> StatusLEDState {
        let present = Set(states)
        return urgency.first(where: present.contains) ?? .healthy
    }

    /// The raw value, e.g. `meter-fault`.
    public var description: String { rawValue }
}

/// A repeating sequence of LED levels, each held for a whole number of milliseconds.
///
/// Pure: ``level(atMilliseconds:)`` says what the LED shows a given time after the pattern started,
/// ``nextChange(afterMilliseconds:)`` when that changes next, so a driver sleeps exactly until then.
public struct LEDPattern: Sendable, Hashable {
    /// One step: a level held for `milliseconds` (> 0).
    public struct Step: Sendable, Hashable {
        /// LED on (line high) or off.
        public var on: Bool
        /// How long, in ms.
        public var milliseconds: Int
    }

    /// The steps, repeated forever.
    public let steps: [Step]
    /// One repetition, in ms.
    public let periodMilliseconds: Int

    /// Creates a pattern from (level, milliseconds) steps.
    /// - Precondition: at least one step, each longer than 0 ms.
    public init(_ steps: [(on: Bool, milliseconds: Int)]) {
        precondition(!steps.isEmpty && steps.allSatisfy { $0.milliseconds > 0 }, "an LED pattern needs steps longer than 0 ms")
        self.steps = steps.map { Step(on: $0.on, milliseconds: $0.milliseconds) }
        periodMilliseconds = steps.reduce(0) { $0 + $1.milliseconds }
    }

    /// One repetition, in seconds.
    public var periodSeconds: Double { Double(periodMilliseconds) / 1000 }

    /// The level `t` ms after the pattern started (negative `t` counts as 0).
    public func level(atMilliseconds t: Int64) -> Bool {
        var phase = Int(max(0, t) % Int64(periodMilliseconds))
        for step in steps {
            if phase < step.milliseconds { return step.on }
            phase -= step.milliseconds
        }
        return steps[steps.count - 1].on
    }

    /// The first time after `t` (ms since the start) at which the level changes; steps with the same
    /// level are merged. A pattern with one level returns `t` + one period.
    public func nextChange(afterMilliseconds t: Int64) -> Int64 {
        let t = max(0, t)
        let current = level(atMilliseconds: t)
        let base = t - t % Int64(periodMilliseconds)
        var edge = base
        // Two periods always hold the next change, if there is one.
        for _ in 0..<2 {
            for step in steps {
                edge += Int64(step.milliseconds)
                if edge > t && level(atMilliseconds: edge) != current { return edge }
            }
        }
        return t + Int64(periodMilliseconds)
    }
}

/// The LED level for `state` at `seconds` after the state began (rounded to the millisecond).
public func ledLevel(_ state: StatusLEDState, at seconds: Double) -> Bool {
    state.pattern.level(atMilliseconds: Int64((seconds * 1000).rounded()))
}

/// The short-press acknowledgement shown over the status: 10 Hz for ``StatusLEDDriver/acknowledgeSeconds``.
public let acknowledgePattern = LEDPattern([(true, 50), (false, 50)])
