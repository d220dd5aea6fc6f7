// SPDX-License-Identifier: Apache-2.0
// What Swift cannot import from <sys/timex.h>: adjtimex(2) and its TIME_/STA_ macros.
#ifndef CLINUXTIME_H
#define CLINUXTIME_H

/// 1 when the kernel clock is synchronised to a time source (adjtimex: state != TIME_ERROR and
/// STA_UNSYNC clear), 0 when not, -1 when adjtimex failed.
int clinuxtime_clock_synchronized(void);

#endif
