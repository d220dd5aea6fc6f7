// SPDX-License-Identifier: Apache-2.0
#include "cspidev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

unsigned long cspidev_ioc_message(uint32_t n) {
    // SPI_IOC_MESSAGE(n) with a run-time n would be sizeof of a VLA; this is its expansion.
    if (n == 0 || n > CSPIDEV_MAX_TRANSFERS) return 0;
    return _IOC(_IOC_WRITE, SPI_IOC_MAGIC, 0, SPI_MSGSIZE(n));
}
unsigned long cspidev_ioc_wr_mode(void) { return SPI_IOC_WR_MODE; }
unsigned long cspidev_ioc_rd_mode(void) { return SPI_IOC_RD_MODE; }
unsigned long cspidev_ioc_wr_mode32(void) { return SPI_IOC_WR_MODE32; }
unsigned long cspidev_ioc_wr_bits_per_word(void) { return SPI_IOC_WR_BITS_PER_WORD; }
unsigned long cspidev_ioc_wr_max_speed_hz(void) { return SPI_IOC_WR_MAX_SPEED_HZ; }
unsigned long cspidev_ioc_rd_max_speed_hz(void) { return SPI_IOC_RD_MAX_SPEED_HZ; }

uint32_t cspidev_spi_cpha(void) { return SPI_CPHA; }
uint32_t cspidev_spi_cpol(void) { return SPI_CPOL; }
uint32_t cspidev_spi_mode_0(void) { return SPI_MODE_0; }
uint32_t cspidev_spi_mode_1(void) { return SPI_MODE_1; }
uint32_t cspidev_spi_mode_2(void) { return SPI_MODE_2; }
uint32_t cspidev_spi_mode_3(void) { return SPI_MODE_3; }
uint32_t cspidev_spi_cs_high(void) { return SPI_CS_HIGH; }
uint32_t cspidev_spi_lsb_first(void) { return SPI_LSB_FIRST; }
uint32_t cspidev_spi_3wire(void) { return SPI_3WIRE; }
uint32_t cspidev_spi_loop(void) { return SPI_LOOP; }
uint32_t cspidev_spi_no_cs(void) { return SPI_NO_CS; }
uint32_t cspidev_spi_ready(void) { return SPI_READY; }

struct cspidev_transfer_layout cspidev_transfer_layout(void) {
    return (struct cspidev_transfer_layout){
        .size = sizeof(struct spi_ioc_transfer),
        .tx_buf = offsetof(struct spi_ioc_transfer, tx_buf),
        .rx_buf = offsetof(struct spi_ioc_transfer, rx_buf),
        .len = offsetof(struct spi_ioc_transfer, len),
        .speed_hz = offsetof(struct spi_ioc_transfer, speed_hz),
        .delay_usecs = offsetof(struct spi_ioc_transfer, delay_usecs),
        .bits_per_word = offsetof(struct spi_ioc_transfer, bits_per_word),
        .cs_change = offsetof(struct spi_ioc_transfer, cs_change),
        .tx_nbits = offsetof(struct spi_ioc_transfer, tx_nbits),
        .rx_nbits = offsetof(struct spi_ioc_transfer, rx_nbits),
        .word_delay_usecs = offsetof(struct spi_ioc_transfer, word_delay_usecs),
    };
}

void cspidev_fill_transfers(struct spi_ioc_transfer *xfers, const uint8_t *tx, uint8_t *rx,
                            const uint32_t *lengths, uint32_t count, uint32_t speed_hz) {
    // Every field we don't set, pad included, must be 0 (platform.md §2.1).
    memset(xfers, 0, count * sizeof *xfers);
    size_t offset = 0;
    for (uint32_t i = 0; i < count; i++) {
        xfers[i].tx_buf = (uint64_t)(uintptr_t)(tx + offset);
        xfers[i].rx_buf = (uint64_t)(uintptr_t)(rx + offset);
        xfers[i].len = lengths[i];
        xfers[i].speed_hz = speed_hz;
        // Release CS after every frame but the last: on the last, 1 would keep CS asserted after the message.
        xfers[i].cs_change = (i + 1 < count) ? 1 : 0;
        offset += lengths[i];
    }
}

int cspidev_message(int fd, const uint8_t *tx, uint8_t *rx, const uint32_t *lengths, uint32_t count,
                    uint32_t speed_hz) {
    if (count == 0 || count > CSPIDEV_MAX_TRANSFERS) {
        errno = EINVAL;
        return -1;
    }
    // Up to 16 KiB, so not on the stack.
    struct spi_ioc_transfer *xfers = malloc(count * sizeof *xfers);
    if (xfers == NULL) {
        errno = ENOMEM;
        return -1;
    }
    cspidev_fill_transfers(xfers, tx, rx, lengths, count, speed_hz);
    int result = ioctl(fd, cspidev_ioc_message(count), xfers);
    int saved = errno;
    free(xfers);
    errno = saved;
    return result;
}
