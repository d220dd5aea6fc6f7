// SPDX-License-Identifier: Apache-2.0

import ADE9000
public import MeterReadings

/// Folds snapshots into interval rows aligned to wall-clock boundaries (multiples of `length` seconds).
///
/// Energy is exact: the chip's energy counters are read with every snapshot, and the energy between two
/// snapshots that straddle a boundary is split in proportion to time at the boundary (linear in the
/// counter between reads), so every Wh lands in exactly one row. Power, reactive and apparent power of
/// a row are its energies over its duration. Voltage, current, frequency and temperature are means of
/// the snapshots taken inside the interval.
///
/// Durations come from the monotonic clock. When the wall clock jumps (|Δwall − Δmonotonic| above
/// ``jumpTolerance``), the running interval is cut at the last snapshot before the jump and flagged, and
/// a new one starts under the new wall time: no row ever claims a duration it did not measure.
///
/// A value type with no I/O and no clock of its own: the sampler feeds it, tests drive it directly.
public struct IntervalAggregator: Sendable {
    public let length: Double
    public let jumpTolerance: Double
    /// Seconds between snapshots, when known: a row with more than one snapshot fewer than its duration
    /// allows is flagged `missedSamples` (its means use fewer snapshots; its energy is exact all the same).
    public let samplePeriod: Double?

    private struct Open {
        var time: Int64
        var monotonicStart: Double
        var end: Double // wall time of the boundary that closes it
        var energy = [MinuteRow.PhaseEnergy](repeating: .zero, count: 3)
        var sums = [(v: Double, i: Double)](repeating: (0, 0), count: 3)
        var freqSum = 0.0, temperatureSum = 0.0, temperatureCount = 0, samples = 0
        /// THD-V and THD-I per phase, and the neutral current: over the readings that carried them.
        var voltageTHD = [Statistic](repeating: .init(), count: 3), currentTHD = [Statistic](repeating: .init(), count: 3)
        var neutral = Statistic()
        var flags: RowFlags
        /// The wall clock was synchronised for every sample so far.
        var synchronized = true
    }

    /// A mean and a maximum over the values given (nil without any).
    private struct Statistic {
        var sum = 0.0, count = 0, maximum = -Double.infinity
        mutating func add(_ value: Double?) {
            guard let value, value.isFinite else { return }
            sum += value; count += 1; maximum = Swift.max(maximum, value)
        }
        var mean: Double? { count > 0 ? sum / Double(count) : nil }
        var highest: Double? { count > 0 ? maximum : nil }
    }

    private var open: Open?
    private var previous: MeterSample?

    /// - Parameters:
    ///   - length: interval in seconds (`gathering_interval_sec`), ≥ 1.
    ///   - jumpTolerance: wall-clock disagreement with the monotonic clock, in seconds, taken as a jump.
    public init(length: Double, jumpTolerance: Double = 2, samplePeriod: Double? = nil) {
        precondition(length >= 1)
        self.length = length
        self.jumpTolerance = jumpTolerance
        self.samplePeriod = samplePeriod
    }

    /// Takes a snapshot from just before the first boundary as the energy baseline, without opening an
    /// interval: the first interval then starts exactly on the boundary with all its energy.
    public mutating func prime(_ sample: MeterSample) {
        precondition(open == nil, "prime before the first add")
        previous = sample
    }

    /// Adds a sample; returns the intervals it closed (usually none, one at a boundary).
    public mutating func add(_ sample: MeterSample, extraFlags: RowFlags = []) -> [ClosedInterval] {
        var closed: [ClosedInterval] = []
        defer { previous = sample }
        if open == nil, let prev = previous, !sample.reading.afterChipReset {
            let boundary = (sample.wall / length).rounded(.down) * length
            if prev.wall < boundary, abs((sample.wall - prev.wall) - (sample.monotonic - prev.monotonic)) <= jumpTolerance {
                // Primed: open the interval on the boundary between the baseline and this sample, and give
                // it the part of the step's energy that falls after the boundary.
                let fraction = (sample.wall - boundary) / (sample.wall - prev.wall)
                start(at: boundary, monotonic: sample.monotonic - fraction * (sample.monotonic - prev.monotonic), flags: [])
                addEnergy(delta(from: prev, to: sample), fraction: fraction)
                include(sample, extraFlags)
                return closed
            }
        }
        guard let prev = previous, open != nil else {
            start(at: sample.wall, monotonic: sample.monotonic, flags: partialUnlessOnBoundary(sample.wall))
            include(sample, extraFlags)
            return closed
        }
        let dWall = sample.wall - prev.wall, dMono = sample.monotonic - prev.monotonic
        if sample.reading.afterChipReset {
            // The counters restarted: the energy since the last snapshot is unknown, never invented.
            open!.flags.insert(.chipReset)
            closed += advanceBoundaries(to: sample, from: prev, energy: nil)
        } else if abs(dWall - dMono) > jumpTolerance {
            open!.flags.formUnion([.clockJump, .partial])
            closed.append(close(atMonotonic: prev.monotonic))
            let start = sample.wall - dMono
            self.start(at: start, monotonic: prev.monotonic, flags: [.partial, .clockJump])
            addEnergy(delta(from: prev, to: sample), fraction: 1)
            closed += advanceBoundaries(to: sample, from: prev, energy: nil, splitFrom: start)
        } else {
            closed += advanceBoundaries(to: sample, from: prev, energy: delta(from: prev, to: sample))
        }
        include(sample, extraFlags)
        return closed
    }

    /// Closes the running interval at the last sample (service stop), flagged partial.
    public mutating func finish() -> ClosedInterval? {
        guard open != nil, let prev = previous else { return nil }
        open!.flags.insert(.partial)
        let interval = close(atMonotonic: prev.monotonic)
        open = nil
        previous = nil
        return interval
    }

    /// Marks the running interval (e.g. a snapshot failed).
    public mutating func flagOpenInterval(_ flags: RowFlags) { open?.flags.formUnion(flags) }

    // MARK: -

    private func partialUnlessOnBoundary(_ wall: Double) -> RowFlags {
        let offset = wall - (wall / length).rounded(.down) * length
        return offset < 0.5 ? [] : .partial
    }

    private mutating func start(at wall: Double, monotonic: Double, flags: RowFlags) {
        let time = (wall / length).rounded(.down) * length
        open = Open(time: Int64(time), monotonicStart: monotonic, end: time + length, flags: flags)
    }

    /// Splits the energy between `prev` and `sample` across every boundary in between.
    private mutating func advanceBoundaries(to sample: MeterSample, from prev: MeterSample,
                                            energy: [MinuteRow.PhaseEnergy]?, splitFrom: Double? = nil) -> [ClosedInterval] {
        var closed: [ClosedInterval] = []
        let wallFrom = splitFrom ?? prev.wall
        let span = sample.wall - wallFrom
        var done = 0.0 // fraction of the step already attributed
        while let current = open, sample.wall >= current.end {
            let fraction = span > 0 ? min(1, max(done, (current.end - wallFrom) / span)) : 1
            if let energy { addEnergy(energy, fraction: fraction - done) }
            done = fraction
            let boundaryMono = prev.monotonic + fraction * (sample.monotonic - prev.monotonic)
            closed.append(close(atMonotonic: boundaryMono))
            open = Open(time: Int64(current.end), monotonicStart: boundaryMono, end: current.end + length,
                        flags: energy == nil && current.flags.contains(.chipReset) ? [.chipReset] : [],
                        synchronized: prev.wallSynchronized)
        }
        if let energy { addEnergy(energy, fraction: 1 - done) }
        return closed
    }

    private mutating func addEnergy(_ energy: [MinuteRow.PhaseEnergy], fraction: Double) {
        guard fraction > 0 else { return }
        for p in 0..<3 {
            open!.energy[p].whImport += energy[p].whImport * fraction
            open!.energy[p].whExport += energy[p].whExport * fraction
            open!.energy[p].varh += energy[p].varh * fraction
            open!.energy[p].vah += energy[p].vah * fraction
        }
    }

    /// Energy between two readings; a net step is import when positive, export when negative.
    private func delta(from a: MeterSample, to b: MeterSample) -> [MinuteRow.PhaseEnergy] {
        guard let ea = a.reading.energy, let eb = b.reading.energy else {
            return .init(repeating: .zero, count: 3)
        }
        return (0..<3).map { p in
            let wh = eb[p].wh - ea[p].wh
            return MinuteRow.PhaseEnergy(whImport: max(0, wh), whExport: max(0, -wh),
                                         varh: eb[p].varh - ea[p].varh, vah: eb[p].vah - ea[p].vah)
        }
    }

    private mutating func include(_ sample: MeterSample, _ flags: RowFlags) {
        guard open != nil else { return }
        open!.flags.formUnion(flags)
        if !sample.wallSynchronized { open!.synchronized = false }
        let reading = sample.reading
        for p in 0..<3 {
            open!.sums[p].v += reading.phases[p].v
            open!.sums[p].i += reading.phases[p].i
        }
        for p in 0..<3 {
            open!.voltageTHD[p].add(reading.harmonics?[p].vthd)
            open!.currentTHD[p].add(reading.harmonics?[p].ithd)
        }
        open!.neutral.add(reading.neutralCurrent)
        open!.freqSum += reading.freq
        if let t = reading.temperature { open!.temperatureSum += t; open!.temperatureCount += 1 }
        open!.samples += 1
    }

    private func missedSamples(_ samples: Int, in duration: Double) -> Bool {
        guard samples > 0 else { return true }
        guard let samplePeriod, samplePeriod > 0 else { return false }
        return Double(samples) < (duration / samplePeriod).rounded(.down) - 1
    }

    private func close(atMonotonic end: Double) -> ClosedInterval {
        let interval = open!
        let duration = max(0, end - interval.monotonicStart)
        let n = Double(interval.samples)
        let phases = (0..<3).map { p -> Reading.PhaseValues in
            let e = interval.energy[p]
            let hours = duration / 3600
            let pW = hours > 0 ? (e.whImport - e.whExport) / hours : .nan
            let q = hours > 0 ? e.varh / hours : .nan
            let s = hours > 0 ? e.vah / hours : .nan
            let pf = s > 0 ? max(-1, min(1, pW / s)) : .nan
            return .init(v: n > 0 ? interval.sums[p].v / n : .nan, i: n > 0 ? interval.sums[p].i / n : .nan,
                         p: pW, q: q, s: s, pf: pf)
        }
        let row = MinuteRow(time: interval.time, durationSeconds: duration, phases: phases,
                            freq: n > 0 ? interval.freqSum / n : .nan, energy: interval.energy,
                            samples: interval.samples, flags: missedSamples(interval.samples, in: duration) ? interval.flags.union(.missedSamples) : interval.flags,
                            temperature: interval.temperatureCount > 0 ? interval.temperatureSum / Double(interval.temperatureCount) : nil,
                            quality: (0..<3).map { p in
                                MinuteRow.PhaseQuality(vthd: interval.voltageTHD[p].mean, vthdMax: interval.voltageTHD[p].highest,
                                                       ithd: interval.currentTHD[p].mean, ithdMax: interval.currentTHD[p].highest)
                            },
                            neutralCurrent: interval.neutral.mean)
        return ClosedInterval(row: row, monotonicStart: interval.monotonicStart, wallSynchronized: interval.synchronized)
    }
}
