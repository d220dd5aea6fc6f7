// SPDX-License-Identifier: Apache-2.0
//
// What Swift cannot import from <linux/spi/spidev.h>: the function-like ioctl macros
// (SPI_IOC_MESSAGE(n), _IOW/_IOR) and the _BITUL mode bits (platform.md §2.3). One call each,
// no logic; MeterHAL wraps them in typed Swift.
#ifndef CSPIDEV_H
#define CSPIDEV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/spi/spidev.h>

/// Largest n for which SPI_IOC_MESSAGE(n) encodes: 32·n must fit the 14-bit size field.
/// From n = 512 the size wraps to 0 and the kernel returns 0 without transferring (platform.md §2.2).
#define CSPIDEV_MAX_TRANSFERS 511u

// ioctl request numbers.
unsigned long cspidev_ioc_message(uint32_t n);      // SPI_IOC_MESSAGE(n), 0 if n == 0 or n > 511
unsigned long cspidev_ioc_wr_mode(void);            // SPI_IOC_WR_MODE (u8)
unsigned long cspidev_ioc_rd_mode(void);            // SPI_IOC_RD_MODE (u8)
unsigned long cspidev_ioc_wr_mode32(void);          // SPI_IOC_WR_MODE32 (u32)
unsigned long cspidev_ioc_wr_bits_per_word(void);   // SPI_IOC_WR_BITS_PER_WORD (u8)
unsigned long cspidev_ioc_wr_max_speed_hz(void);    // SPI_IOC_WR_MAX_SPEED_HZ (u32)
unsigned long cspidev_ioc_rd_max_speed_hz(void);    // SPI_IOC_RD_MAX_SPEED_HZ (u32)

// Mode bits (<linux/spi/spi.h>, defined with _BITUL, so Swift sees none of them).
uint32_t cspidev_spi_cpha(void);        // SPI_CPHA
uint32_t cspidev_spi_cpol(void);        // SPI_CPOL
uint32_t cspidev_spi_mode_0(void);      // SPI_MODE_0
uint32_t cspidev_spi_mode_1(void);      // SPI_MODE_1
uint32_t cspidev_spi_mode_2(void);      // SPI_MODE_2
uint32_t cspidev_spi_mode_3(void);      // SPI_MODE_3
uint32_t cspidev_spi_cs_high(void);     // SPI_CS_HIGH
uint32_t cspidev_spi_lsb_first(void);   // SPI_LSB_FIRST
uint32_t cspidev_spi_3wire(void);       // SPI_3WIRE
uint32_t cspidev_spi_loop(void);        // SPI_LOOP
uint32_t cspidev_spi_no_cs(void);       // SPI_NO_CS
uint32_t cspidev_spi_ready(void);       // SPI_READY

/// sizeof and offsetof of struct spi_ioc_transfer, as this C compiler lays it out (for the layout test).
struct cspidev_transfer_layout {
    size_t size;
    size_t tx_buf, rx_buf, len, speed_hz, delay_usecs, bits_per_word, cs_change, tx_nbits, rx_nbits,
        word_delay_usecs;
};
struct cspidev_transfer_layout cspidev_transfer_layout(void);

/// Fills `xfers[0..<count]` as cspidev_message sends them (below); every other field, pad included, is 0.
/// Separate so the layout test can check cs_change and the buffer offsets without a device.
void cspidev_fill_transfers(struct spi_ioc_transfer *xfers, const uint8_t *tx, uint8_t *rx,
                            const uint32_t *lengths, uint32_t count, uint32_t speed_hz);

/// One SPI_IOC_MESSAGE(count) of `count` full-duplex transfers, frame i being `lengths[i]` bytes taken
/// in order from the contiguous `tx` and written in order to the contiguous `rx`.
///
/// Every transfer but the last has cs_change = 1, so chip select rises between frames and each frame is
/// its own transaction; the last has cs_change = 0 (1 there would leave CS asserted after the message).
/// `speed_hz` 0 means the device default set with SPI_IOC_WR_MAX_SPEED_HZ; bits_per_word is 0 (the default, 8).
///
/// Returns the ioctl result: total bytes transferred, or -1 with errno set (EINVAL when count is 0 or
/// above CSPIDEV_MAX_TRANSFERS, ENOMEM when the transfer array cannot be allocated). Does not retry EINTR.
int cspidev_message(int fd, const uint8_t *tx, uint8_t *rx, const uint32_t *lengths, uint32_t count,
                    uint32_t speed_hz);

#endif
