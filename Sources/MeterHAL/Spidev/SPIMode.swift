// SPDX-License-Identifier: Apache-2.0

/// SPI clock polarity and phase, as set with `ioctl(fd, SPI_IOC_WR_MODE, &mode)`.
///
/// The raw value is the C mode byte: `SPI_CPOL` (0x02) | `SPI_CPHA` (0x01) from `<linux/spi/spi.h>`.
/// The ADE9000 wants ``mode3``: SCLK idles high, data is sampled on the rising edge (TRM p.32, p.34).
public enum SPIMode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Clock idles low, sample on the leading (rising) edge. The corresponding C constant is `SPI_MODE_0`.
    case mode0 = 0
    /// Clock idles low, sample on the trailing (falling) edge. The corresponding C constant is `SPI_MODE_1`.
    case mode1 = 1
    /// Clock idles high, sample on the leading (falling) edge. The corresponding C constant is `SPI_MODE_2`.
    case mode2 = 2
    /// Clock idles high, sample on the trailing (rising) edge; what the ADE9000 wants.
    /// The corresponding C constant is `SPI_MODE_3`.
    case mode3 = 3

    /// The C spelling: `SPI_MODE_3`.
    public var description: String { "SPI_MODE_\(rawValue)" }

    /// The C constant `SPI_MODE_0`; use ``mode0``.
    @available(*, unavailable, renamed: "mode0")
    public static var SPI_MODE_0: SPIMode { .mode0 }
    /// The C constant `SPI_MODE_1`; use ``mode1``.
    @available(*, unavailable, renamed: "mode1")
    public static var SPI_MODE_1: SPIMode { .mode1 }
    /// The C constant `SPI_MODE_2`; use ``mode2``.
    @available(*, unavailable, renamed: "mode2")
    public static var SPI_MODE_2: SPIMode { .mode2 }
    /// The C constant `SPI_MODE_3`; use ``mode3``.
    @available(*, unavailable, renamed: "mode3")
    public static var SPI_MODE_3: SPIMode { .mode3 }
}
