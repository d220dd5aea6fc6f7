// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An appliance that switches on and off, adding its current to one phase: a fridge cycling, a kettle in
/// the morning, an oven at dinner, a PV inverter at noon. Lets a scenario look like a home.
public struct ScenarioLoad: Codable, Sendable, Hashable {
    /// What it is, for the reader of the file.
    public var name: String?
    /// 1, 2 or 3 (L1–L3).
    public var phase: Int
    /// Active power while on, W; negative feeds the grid (a PV inverter).
    public var powerW: Double
    /// Angle by which its current lags the voltage, degrees (a motor: 30–40).
    public var angleDeg: Double?
    /// Daily windows while it is on, local time `"HH:MM"`, e.g. `[["07:00", "07:04"]]`.
    public var daily: [[String]]?
    /// Cycling: on for `onS` seconds out of every `periodS` (a fridge), starting `offsetS` into the day.
    public var periodS: Double?
    public var onS: Double?
    public var offsetS: Double?

    enum CodingKeys: String, CodingKey {
        case name, phase, powerW = "power_w", angleDeg = "angle_deg", daily, periodS = "period_s", onS = "on_s", offsetS = "offset_s"
    }

    public init(name: String? = nil, phase: Int, powerW: Double, angleDeg: Double? = nil, daily: [[String]]? = nil,
                periodS: Double? = nil, onS: Double? = nil, offsetS: Double? = nil) {
        self.name = name; self.phase = phase; self.powerW = powerW; self.angleDeg = angleDeg; self.daily = daily
        self.periodS = periodS; self.onS = onS; self.offsetS = offsetS
    }

    /// Whether it runs at `secondOfDay` (0 ..< 86400, local).
    func isOn(secondOfDay: Double) -> Bool {
        if let period = periodS, let on = onS, period > 0 {
            let phaseInCycle = (secondOfDay - (offsetS ?? 0)).truncatingRemainder(dividingBy: period)
            return (phaseInCycle < 0 ? phaseInCycle + period : phaseInCycle) < on
        }
        guard let daily else { return true }
        return daily.contains { window in
            guard window.count == 2, let from = Self.seconds(window[0]), let to = Self.seconds(window[1]) else { return false }
            return from <= to ? (secondOfDay >= from && secondOfDay < to) : (secondOfDay >= from || secondOfDay < to)
        }
    }

    static func seconds(_ clock: String) -> Double? {
        let parts = clock.split(separator: ":")
        guard parts.count == 2, let h = Double(parts[0]), let m = Double(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else { return nil }
        return h * 3600 + m * 60
    }

    func validate(index: Int, source: String) throws(ScenarioError) {
        func fail(_ detail: String) -> ScenarioError { ScenarioError(path: source, detail: "\"loads\"[\(index)]: \(detail)", remedy: "see scenarios/README.md") }
        guard (1...3).contains(phase) else { throw fail("phase is \(phase), needs 1, 2 or 3") }
        guard powerW.isFinite else { throw fail("power_w must be a number") }
        if let angleDeg, !(angleDeg > -90 && angleDeg < 90) { throw fail("angle_deg is \(angleDeg), needs −90 < angle < 90 (use a negative power_w for export)") }
        for window in daily ?? [] where window.count != 2 || window.contains(where: { Self.seconds($0) == nil }) {
            throw fail("daily window \(window) is not [\"HH:MM\", \"HH:MM\"]")
        }
        if (periodS == nil) != (onS == nil) { throw fail("period_s and on_s go together") }
    }
}

extension Scenario {
    /// The phases at a moment: the base `phases` plus every load that is on, summed as phasors
    /// (currents add as vectors, so a motor and a heater give the right total current and angle).
    func phases(atWall wall: Double?) -> [PhaseLoad] {
        guard let loads, !loads.isEmpty, let wall else { return phases }
        let local = wall + (timezoneOffsetH ?? 0) * 3600
        var secondOfDay = local.truncatingRemainder(dividingBy: 86_400)
        if secondOfDay < 0 { secondOfDay += 86_400 }
        return phases.enumerated().map { index, base in
            // Current phasor relative to the voltage: magnitude I, angle −θ (lagging).
            var re = base.currentA * cos(-base.angleDeg * .pi / 180)
            var im = base.currentA * sin(-base.angleDeg * .pi / 180)
            for load in loads where load.phase == index + 1 && load.isOn(secondOfDay: secondOfDay) && base.voltageV > 0 {
                let angle = load.angleDeg ?? 0
                let amps = abs(load.powerW) / (base.voltageV * cos(angle * .pi / 180))
                let theta = (load.powerW < 0 ? 180 + angle : angle) * .pi / 180
                re += amps * cos(-theta)
                im += amps * sin(-theta)
            }
            var phase = base
            phase.currentA = (re * re + im * im).squareRoot()
            phase.angleDeg = phase.currentA > 0 ? -atan2(im, re) * 180 / .pi : 0
            return phase
        }
    }
}
