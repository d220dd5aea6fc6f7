// SPDX-License-Identifier: Apache-2.0
// libarchive (Debian libarchive-dev): reads the .keras zip and the tar / tar.gz a SageMaker job writes.
#include <archive.h>
#include <archive_entry.h>

// What Swift cannot import from <archive_entry.h>: one constant each, no logic.

/// `AE_IFREG`, a cast macro (`((__LA_MODE_T)0100000)`): the file type of a regular file.
static inline __LA_MODE_T carchive_ifreg(void) { return AE_IFREG; }
