// SPDX-License-Identifier: Apache-2.0


/// Local time of a Unix minute: the minute of the day and the weekday, in the installation's time zone.
/// The daily rhythm of a household follows local time, so the profile and the time features use it.
public struct ForecastCalendar: Sendable {
    /// The zone local time is taken in.
    public let zone: ZoneOffsets
    /// The zone's offset when it never changes (UTC, fixed zones): no lookup per minute.
    let fixedOffsetMinutes: Int?

    /// - Parameter zone: the installation's zone (`ZoneOffsets(identifier: "Europe/Zurich")`).
    public init(zone: ZoneOffsets) {
        self.zone = zone
        fixedOffsetMinutes = zone.isFixed ? zone.offsetSeconds(at: 0) / 60 : nil
    }

    /// The zone named `identifier`, UTC when the system does not know it.
    public init(zoneIdentifier identifier: String) {
        self.init(zone: ZoneOffsets(identifier: identifier) ?? .utc)
    }

    /// UTC.
    public static let utc = ForecastCalendar(zone: .utc)

    /// The zone's offset from UTC at `minute`, in minutes.
    public func offsetMinutes(at minute: Int64) -> Int {
        if let fixed = fixedOffsetMinutes { return fixed }
        return zone.offsetSeconds(at: minute * 60) / 60
    }

    /// Local minute of the day, 0 … 1439.
    public func minuteOfDay(_ minute: Int64) -> Int { LocalTime(minute + Int64(offsetMinutes(at: minute))).minuteOfDay }

    /// Local weekday, 0 = Monday … 6 = Sunday.
    public func weekday(_ minute: Int64) -> Int { LocalTime(minute + Int64(offsetMinutes(at: minute))).weekday }
}

/// A local minute split into day, weekday and minute of day.
struct LocalTime {
    let minuteOfDay: Int
    let weekday: Int
    init(_ localMinute: Int64) {
        let day = localMinute >= 0 ? localMinute / 1440 : (localMinute - 1439) / 1440
        minuteOfDay = Int(localMinute - day * 1440)
        let w = Int((day + 3) % 7)  // 1970-01-01 was a Thursday
        weekday = w < 0 ? w + 7 : w
    }
}

/// Offsets looked up once per UTC hour: zones change offset on whole hours, and a backtest asks for a
/// million minutes. Local to one loop, not shared.
struct OffsetCache {
    let calendar: ForecastCalendar
    var hour: Int64 = .min
    var offset = 0
    init(_ calendar: ForecastCalendar) { self.calendar = calendar }
    /// Local minus UTC at `minute`, in minutes.
    mutating func offset(_ minute: Int64) -> Int64 {
        if let fixed = calendar.fixedOffsetMinutes { return Int64(fixed) }
        let h = minute >= 0 ? minute / 60 : (minute - 59) / 60
        if h != hour { hour = h; offset = calendar.offsetMinutes(at: h * 60) }
        return Int64(offset)
    }
    mutating func local(_ minute: Int64) -> LocalTime { LocalTime(minute + offset(minute)) }
}
