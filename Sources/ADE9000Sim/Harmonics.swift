// SPDX-License-Identifier: Apache-2.0

/// The harmonic content of one phase's voltage and current, on top of the fundamental that `voltage_v`,
/// `current_a` and `angle_deg` describe. Absent: a pure sine, as before harmonics existed.
public struct HarmonicContent: Codable, Sendable, Hashable {
    /// Voltage harmonics (the grid's distortion, e.g. 5th at 3 %); absent: none.
    public var voltage: [Harmonic]?
    /// Current harmonics (what the loads draw, e.g. an LED driver's 3rd at 60 %); absent: none.
    public var current: [Harmonic]?

    public init(voltage: [Harmonic]? = nil, current: [Harmonic]? = nil) {
        self.voltage = voltage; self.current = current
    }

    /// `√(1 + Σ (percent/100)²)`: total RMS over fundamental RMS of the voltage (`current: false`) or current.
    func totalOverFundamental(current: Bool) -> Double {
        let list = (current ? self.current : voltage) ?? []
        return (1 + list.reduce(0) { $0 + ($1.percent / 100) * ($1.percent / 100) }).squareRoot()
    }

    func validate(phase index: Int, frequencyHz: Double, source: String) throws(ScenarioError) {
        for (key, list) in [("voltage", voltage ?? []), ("current", current ?? [])] {
            var orders: Set<Int> = []
            for harmonic in list {
                let at = "\"phases\"[\(index)].harmonics.\(key) order \(harmonic.order)"
                // The DSP samples at 8 kSPS: a component at or above 4 kHz would alias, not add.
                guard harmonic.order >= 2, Double(harmonic.order) * frequencyHz < 4000 else {
                    throw ScenarioError(path: source, detail: "\(at): the order must be 2 or more and below 4 kHz (8 kSPS)",
                                        remedy: "see scenarios/README.md")
                }
                guard harmonic.percent.isFinite, harmonic.percent >= 0, (harmonic.angleDeg ?? 0).isFinite else {
                    throw ScenarioError(path: source, detail: "\(at): percent must be ≥ 0 and angle_deg finite",
                                        remedy: "see scenarios/README.md")
                }
                guard orders.insert(harmonic.order).inserted else {
                    throw ScenarioError(path: source, detail: "\(at) appears twice", remedy: "give each order once")
                }
            }
        }
    }
}

/// One harmonic: its order, its RMS in percent of the fundamental's RMS, and its phase.
public struct Harmonic: Codable, Sendable, Hashable {
    /// 2, 3, 5, …: multiple of the line frequency.
    public var order: Int
    /// RMS of this harmonic in percent of the fundamental's RMS (of the same quantity, same phase).
    public var percent: Double
    /// Degrees of its own period by which it lags a sine starting at the phase voltage's rising zero crossing:
    /// the component is `√2 · Xh · sin(h·ωt − angle)`. A voltage and a current harmonic of the same order at
    /// the same angle carry active power only (`Vh · Ih · cos(angle_I − angle_V)`). Absent: 0.
    public var angleDeg: Double?

    public init(order: Int, percent: Double, angleDeg: Double? = nil) {
        self.order = order; self.percent = percent; self.angleDeg = angleDeg
    }

    enum CodingKeys: String, CodingKey { case order, percent, angleDeg = "angle_deg" }
}
