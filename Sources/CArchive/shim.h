// SPDX-License-Identifier: Apache-2.0
// libarchive (Debian libarchive-dev): reads the .keras zip and the tar / tar.gz a SageMaker job writes.
#include <archive.h>
#include <archive_entry.h>

// What Swift cannot import from <archive_entry.h>: one constant each, no logic. The `AE_IF*` file types are
// cast macros (`((__LA_MODE_T)0100000)`).

/// `AE_IFREG`: a regular file.
static inline __LA_MODE_T carchive_ifreg(void) { return AE_IFREG; }
/// `AE_IFDIR`: a directory.
static inline __LA_MODE_T carchive_ifdir(void) { return AE_IFDIR; }
/// `AE_IFLNK`: a symbolic link.
static inline __LA_MODE_T carchive_iflnk(void) { return AE_IFLNK; }
/// `AE_IFCHR`: a character device.
static inline __LA_MODE_T carchive_ifchr(void) { return AE_IFCHR; }
/// `AE_IFBLK`: a block device.
static inline __LA_MODE_T carchive_ifblk(void) { return AE_IFBLK; }
/// `AE_IFIFO`: a FIFO (named pipe).
static inline __LA_MODE_T carchive_ififo(void) { return AE_IFIFO; }
/// `AE_IFSOCK`: a socket.
static inline __LA_MODE_T carchive_ifsock(void) { return AE_IFSOCK; }
