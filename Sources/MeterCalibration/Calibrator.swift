// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import MeterReadings
public import MeterConfig
#if canImport(Glibc)
import Glibc
#endif

/// Turns a measurement against a known reference into register changes, one step at a time (gain,
/// phase, power gain, offset), each composed with the calibration in force. Pure: no I/O.
public struct Calibrator: Sendable {
    public let configuration: MeterConfiguration
    /// The phases to calibrate.
    public let phases: [Phase]

    public init(configuration: MeterConfiguration, phases: [Phase] = Phase.allCases) {
        self.configuration = configuration
        self.phases = phases
    }

    var lineFrequency: Double { Double(configuration.lineFrequencyHz) }

    func inForce(_ phase: Phase) -> PhaseCalibration { configuration.calibration[phase] ?? .zero }
    func scale(_ phase: Phase) -> PhaseScale { configuration.scales[phase]! }

    // MARK: - Steps

    /// xIGAIN and xVGAIN from a reference at PF 1 (DS eq. 3; ade9000.md §5.3 step 1).
    public func gain(reference: CalibrationReference, measurement: CalibrationMeasurement) throws(CalibrationError) -> [CalibrationChange] {
        try checkFits(reference)
        var changes: [CalibrationChange] = []
        for phase in phases {
            let m = measurement[phase], k = scale(phase), c = inForce(phase)
            let expectedI = reference.current / k.ampsPerLSB, expectedV = reference.voltage / k.voltsPerLSB
            try checkLoad(phase, measured: m.irms, expected: expectedI, what: "current")
            try checkLoad(phase, measured: m.vrms, expected: expectedV, what: "voltage")
            try checkSteady(phase, m.irmsSpread, "current"); try checkSteady(phase, m.vrmsSpread, "voltage")
            guard let igain = CalibrationMath.gain(current: c.igain, expected: expectedI, measured: m.irms),
                  let vgain = CalibrationMath.gain(current: c.vgain, expected: expectedV, measured: m.vrms) else {
                throw outOfRange(phase, "the gain needed does not fit the register")
            }
            changes += [CalibrationChange(phase: phase, kind: .igain, old: c.igain, new: igain),
                        CalibrationChange(phase: phase, kind: .vgain, old: c.vgain, new: vgain)]
        }
        return changes
    }

    /// xPHCAL0 from accumulated active and reactive energy at a known angle (DS eq. 4; §5.3 step 2).
    public func phase(reference: CalibrationReference, measurement: CalibrationMeasurement) throws(CalibrationError) -> [CalibrationChange] {
        try checkFits(reference)
        guard CalibrationLimits.phaseAngleRange.contains(abs(reference.angleDegrees)) else {
            throw CalibrationError(.badReference, subject: "reference",
                detail: "angle \(reference.angleDegrees)° gives too little active or reactive energy to measure a phase error",
                remedy: "use a reference at 20°–80° (60° lagging, PF 0.5, is the usual choice)")
        }
        var changes: [CalibrationChange] = []
        for phase in phases {
            let m = measurement[phase], c = inForce(phase)
            try checkLoad(phase, measured: m.irms, expected: reference.current / scale(phase).ampsPerLSB, what: "current")
            try checkSteady(phase, m.wattSpread, "active power")
            let error = CalibrationMath.angleError(activeEnergy: m.activeEnergy, reactiveEnergy: m.reactiveEnergy,
                                                   referenceDegrees: reference.angleDegrees)
            guard let phcal = CalibrationMath.phaseCompensation(current: c.phcal0, angleError: error, lineFrequency: lineFrequency) else {
                let inForce = c.phcal0 == 0 ? 0 : PhaseCompensation.degrees(register: c.phcal0, lineFrequency: lineFrequency)
                let maximum = DecimalText.signed(PhaseCompensation.maximumDegrees(lineFrequency: lineFrequency), 2)
                throw outOfRange(phase, "the phase error of \(DecimalText.signed(error, 2))° (measured with the \(DecimalText.signed(inForce, 2))° "
                    + "compensation in force) needs a compensation of \(DecimalText.signed(inForce + error, 2))°, beyond the chip's "
                    + "−15° … \(maximum)° (DS p.31)")
            }
            changes.append(CalibrationChange(phase: phase, kind: .phcal0, old: c.phcal0, new: phcal))
        }
        return changes
    }

    /// xPGAIN from the mean active power at a known load (DS eq. 7; §5.3 step 3, with cos θ).
    public func powerGain(reference: CalibrationReference, measurement: CalibrationMeasurement) throws(CalibrationError) -> [CalibrationChange] {
        try checkFits(reference)
        let cosine = cos(reference.angleDegrees * .pi / 180)
        guard cosine > 0.3 else {
            throw CalibrationError(.badReference, subject: "reference", detail: "PF \(cosine) leaves too little active power",
                                   remedy: "use PF 1 (angle 0) or at least PF 0.5")
        }
        var changes: [CalibrationChange] = []
        for phase in phases {
            let m = measurement[phase], c = inForce(phase), k = scale(phase)
            try checkLoad(phase, measured: m.irms, expected: reference.current / k.ampsPerLSB, what: "current")
            try checkSteady(phase, m.wattSpread, "active power")
            let expected = reference.voltage * reference.current * cosine / k.wattsPerLSB
            guard let pgain = CalibrationMath.gain(current: c.pgain, expected: expected, measured: m.watt) else {
                throw outOfRange(phase, "measured active power \(m.watt * k.wattsPerLSB) W cannot be scaled to \(expected * k.wattsPerLSB) W")
            }
            changes.append(CalibrationChange(phase: phase, kind: .pgain, old: c.pgain, new: pgain))
        }
        return changes
    }

    /// xIRMSOS, xWATTOS, xVAROS (and xVRMSOS when the reference voltage is small) at no load or a small
    /// known current (DS eqs. 5–9; §5.3 steps 4–5). At nominal voltage an RMS offset is far below one
    /// code of the result, so xVRMSOS is left as it is unless the reference voltage is under 10 % of full scale.
    public func offset(reference: CalibrationReference, measurement: CalibrationMeasurement) throws(CalibrationError) -> [CalibrationChange] {
        try checkFits(reference)
        let rating = configuration.currentSensorRating
        guard reference.current <= rating * CalibrationLimits.maximumOffsetCurrentFraction else {
            throw CalibrationError(.badReference, subject: "reference",
                detail: "\(reference.current) A is not a small current for the offset step (sensor rating \(rating) A)",
                remedy: "disconnect the load, or pass --current with at most \(rating * CalibrationLimits.maximumOffsetCurrentFraction) A")
        }
        let theta = reference.angleDegrees * .pi / 180
        var changes: [CalibrationChange] = []
        for phase in phases {
            let m = measurement[phase], c = inForce(phase), k = scale(phase)
            let expectedI = reference.current / k.ampsPerLSB
            if reference.current == 0, m.irms * k.ampsPerLSB > rating * 0.01 {
                throw CalibrationError(.wrongLoad, subject: phase.line.uppercased(),
                    detail: "\(DecimalText.fixed(m.irms * k.ampsPerLSB, 3)) A flows, but the offset step without --current needs no load",
                    remedy: "disconnect the load, or pass the small current that flows with --current")
            }
            if reference.current > 0 { try checkLoad(phase, measured: m.irms, expected: expectedI, what: "current") }
            try checkSteady(phase, m.vrmsSpread, "voltage")
            let expectedWatt = reference.voltage * reference.current * cos(theta) / k.wattsPerLSB
            let expectedVar = reference.voltage * reference.current * sin(theta) / k.varsPerLSB
            // At no load an RMS floor that the offset pulls below zero reads 0 (the chip clamps √ of a negative
            // square): nothing to learn from it, so xIRMSOS waits for a run with a small --current.
            let learnsRMS = reference.current > 0 || m.irms > 0
            guard let irmsos = learnsRMS ? CalibrationMath.rmsOffset(current: c.irmsos, expected: expectedI, measured: m.irms) : c.irmsos,
                  let wattos = CalibrationMath.powerOffset(current: c.wattos, expected: expectedWatt, measured: m.watt),
                  let varos = CalibrationMath.powerOffset(current: c.varos, expected: expectedVar, measured: m.reactive) else {
                throw outOfRange(phase, "the offsets do not fit their registers")
            }
            if learnsRMS { changes.append(CalibrationChange(phase: phase, kind: .irmsos, old: c.irmsos, new: irmsos)) }
            changes += [CalibrationChange(phase: phase, kind: .wattos, old: c.wattos, new: wattos),
                        CalibrationChange(phase: phase, kind: .varos, old: c.varos, new: varos)]
            let fullScaleVolts = FullScale.rms * k.voltsPerLSB
            if reference.voltage > 0, reference.voltage < fullScaleVolts * 0.1,
               let vrmsos = CalibrationMath.rmsOffset(current: c.vrmsos, expected: reference.voltage / k.voltsPerLSB, measured: m.vrms) {
                changes.append(CalibrationChange(phase: phase, kind: .vrmsos, old: c.vrmsos, new: vrmsos))
            }
        }
        return changes
    }

    /// The configuration with `changes` applied (the service and `--write` use it).
    public func applying(_ changes: [CalibrationChange]) -> [Phase: PhaseCalibration] {
        var calibration = configuration.calibration
        for change in changes { change.apply(to: &calibration[change.phase, default: .zero]) }
        return calibration
    }

    // MARK: - Checks

    private func checkFits(_ reference: CalibrationReference) throws(CalibrationError) {
        let rating = configuration.currentSensorRating
        for phase in phases {
            let k = scale(phase)
            let fullScaleAmps = FullScale.rms * k.ampsPerLSB, fullScaleVolts = FullScale.rms * k.voltsPerLSB
            if reference.current > rating * 2 || reference.current > fullScaleAmps * 0.9 {
                throw CalibrationError(.beyondRating, subject: "reference",
                    detail: "\(reference.current) A is beyond the current sensor (rated \(rating) A, ADC full scale \(DecimalText.fixed(fullScaleAmps, 1)) A)",
                    remedy: "calibrate at about half the rating, e.g. \(DecimalText.fixed(rating / 4, 0))–\(DecimalText.fixed(rating / 2, 0)) A")
            }
            if reference.voltage > fullScaleVolts * 0.9 || reference.voltage <= 0 {
                throw CalibrationError(.beyondRating, subject: "reference",
                    detail: "\(reference.voltage) V does not fit the voltage input (full scale \(DecimalText.fixed(fullScaleVolts, 1)) V)",
                    remedy: "use the nominal mains voltage, e.g. 230 V")
            }
        }
    }

    private func checkLoad(_ phase: Phase, measured: Double, expected: Double, what: String) throws(CalibrationError) {
        guard measured >= expected * CalibrationLimits.minimumLoadFraction else {
            throw CalibrationError(.wrongLoad, subject: phase.line.uppercased(),
                detail: "the measured \(what) is \(DecimalText.fixed(measured / expected * 100, 1)) % of the reference: no \(what == "current" ? "load" : "voltage") connected, or the wrong phase",
                remedy: "connect the reference to \(phase.line.uppercased()) and check its value, then run the step again")
        }
    }

    private func checkSteady(_ phase: Phase, _ spread: Double, _ what: String) throws(CalibrationError) {
        guard spread <= CalibrationLimits.maximumSpread else {
            throw CalibrationError(.unstable, subject: phase.line.uppercased(),
                detail: "the \(what) moved by \(DecimalText.fixed(spread * 100, 2)) % during the measurement (limit \(DecimalText.fixed(CalibrationLimits.maximumSpread * 100, 1)) %)",
                remedy: "use a steady reference source and load, and switch other loads off")
        }
    }

    private func outOfRange(_ phase: Phase, _ detail: String) -> CalibrationError {
        CalibrationError(.outOfRange, subject: phase.line.uppercased(), detail: detail,
                         remedy: "check the wiring and the reference; a board this far off needs repair, not calibration")
    }
}

/// `value` with `decimals` digits.
