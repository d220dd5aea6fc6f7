// SPDX-License-Identifier: Apache-2.0
// nettle (Debian nettle-dev): SHA-256 for S3's x-amz-content-sha256 header, confined to S3Client.
// <nettle/sha2.h> maps sha256_init to nettle_sha256_init and so on by macros: Swift sees the nettle_ names.
#include <nettle/sha2.h>
