// SPDX-License-Identifier: Apache-2.0
// The system zlib (Debian zlib1g-dev): gzopen/gzread read plain and gzip-compressed files alike.
#include <zlib.h>
