// SPDX-License-Identifier: Apache-2.0

/// One set of measurement registers, in chip codes. Board scale turns them into SI units above this layer.
public struct RawSnapshot: Sendable, Hashable {
    /// The `_2` burst registers of one phase that a reading needs.
    public struct PhaseCodes: Sendable, Hashable {
        /// xIRMS, xVRMS: non-negative RMS codes (FS 52,702,092).
        public var irms: UInt32, vrms: UInt32
        /// xWATT, xVAR, xVA: power codes (FS 20,694,066), LPF2-filtered.
        public var watt: Int32, reactive: Int32, apparent: Int32
        /// xPF: 5.27 fixed point, refreshed every 1.024 s.
        public var pf: UInt32
        /// THD and fundamental RMS; nil when the snapshot did not read them.
        public var harmonics: HarmonicCodes?

        public init(irms: UInt32, vrms: UInt32, watt: Int32, reactive: Int32, apparent: Int32, pf: UInt32,
                    harmonics: HarmonicCodes? = nil) {
            self.irms = irms; self.vrms = vrms; self.watt = watt; self.reactive = reactive; self.apparent = apparent; self.pf = pf
            self.harmonics = harmonics
        }
    }

    /// What the chip's fundamental filter makes of one phase: the distortion and the fundamental alone. In the
    /// `_2` burst next to the totals (AVTHD_2 … AFVRMS_2), so a burst snapshot reads them in the same frame.
    public struct HarmonicCodes: Sendable, Hashable {
        /// xVTHD, xITHD: 5.27 fixed point (``HarmonicDistortionFormat``), refreshed every 1.024 s.
        public var vthd: UInt32, ithd: UInt32
        /// xIFRMS, xVFRMS: RMS of the fundamental, on the xIRMS/xVRMS scale (FS 52,702,092).
        public var ifrms: UInt32, vfrms: UInt32

        public init(vthd: UInt32, ithd: UInt32, ifrms: UInt32, vfrms: UInt32) {
            self.vthd = vthd; self.ithd = ithd; self.ifrms = ifrms; self.vfrms = vfrms
        }
    }

    /// ANGL_VA_VB and ANGL_VA_VC: counts of the 1,024 kHz clock from phase A's voltage zero crossing to B's and
    /// to C's (``ZeroCrossingAngle``). 120° and 240° of a line cycle in an A-B-C sequence.
    public struct VoltageAngleCodes: Sendable, Hashable {
        public var aToB: UInt16, aToC: UInt16
        public init(aToB: UInt16, aToC: UInt16) { self.aToB = aToB; self.aToC = aToC }
    }

    /// HI words of the free-running 45-bit energy registers (add mode). Differences of successive reads,
    /// taken modulo 2^32, are the energy in between: see ``Energy45/hiDelta(from:to:)``.
    public struct EnergyCodes: Sendable, Hashable {
        public var watthrHi: UInt32, varhrHi: UInt32, vahrHi: UInt32
        public init(watthrHi: UInt32, varhrHi: UInt32, vahrHi: UInt32) {
            self.watthrHi = watthrHi; self.varhrHi = varhrHi; self.vahrHi = vahrHi
        }
    }

    /// Indexed by `Phase.rawValue`.
    public var phases: [PhaseCodes]
    /// COM_PERIOD: period of the combined zero-crossing signal.
    public var comPeriod: UInt32
    /// ISUMRMS: RMS of the sum of the phase current samples (the neutral current; ``Register/ISUMRMS``), in xIRMS
    /// codes; nil when the snapshot did not read it.
    public var isumrms: UInt32?
    /// The voltage angles; nil when the snapshot did not read them.
    public var voltageAngles: VoltageAngleCodes?
    /// Indexed by `Phase.rawValue`; nil when the snapshot did not include energy.
    public var energy: [EnergyCodes]?
    /// Die temperature, when the snapshot included it.
    public var temperatureCelsius: Double?
    /// STATUS1 as read (RSTDONE already handled by the driver).
    public var status1: UInt32
    /// The chip had reset or stopped and was set up again just before this snapshot. Energy registers
    /// restarted from zero, so no difference may be taken across it.
    public var reinitialised: Bool
    /// The driver clock's monotonic time of the bus transfer that read these registers (the energy
    /// counters' transfer when a snapshot needed several).
    public var takenAt: Double
    /// The same moment on the wall clock (Unix seconds), stamped once, by the driver.
    public var wallTime: Double

    public subscript(phase: Phase) -> PhaseCodes { phases[phase.rawValue] }

    public init(phases: [PhaseCodes], comPeriod: UInt32, isumrms: UInt32? = nil, voltageAngles: VoltageAngleCodes? = nil,
                energy: [EnergyCodes]?, temperatureCelsius: Double?,
                status1: UInt32, reinitialised: Bool, takenAt: Double = 0, wallTime: Double = 0) {
        self.phases = phases; self.comPeriod = comPeriod; self.isumrms = isumrms; self.voltageAngles = voltageAngles; self.energy = energy
        self.temperatureCelsius = temperatureCelsius; self.status1 = status1; self.reinitialised = reinitialised
        self.takenAt = takenAt; self.wallTime = wallTime
    }
}

/// What the chip says it is.
public struct ChipIdentity: Sendable, Hashable {
    public var partID: UInt32
    public var version: UInt16
    /// `VERSION & 0xFFC0 == 0x00C0` (DS Table 6 p.54).
    public var isKnownVersion: Bool { version & 0xFFC0 == 0x00C0 }
}
