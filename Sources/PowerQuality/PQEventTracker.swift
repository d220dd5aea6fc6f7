// SPDX-License-Identifier: Apache-2.0

/// What one reading says about power quality: its time, the RMS voltages, the frequency, and whether the voltage
/// sequence is L1 → L3 → L2 (nil when the angles were not read).
public struct PQObservation: Sendable, Hashable {
    public var timeMs: Int64
    public var voltage: [Double]
    public var frequency: Double
    public var sequenceSwapped: Bool?

    public init(timeMs: Int64, voltage: [Double], frequency: Double, sequenceSwapped: Bool?) {
        precondition(voltage.count == 3, "three phases")
        self.timeMs = timeMs; self.voltage = voltage; self.frequency = frequency; self.sequenceSwapped = sequenceSwapped
    }

    /// From the voltage angles of L2 and L3 behind L1 (degrees): L1-L2-L3 is 120/240, swapped 240/120. Nil unless
    /// one of the two clearly holds (a lost phase has no meaningful angle).
    public static func swapped(l2Angle: Double, l3Angle: Double) -> Bool? {
        func near(_ angle: Double, _ target: Double) -> Bool { abs(angle - target) <= 60 }
        if near(l2Angle, 120) && near(l3Angle, 240) { return false }
        if near(l2Angle, 240) && near(l3Angle, 120) { return true }
        return nil
    }
}

/// Turns readings into events of the kinds a reading shows: a phase below the interruption threshold, the frequency
/// outside its tolerance, a swapped phase sequence. An event starts at the first reading that shows it and ends at
/// the first that does not (the readings' resolution, a second); its extreme is the furthest value seen. Dips,
/// swells and overcurrent need the chip's half-cycle engine (``PQChipEventDecoder``), which also times interruptions
/// to the half cycle when it runs.
public struct PQEventTracker: Sendable {
    public let nominalVoltage: Double
    public let nominalFrequency: Double
    public let interruptionPercent: Double
    public let frequencyTolerancePercent: Double
    /// False when the chip's half-cycle engine reports interruptions (``PQChipEventDecoder``): one source per event.
    public let tracksInterruptions: Bool
    private var open: [Key: PQEvent] = [:]
    private var lastMs: Int64?

    struct Key: Hashable { var kind: PQEventKind; var phase: Int }

    public init(nominalVoltage: Double, nominalFrequency: Double, interruptionPercent: Double, frequencyTolerancePercent: Double,
                tracksInterruptions: Bool = true) {
        self.nominalVoltage = nominalVoltage; self.nominalFrequency = nominalFrequency
        self.interruptionPercent = interruptionPercent; self.frequencyTolerancePercent = frequencyTolerancePercent
        self.tracksInterruptions = tracksInterruptions
    }

    /// The events going on now, oldest first.
    public var ongoing: [PQEvent] { open.values.sorted { ($0.startMs, $0.phase) < ($1.startMs, $1.phase) } }

    /// - Returns: the events that started with this reading, and those it ended (complete, to be stored).
    public mutating func observe(_ o: PQObservation) -> (started: [PQEvent], finished: [PQEvent]) {
        lastMs = o.timeMs
        var started: [PQEvent] = [], finished: [PQEvent] = []
        func track(_ kind: PQEventKind, phase: Int, active: Bool, value: Double?, further: (Double, Double) -> Bool) {
            let key = Key(kind: kind, phase: phase)
            if active {
                if var event = open[key] {
                    if let value, event.extreme.map({ further(value, $0) }) ?? true { event.extreme = value }
                    event.endMs = max(event.startMs, o.timeMs)  // a clock stepped back never ends it before its start
                    open[key] = event
                } else {
                    let event = PQEvent(startMs: o.timeMs, endMs: o.timeMs, phase: phase, kind: kind, extreme: value)
                    open[key] = event
                    started.append(event)
                }
            } else if var event = open.removeValue(forKey: key) {
                event.endMs = max(event.startMs, o.timeMs)
                finished.append(event)
            }
        }
        let floor = nominalVoltage * interruptionPercent / 100
        for p in 0..<3 where tracksInterruptions {
            track(.interruption, phase: p + 1, active: o.voltage[p] < floor, value: o.voltage[p], further: <)
        }
        let deviation = abs(o.frequency / nominalFrequency - 1) * 100
        track(.frequencyDeviation, phase: 0, active: o.frequency.isFinite && deviation > frequencyTolerancePercent,
              value: o.frequency) { abs($0 - nominalFrequency) > abs($1 - nominalFrequency) }
        // A sequence is judged only with all three phases present; an unknown sequence keeps the current state.
        if let swapped = o.sequenceSwapped, o.voltage.allSatisfy({ $0 >= floor }) {
            track(.phaseSequence, phase: 0, active: swapped, value: nil) { _, _ in false }
        }
        return (started, finished)
    }

    /// Ends every open event at `timeMs` (default: the last reading's time): the service stops.
    public mutating func close(atMs timeMs: Int64? = nil) -> [PQEvent] {
        let end = timeMs ?? lastMs
        let events = ongoing.map { event -> PQEvent in
            var event = event
            if let end { event.endMs = max(event.endMs, end) }
            return event
        }
        open = [:]
        return events
    }
}
