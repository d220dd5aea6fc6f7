// SPDX-License-Identifier: Apache-2.0

public import ADE9000

/// One stored interval of the meter (normally one minute): a row of table `meter_data`.
///
/// Power comes from the chip's energy registers over the interval (exact energy, no aliasing):
/// `lN_p = lN_wh_imp − lN_wh_exp` over the interval's duration, `lN_q` likewise from varh, `lN_s` from VAh.
/// Voltage, current and frequency are means of the samples. Names follow the `meter_data` columns.
public struct MinuteRow: Sendable, Hashable {
    /// Energy of one phase in the interval.
    public struct PhaseEnergy: Sendable, Hashable {
        /// `lN_wh_imp`: active energy drawn from the grid, Wh (≥ 0).
        public var whImport: Double
        /// `lN_wh_exp`: active energy fed into the grid, Wh (≥ 0).
        public var whExport: Double
        /// `lN_varh`: net reactive energy, varh (positive inductive).
        public var varh: Double
        /// `lN_vah`: apparent energy, VAh.
        public var vah: Double

        public init(whImport: Double, whExport: Double, varh: Double, vah: Double) {
            self.whImport = whImport; self.whExport = whExport; self.varh = varh; self.vah = vah
        }

        public static let zero = PhaseEnergy(whImport: 0, whExport: 0, varh: 0, vah: 0)
    }

    /// Power quality of one phase over the interval: THD of the one-second readings, percent of the fundamental;
    /// nil when none was measured (rows stored before THD was, a chip that does not report it).
    public struct PhaseQuality: Sendable, Hashable {
        /// `lN_vthd`, `lN_vthd_max`: mean and highest voltage THD.
        public var vthd: Double?
        public var vthdMax: Double?
        /// `lN_ithd`, `lN_ithd_max`: mean and highest current THD.
        public var ithd: Double?
        public var ithdMax: Double?

        public init(vthd: Double?, vthdMax: Double?, ithd: Double?, ithdMax: Double?) {
            self.vthd = vthd; self.vthdMax = vthdMax; self.ithd = ithd; self.ithdMax = ithdMax
        }

        public static let unknown = PhaseQuality(vthd: nil, vthdMax: nil, ithd: nil, ithdMax: nil)
    }

    /// `time`: start of the interval, Unix seconds UTC, aligned to the interval (a minute boundary).
    public var time: Int64
    /// `duration_s`: seconds the interval really covers (60 for a full minute; less when partial).
    public var durationSeconds: Double
    /// Per phase (`Phase.rawValue`): `lN_v` `lN_i` means, `lN_p` `lN_q` `lN_s` from energy, `lN_pf` = p / s.
    public var phases: [Reading.PhaseValues]
    /// `freq`: mean line frequency, Hz.
    public var freq: Double
    /// Per phase (`Phase.rawValue`).
    public var energy: [PhaseEnergy]
    /// `samples`: snapshots that went into the means.
    public var samples: Int
    /// `flags`: see ``RowFlags``.
    public var flags: RowFlags
    /// `temp_c`: mean die temperature of the metering chip, °C; nil when not read.
    public var temperature: Double?
    /// `input_b`: state of GPIO input B at the end of the interval (0/1); nil when not configured.
    public var inputB: Int?
    /// Per phase (`Phase.rawValue`): THD means and maxima.
    public var quality: [PhaseQuality]
    /// `n_i`: mean neutral current (the vector sum of the phase currents, ISUMRMS), A; nil when not read.
    public var neutralCurrent: Double?

    public init(time: Int64, durationSeconds: Double, phases: [Reading.PhaseValues], freq: Double,
                energy: [PhaseEnergy], samples: Int, flags: RowFlags, temperature: Double? = nil, inputB: Int? = nil,
                quality: [PhaseQuality] = Array(repeating: .unknown, count: 3), neutralCurrent: Double? = nil) {
        self.time = time; self.durationSeconds = durationSeconds; self.phases = phases; self.freq = freq
        self.energy = energy; self.samples = samples; self.flags = flags; self.temperature = temperature; self.inputB = inputB
        self.quality = quality; self.neutralCurrent = neutralCurrent
    }

    public subscript(phase: Phase) -> Reading.PhaseValues { phases[phase.rawValue] }
}

/// What happened during an interval. Stored as the integer column `flags`; 0 is a clean full interval.
public struct RowFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// 1: the interval did not run its full length (service start or stop, a clock jump).
    public static let partial = RowFlags(rawValue: 1 << 0)
    /// 2: the metering chip reset during the interval and was set up again; the energy of the
    /// moments around the reset is missing, never invented.
    public static let chipReset = RowFlags(rawValue: 1 << 1)
    /// 4: some snapshots of the interval failed (bus errors); means use the ones that succeeded.
    public static let missedSamples = RowFlags(rawValue: 1 << 2)
    /// 8: the system clock was not synchronised when the interval was measured; `time` was set from
    /// the monotonic clock once it was.
    public static let restamped = RowFlags(rawValue: 1 << 3)
    /// 16: the wall clock jumped during the interval; the interval was cut at the jump.
    public static let clockJump = RowFlags(rawValue: 1 << 4)
    /// 32: measured while the system clock was never synchronised, and the service stopped before it
    /// was: `time` is the unsynchronised clock's. Such rows go to `meter_data_conflicts`, never to
    /// `meter_data`.
    public static let unsynchronised = RowFlags(rawValue: 1 << 5)
}
