// SPDX-License-Identifier: Apache-2.0



/// Full-scale codes of the ADE9000 with a full-scale input (±1 V peak at the ADC, PGA ×1, 1.25 V reference).
public enum FullScale {
    /// xIRMS, xVRMS and the other RMS registers at 0.7071 V rms (DS pp. 33, 38).
    public static let rms: Double = 52_702_092
    /// xWATT, xVAR, xVA and the fundamentals (DS pp. 33–34). Not the ADE9078's 20,823,646.
    public static let power: Double = 20_694_066
    /// xI_PCF, xV_PCF instantaneous samples at ±1 V peak (DS eq. 11 p.37).
    public static let waveform: Double = 74_532_013
}

/// The DSP runs at 8 kSPS: energy accumulates one power code per sample (DS p.34).
public enum DSPRate {
    public static let samplesPerSecond: Double = 8000
}

/// Gains xIGAIN, xVGAIN, xPGAIN: signed 32-bit, multiplier `1 + reg / 2^27` (DS eq. 3 p.30, eqs. 7–10).
public enum Gain {
    public static let unity: Double = 134_217_728 // 2^27

    /// The multiplier a gain register applies.
    public static func multiplier(_ register: Int32) -> Double { 1 + Double(register) / unity }

    /// The register for a multiplier, rounded to the nearest code; nil when it does not fit 32 bits.
    public static func register(forMultiplier multiplier: Double) -> Int32? {
        let code = ((multiplier - 1) * unity).rounded()
        guard code.isFinite, code >= Double(Int32.min), code <= Double(Int32.max) else { return nil }
        return Int32(code)
    }
}

/// xRMS = √(xRMS0² + 2^15 · xRMSOS) (DS eqs. 5–6 p.33).
public enum RMSOffset {
    public static let scale: Double = 32_768 // 2^15

    /// The RMS code the chip reports for an uncorrected code `rms0` and offset register `offset`.
    public static func apply(_ offset: Int32, to rms0: Double) -> Double {
        (max(0, rms0 * rms0 + scale * Double(offset))).squareRoot()
    }

    /// The offset register that makes `measured` read `expected`.
    public static func register(expected: Double, measured: Double) -> Double {
        (expected * expected - measured * measured) / scale
    }
}

/// 24-bit values in 32-bit registers and sign handling.
public enum Bits {
    /// Sign-extends the low `width` bits of `value`.
    public static func signExtend(_ value: UInt64, fromBits width: Int) -> Int64 {
        let shift = 64 - width
        return Int64(bitPattern: value << UInt64(shift)) >> Int64(shift)
    }

    /// Sign-extends a 24-bit field in bits [23:0] of a 32-bit register.
    public static func signExtend24(_ value: UInt32) -> Int32 {
        Int32(truncatingIfNeeded: signExtend(UInt64(value & 0x00FF_FFFF), fromBits: 24))
    }
}

/// The 45-bit signed energy user registers (DS p.34, Fig. 65 p.35): HI holds bits 44..13, LO[12:0] bits 12..0.
public enum Energy45 {
    public static let bits = 45
    /// One HI LSB is 2^13 power-code samples.
    public static let hiShift = 13

    /// The full 45-bit signed value from the HI and LO registers.
    public static func combine(hi: UInt32, lo: UInt32) -> Int64 {
        let raw = UInt64(hi) << UInt64(hiShift) | UInt64(lo & 0x1FFF)
        return Bits.signExtend(raw & ((1 << 45) - 1), fromBits: 45)
    }

    /// Change of a wrapping 45-bit register between two reads, in LSB (modulo 2^45, signed).
    /// Exact while less than 2^44 LSB passed, i.e. 106 s at full-scale power (DS p.34).
    public static func delta(from old: Int64, to new: Int64) -> Int64 {
        Bits.signExtend(UInt64(bitPattern: new &- old) & ((1 << 45) - 1), fromBits: 45)
    }

    /// Change of the HI register alone between two reads, in HI LSB (modulo 2^32, signed).
    public static func hiDelta(from old: UInt32, to new: UInt32) -> Int64 {
        Int64(Int32(bitPattern: new &- old))
    }

    /// Watt-hours per HI LSB for a power register of `wattsPerLSB`: W_LSB · 2^13 / (8000 · 3600).
    ///
    /// Derivation: the DSP adds one xWATT code per 1/8000 s, so one accumulator LSB is W_LSB / 8000 J;
    /// HI drops 13 bits. The CLEMAP `cha_watthr` is this value × 8000 (see ``clemapWatthrConvention``).
    public static func wattHoursPerHiLSB(wattsPerLSB: Double) -> Double {
        wattsPerLSB * Double(1 << hiShift) / (DSPRate.samplesPerSecond * 3600)
    }

    /// The factor between CLEMAP's `cha_watthr` and the true Wh per HI LSB: `cha_watt · 8192 / 3600`,
    /// i.e. Wh per HI LSB × the 8 kHz DSP rate.
    public static let clemapWatthrConvention: Double = DSPRate.samplesPerSecond
}

/// Line period registers xPERIOD and COM_PERIOD: f = 8000 · 2^16 / (PERIOD + 1) (DS eq. 12 p.37).
/// Not the Linux driver's 4000 · 2^16, which is the ADE9078's rate.
public enum LinePeriod {
    public static func frequency(_ period: UInt32) -> Double {
        DSPRate.samplesPerSecond * 65_536 / (Double(period) + 1)
    }

    public static func register(forFrequency hz: Double) -> UInt32 {
        UInt32((DSPRate.samplesPerSecond * 65_536 / hz).rounded() - 1)
    }
}

/// xPF: signed 5.27 fixed point, PF = xPF / 2^27, sign of xWATT (DS eq. 15 p.39).
public enum PowerFactorFormat {
    public static func value(_ code: UInt32) -> Double { Double(Int32(bitPattern: code)) / Gain.unity }
}

/// xVTHD, xITHD: signed 5.27 fixed point, THD % = xTHD / 2^27 × 100, so 0x20000000 is 400 % (DS eq. 16 p.39).
/// The chip's THD is the RMS of the harmonics over the fundamental's RMS, refreshed every 1.024 s with xPF.
public enum HarmonicDistortionFormat {
    /// THD in percent of the fundamental.
    public static func percent(_ code: UInt32) -> Double { Double(Int32(bitPattern: code)) / Gain.unity * 100 }
}

/// Angles between zero crossings: deg = count · 360 · f / 1,024,000 (DS eqs. 13–14 p.37).
public enum ZeroCrossingAngle {
    public static func degrees(_ count: UInt16, lineFrequency: Double) -> Double {
        Double(count) * 360 * lineFrequency / 1_024_000
    }
}

/// Die temperature: T = TEMP_RSLT · (−TEMP_GAIN / 65536) + TEMP_OFFSET / 32, with TEMP_GAIN =
/// TEMP_TRIM[15:0] and TEMP_OFFSET = TEMP_TRIM[31:16] (DS eq. 18 p.39); TEMP_RSLT in bits [11:0].
public enum Temperature {
    public static func celsius(result: UInt32, trim: UInt32) -> Double {
        let gain = Double(trim & 0xFFFF)
        let offset = Double(trim >> 16)
        return Double(result & 0x0FFF) * (-gain / 65_536) + offset / 32
    }
}
