// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import Logging

/// The meter: the ADE9000 driver plus the board's scale, turning chip codes into ``Reading``s in SI units
/// and the chip's free-running energy registers into energy since start.
///
/// An actor; `reading()` is the seam later layers (the sampling service, the API) build on.
public actor Meter {
    public nonisolated let driver: ADE9000Driver
    public private(set) var scales: [Phase: PhaseScale]
    private let logger: Logger
    private var lastEnergy: [RawSnapshot.EnergyCodes]?
    private var energySinceStart = [Reading.PhaseEnergy](repeating: .init(wh: 0, varh: 0, vah: 0), count: 3)

    /// - Parameters:
    ///   - driver: a driver not yet initialised.
    ///   - scales: A, V, W… per LSB of each phase, from `config.ini`.
    ///
    /// A reading's `time` and `monotonic` are the driver's stamp of its bus transfer (the driver's clock).
    public init(driver: ADE9000Driver, scales: [Phase: PhaseScale], logger: Logger) {
        self.driver = driver; self.scales = scales; self.logger = logger
    }

    /// Detects and sets up the chip. - Throws: ``ADE9000Error``.
    @discardableResult
    public func start() async throws -> ChipIdentity {
        let identity = try await driver.initialize()
        lastEnergy = nil
        return identity
    }

    /// Takes a new calibration and board scale while running (SIGHUP): the registers are written and
    /// verified between two snapshots, so no sample is lost.
    public func update(calibration: [Phase: PhaseCalibration], scales: [Phase: PhaseScale]) async throws {
        try await driver.apply(calibration: calibration)
        self.scales = scales
    }

    /// Reads the chip now.
    /// - Parameters:
    ///   - includeEnergy: also read the energy registers and update the energy since start.
    ///   - includeTemperature: also read the die temperature.
    public func reading(includeEnergy: Bool = true, includeTemperature: Bool = true) async throws -> Reading {
        let snapshot = try await driver.snapshot(includeEnergy: includeEnergy, includeTemperature: includeTemperature)
        if snapshot.reinitialised {
            logger.warning("energy counts restart: the metering chip reset and was set up again")
            lastEnergy = nil
            energySinceStart = .init(repeating: .init(wh: 0, varh: 0, vah: 0), count: 3)
        }
        return convert(snapshot)
    }

    /// A per ISUMRMS LSB. ISUMRMS sums the three channels' samples after each phase's xIGAIN, so it has one scale only
    /// if the phases share one: calibration equalises them in xIGAIN and the board scale is the same on every phase
    /// (`cha_irms` = `chb_irms` = `chc_irms` on the NIB v3). If a config gives them different scales, their mean is
    /// the best single factor (the error is at most their spread).
    static func neutralAmpsPerLSB(_ scales: [Phase: PhaseScale]) -> Double { PhaseScale.mean(scales, \.ampsPerLSB) }

    /// Codes to SI with the board scale; energy registers to energy since start.
    func convert(_ snapshot: RawSnapshot) -> Reading {
        let phases = Phase.allCases.map { phase -> Reading.PhaseValues in
            let c = snapshot[phase], k = scales[phase]!
            return .init(v: Double(c.vrms) * k.voltsPerLSB, i: Double(c.irms) * k.ampsPerLSB,
                         p: Double(c.watt) * k.wattsPerLSB, q: Double(c.reactive) * k.varsPerLSB,
                         s: Double(c.apparent) * k.voltAmpsPerLSB, pf: PowerFactorFormat.value(c.pf))
        }
        var energy: [Reading.PhaseEnergy]?
        if let codes = snapshot.energy {
            if let last = lastEnergy {
                for phase in Phase.allCases {
                    let k = scales[phase]!, i = phase.rawValue
                    energySinceStart[i].wh += Double(Energy45.hiDelta(from: last[i].watthrHi, to: codes[i].watthrHi))
                        * Energy45.wattHoursPerHiLSB(wattsPerLSB: k.wattsPerLSB)
                    energySinceStart[i].varh += Double(Energy45.hiDelta(from: last[i].varhrHi, to: codes[i].varhrHi))
                        * Energy45.wattHoursPerHiLSB(wattsPerLSB: k.varsPerLSB)
                    energySinceStart[i].vah += Double(Energy45.hiDelta(from: last[i].vahrHi, to: codes[i].vahrHi))
                        * Energy45.wattHoursPerHiLSB(wattsPerLSB: k.voltAmpsPerLSB)
                }
            }
            lastEnergy = codes
            energy = energySinceStart
        }
        let freq = LinePeriod.frequency(snapshot.comPeriod)
        // The fundamental RMS registers share the total RMS registers' full scale (DS p.38), so the same board scale.
        var harmonics: [Reading.PhaseHarmonics]?
        if snapshot.phases.allSatisfy({ $0.harmonics != nil }) {
            harmonics = Phase.allCases.map { phase -> Reading.PhaseHarmonics in
                let c = snapshot[phase].harmonics!, k = scales[phase]!
                return .init(vthd: HarmonicDistortionFormat.percent(c.vthd), ithd: HarmonicDistortionFormat.percent(c.ithd),
                             vfund: Double(c.vfrms) * k.voltsPerLSB, ifund: Double(c.ifrms) * k.ampsPerLSB)
            }
        }
        // Counts to degrees at the measured line frequency, which ade9000.md §3.7 finds more exact than the nominal.
        let angles = snapshot.voltageAngles.map {
            Reading.VoltageAngles(l2: ZeroCrossingAngle.degrees($0.aToB, lineFrequency: freq),
                                  l3: ZeroCrossingAngle.degrees($0.aToC, lineFrequency: freq))
        }
        var reading = Reading(time: snapshot.wallTime, freq: freq, phases: phases,
                              neutralCurrent: snapshot.isumrms.map { Double($0) * Self.neutralAmpsPerLSB(scales) },
                              harmonics: harmonics, voltageAngles: angles, energy: energy,
                              temperature: snapshot.temperatureCelsius, afterChipReset: snapshot.reinitialised)
        reading.monotonic = snapshot.takenAt
        return reading
    }
}
