// SPDX-License-Identifier: Apache-2.0

/// The scenario's disturbances (``ScenarioDisturbance``) in the chip's time: they change the phases sample by sample,
/// and ``ChipState/advance(to:)`` splits its steps at their edges, so the energy, the one-second registers and the
/// half-cycle engine of each step see the state that holds throughout it.
extension ChipState {
    /// The phases acting on sample `n`: the scenario's at this step's moment of the wall clock (its appliances
    /// switch with one-second steps), then the disturbances acting on sample `n`.
    func loads(atSample n: Int64) -> [Scenario.PhaseLoad] {
        let seconds = Double(sample) / Self.dspRate // outside the closure, which would otherwise copy the whole state
        let base = scenario.phases(atWall: wallOffset.map { seconds + $0 })
        guard !disturbances.isEmpty else { return base }
        let effects = disturbanceSpan.flatMap { $0.contains(n) ? $0.effects : nil } ?? disturbances.effects(atSample: n)
        return base.enumerated().map { $1.disturbed(by: effects[$0]) }
    }

    /// The disturbance state from sample n on, up to the next edge; looked up only when n leaves the last one.
    mutating func disturbanceSpan(at n: Int64) -> DisturbanceSpan? {
        guard !disturbances.isEmpty else { return nil }
        if let span = disturbanceSpan, span.contains(n) { return span }
        let span = DisturbanceSpan(from: n - 1, to: disturbances.nextEdge(after: n - 1), effects: disturbances.effects(atSample: n))
        disturbanceSpan = span
        return span
    }

    /// Places the disturbances on the sample axis from the first time step; again whenever the scenario changes
    /// (the same origin, so a new scenario's `start_s` still counts from the simulator's start).
    mutating func scheduleDisturbances() {
        guard let originSample else { return }
        disturbances = DisturbanceSchedule(scenario.disturbances ?? [], frequencyHz: scenario.frequencyHz, origin: originSample)
        disturbanceSpan = nil
    }
}
