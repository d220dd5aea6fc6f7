// SPDX-License-Identifier: Apache-2.0
#include "clinuxtime.h"
#include <sys/timex.h>

int clinuxtime_clock_synchronized(void) {
    struct timex tx = {0}; /* modes 0: read only */
    int state = adjtimex(&tx);
    if (state < 0) return -1;
    return (state != TIME_ERROR && !(tx.status & STA_UNSYNC)) ? 1 : 0;
}
