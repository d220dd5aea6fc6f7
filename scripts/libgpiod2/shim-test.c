// SPDX-License-Identifier: Apache-2.0
// Compiles every function of Sources/CGPIOD/shim.h against one libgpiod and checks what works without a
// GPIO chip. Build with -DCGPIOD_EXPECT_API=1 or 2 (scripts/libgpiod2/build-v2.sh does both).
#include "shim.h"

#include <stdio.h>

#ifndef CGPIOD_EXPECT_API
#error "define CGPIOD_EXPECT_API (1 or 2)"
#endif

static int failures = 0;

#define CHECK(cond, ...) do { \
    if (cond) { printf("  ok    "); } else { printf("  FAIL  "); failures++; } \
    printf(__VA_ARGS__); printf("\n"); \
} while (0)

int main(void) {
    printf("shim-test: cgpiod_api_version() = %d, libgpiod %s\n", cgpiod_api_version(), cgpiod_library_version());
    CHECK(cgpiod_api_version() == CGPIOD_EXPECT_API, "cgpiod_api_version() == %d", CGPIOD_EXPECT_API);
    CHECK(cgpiod_library_version()[0] == '0' + CGPIOD_EXPECT_API,
          "the linked library is %d.x (reported %s)", CGPIOD_EXPECT_API, cgpiod_library_version());
#if CGPIOD_EXPECT_API == 1
    CHECK(CGPIOD_API_V1 == 1, "the header selected the v1 branch (GPIOD_LINE_BULK_MAX_LINES defined)");
    // The trap of platform.md §1.2: request flags, not the line-info enum (GPIOD_LINE_BIAS_PULL_UP = 3).
    CHECK(cgpiod__bias_flags(CGPIOD_BIAS_PULL_UP) == GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP &&
          cgpiod__bias_flags(CGPIOD_BIAS_PULL_UP) == 32, "pull-up maps to request flag BIAS_PULL_UP (bit 5)");
    CHECK(cgpiod__bias_flags(CGPIOD_BIAS_PULL_DOWN) == 16 && cgpiod__bias_flags(CGPIOD_BIAS_DISABLED) == 8 &&
          cgpiod__bias_flags(CGPIOD_BIAS_AS_IS) == 0, "pull-down, disabled, as-is map to bits 4, 3, none");
#else
    CHECK(CGPIOD_API_V2 == 1, "the header selected the v2 branch (no GPIOD_LINE_BULK_MAX_LINES)");
    CHECK(cgpiod__bias(CGPIOD_BIAS_PULL_UP) == GPIOD_LINE_BIAS_PULL_UP && GPIOD_LINE_BIAS_PULL_UP == 4,
          "pull-up maps to settings enum GPIOD_LINE_BIAS_PULL_UP (4)");
    CHECK(cgpiod__bias(CGPIOD_BIAS_PULL_DOWN) == GPIOD_LINE_BIAS_PULL_DOWN &&
          cgpiod__bias(CGPIOD_BIAS_DISABLED) == GPIOD_LINE_BIAS_DISABLED &&
          cgpiod__bias(CGPIOD_BIAS_AS_IS) == GPIOD_LINE_BIAS_AS_IS, "pull-down, disabled, as-is map to the v2 enum");
    CHECK(cgpiod__edge(CGPIOD_EDGE_BOTH) == GPIOD_LINE_EDGE_BOTH && cgpiod__edge(CGPIOD_EDGE_NONE) == GPIOD_LINE_EDGE_NONE &&
          cgpiod__edge(CGPIOD_EDGE_RISING) == GPIOD_LINE_EDGE_RISING &&
          cgpiod__edge(CGPIOD_EDGE_FALLING) == GPIOD_LINE_EDGE_FALLING, "edges map to the v2 enum");
#endif

    errno = 0;
    cgpiod_chip *chip = cgpiod_open_chip("/dev/gpiochip-does-not-exist");
    int saved = errno;
    CHECK(chip == NULL && saved == ENOENT, "cgpiod_open_chip(missing path) fails with ENOENT (errno %d: %s)",
          saved, strerror(saved));
    cgpiod_close_chip(chip);

    errno = 0;
    chip = cgpiod_open_chip("/dev/null");
    saved = errno;
    CHECK(chip == NULL && saved != 0, "cgpiod_open_chip(/dev/null) fails: not a GPIO chip (errno %d: %s)",
          saved, strerror(saved));
    cgpiod_close_chip(chip);

    errno = 0;
    chip = cgpiod_open_chip_by_label("clemap-no-such-label");
    saved = errno;
    CHECK(chip == NULL && saved == ENOENT, "cgpiod_open_chip_by_label(unknown) fails with ENOENT (errno %d: %s)",
          saved, strerror(saved));
    cgpiod_close_chip(chip);

    cgpiod_release(NULL);
    cgpiod_close_chip(NULL);
    CHECK(1, "cgpiod_release(NULL) and cgpiod_close_chip(NULL) do nothing");

    // Taking every function's address makes the compiler emit it, so the link step resolves each libgpiod
    // symbol the shim uses against this library.
    void (*volatile functions[])(void) = {
        (void (*)(void))cgpiod_open_chip, (void (*)(void))cgpiod_open_chip_by_label,
        (void (*)(void))cgpiod_close_chip, (void (*)(void))cgpiod_chip_name, (void (*)(void))cgpiod_chip_label,
        (void (*)(void))cgpiod_chip_num_lines, (void (*)(void))cgpiod_request_output,
        (void (*)(void))cgpiod_request_input, (void (*)(void))cgpiod_set, (void (*)(void))cgpiod_get,
        (void (*)(void))cgpiod_event_fd, (void (*)(void))cgpiod_wait_event, (void (*)(void))cgpiod_read_event,
        (void (*)(void))cgpiod_release,
    };
    int emitted = 0;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) emitted += functions[i] != NULL;
    CHECK(emitted == 14, "all 14 shim functions compiled and linked");

    if (failures) { printf("shim-test: %d check(s) FAILED\n", failures); return 1; }
    printf("shim-test: all checks passed (libgpiod %s, API %d)\n", cgpiod_library_version(), cgpiod_api_version());
    return 0;
}
