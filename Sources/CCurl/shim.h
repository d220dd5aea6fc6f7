// SPDX-License-Identifier: Apache-2.0
// libcurl (Debian libcurl4-openssl-dev 7.88.1): S3 requests signed with CURLOPT_AWS_SIGV4, confined to S3Client.
#include <curl/curl.h>

// What Swift cannot import from <curl/curl.h>: curl_easy_setopt and curl_easy_getinfo are variadic, and
// CURL_GLOBAL_DEFAULT is a macro of macros. One call each, no logic; the names say the argument's type.

/// `curl_easy_setopt` for the options that take a `long`.
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for the options that take a `curl_off_t` (the `…_LARGE` ones).
static inline CURLcode ccurl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for the options that take a C string (curl copies it) or a pointer (`…DATA`, `CURLOPT_HTTPHEADER`).
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for `CURLOPT_WRITEFUNCTION` and `CURLOPT_HEADERFUNCTION` (the same signature).
static inline CURLcode ccurl_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

/// `curl_easy_setopt` for `CURLOPT_READFUNCTION`.
static inline CURLcode ccurl_setopt_read_function(CURL *handle, curl_read_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

/// `curl_easy_getinfo` for the infos that give a `long` (`CURLINFO_RESPONSE_CODE`).
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `curl_easy_getinfo` for the infos that give a `curl_off_t` (`CURLINFO_FILETIME_T`, `…_CONTENT_LENGTH_DOWNLOAD_T`).
static inline CURLcode ccurl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `CURL_GLOBAL_DEFAULT`, the flags for `curl_global_init`.
static inline long ccurl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
