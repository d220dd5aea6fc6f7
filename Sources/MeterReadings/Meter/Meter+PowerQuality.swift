// SPDX-License-Identifier: Apache-2.0

import ADE9000
public import PowerQuality

extension Meter {
    /// One poll of the chip's dip, swell, overcurrent and zero-crossing detectors, in volts and amps
    /// (``ADE9000Driver/pollPowerQuality(watchingCurrents:)``). A chip that reset since it was set up reports
    /// nothing until the sampler has set it up again: its latches and state are gone with its configuration.
    public func powerQuality(watchingCurrents: Bool) async throws -> PQChipObservation {
        let raw = try await driver.pollPowerQuality(watchingCurrents: watchingCurrents)
        let wallMs = Int64((raw.wallTime * 1000).rounded())
        guard !raw.chipReset else { return PQChipObservation(monotonic: raw.takenAt, wallMs: wallMs) }
        let phases = Phase.allCases
        // The level registers hold the half-cycle RMS / 2^5 on the scale of xVRMS / xIRMS.
        func volts(_ codes: [UInt32]) -> [Double] { phases.map { PowerQualityLevels.rms(code: codes[$0.rawValue]) * (scales[$0]?.voltsPerLSB ?? 0) } }
        func amps(_ codes: [UInt32]) -> [Double] { phases.map { PowerQualityLevels.rms(code: codes[$0.rawValue]) * (scales[$0]?.ampsPerLSB ?? 0) } }
        let details = raw.details
        let overcurrent = raw.status1.contains(.OI) ? details?.overcurrentStatus ?? [] : []
        return PQChipObservation(
            monotonic: raw.takenAt, wallMs: wallMs,
            dipLatched: phases.map { raw.status1.contains(.DIP($0)) }, swellLatched: phases.map { raw.status1.contains(.SWELL($0)) },
            zeroCrossingLost: phases.map { raw.status1.contains(.ZXTOV($0)) },
            inDip: phases.map { raw.live.contains(.DIP($0)) }, inSwell: phases.map { raw.live.contains(.SWELL($0)) },
            dipMinimum: details.map { volts($0.dip) }, swellMaximum: details.map { volts($0.swell) },
            overcurrentLatched: phases.map { overcurrent.contains(.phase($0)) },
            overcurrentValue: details.map { amps($0.overcurrent) },
            halfCycleCurrent: details.map { d in phases.map { Double(d.halfCycleCurrent[$0.rawValue]) * (scales[$0]?.ampsPerLSB ?? 0) } })
    }
}
