// SPDX-License-Identifier: Apache-2.0

/// Turns raw samples of a bouncing contact into clean level changes.
///
/// A new level is accepted once the raw input has held it for ``interval`` without interruption; any
/// excursion shorter than that (contact bounce, a spike) is ignored. Pure: feed it samples with their
/// times, from polling or from edge events.
public struct Debouncer: Sendable, Hashable {
    /// How long a level must hold to count, in seconds (libgpiod 1.6 has no hardware debounce, platform.md §1.2).
    public let interval: Double
    /// The debounced level.
    public private(set) var level: Bool
    private var candidate: Bool
    private var candidateSince: Double

    /// - Parameters:
    ///   - interval: Seconds a level must hold, e.g. 0.03.
    ///   - initial: The level before the first sample.
    public init(interval: Double, initial: Bool) {
        self.interval = interval; level = initial; candidate = initial; candidateSince = -.infinity
    }

    /// Feeds one raw sample.
    /// - Returns: The new level and the time the raw input first showed it, when the debounced level changes;
    ///   otherwise `nil`.
    public mutating func update(_ raw: Bool, at time: Double) -> (level: Bool, since: Double)? {
        if raw != candidate {
            candidate = raw
            candidateSince = time
        }
        // 1 ns of slack, so 10 ms polling accepts after exactly 30 ms despite binary fractions.
        guard candidate != level, time - candidateSince + 1e-9 >= interval else { return nil }
        level = candidate
        return (level, candidateSince)
    }
}

/// What the reset button reports.
public enum ResetButtonEvent: Sendable, Hashable, CustomStringConvertible {
    /// Pressed and released before ``ResetButton/longPressSeconds``.
    case shortPress(seconds: Double)
    /// Held for ``ResetButton/longPressSeconds``; reported once, while still held.
    case longPress(seconds: Double)

    /// What the firmware does about it (README.md, "Reset button").
    public var action: ResetButtonAction {
        switch self {
        case .shortPress: .showStatus
        case .longPress: .restartService
        }
    }

    /// `short press (0.25 s)`.
    public var description: String {
        switch self {
        case .shortPress(let s): "short press (\(Self.seconds(s)) s)"
        case .longPress(let s): "long press (\(Self.seconds(s)) s)"
        }
    }

    private static func seconds(_ s: Double) -> String {
        let ms = Int((s * 1000).rounded())
        let fraction = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// The firmware's answer to a button event. Neither deletes data.
public enum ResetButtonAction: String, Sendable, Hashable {
    /// Short press: flash the acknowledgement on the LED, then the status pattern, and log one status line.
    case showStatus = "show-status"
    /// Long press: stop gracefully (close the interval, flush storage) and exit with
    /// ``ResetButton/restartExitCode``, so systemd (`Restart=on-failure`) starts the service again.
    case restartService = "restart-service"
}

/// The reset button: pull-up input, active low, debounced, classified into short and long presses.
///
/// Pure: ``sample(level:at:)`` takes the raw line level (1 = released) and its time, and returns the
/// events that sample completes. Call it at least every few milliseconds (``ResetButtonMonitor`` polls
/// every 10 ms); a long press is reported on the first sample after the button has been held 5 s.
public struct ResetButton: Sendable, Hashable {
    /// Holding at least this long is a long press.
    public static let longPressSeconds = 5.0
    /// The default debounce time.
    public static let debounceSeconds = 0.03
    /// The exit status after a long press: EX_TEMPFAIL; non-zero, so systemd's `Restart=on-failure` restarts.
    public static let restartExitCode: Int32 = 75

    private var debouncer: Debouncer
    private let longPress: Double
    private var pressedSince: Double?
    private var longReported = false

    /// - Parameters:
    ///   - debounce: Seconds a level must hold (default 30 ms).
    ///   - longPress: Seconds held for a long press (default 5 s).
    public init(debounce: Double = ResetButton.debounceSeconds, longPress: Double = ResetButton.longPressSeconds) {
        debouncer = Debouncer(interval: debounce, initial: false)
        self.longPress = longPress
    }

    /// The debounced state.
    public var isPressed: Bool { debouncer.level }

    /// Feeds one raw sample of the line.
    /// - Parameters:
    ///   - level: The physical level; low (`false`) means pressed.
    ///   - time: When it was read, in seconds on a monotonic clock.
    /// - Returns: The events this sample completes (at most one).
    public mutating func sample(level: Bool, at time: Double) -> [ResetButtonEvent] {
        var events: [ResetButtonEvent] = []
        if let change = debouncer.update(!level, at: time) {
            if change.level {
                pressedSince = change.since
                longReported = false
            } else if let since = pressedSince {
                if !longReported { events.append(.shortPress(seconds: change.since - since)) }
                pressedSince = nil
            }
        }
        if let since = pressedSince, !longReported, time - since + 1e-9 >= longPress {
            longReported = true
            events.append(.longPress(seconds: time - since))
        }
        return events
    }
}
