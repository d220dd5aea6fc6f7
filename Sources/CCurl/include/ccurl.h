// SPDX-License-Identifier: Apache-2.0
// libcurl (Debian libcurl4-openssl-dev 7.88.1, run time libcurl4: libcurl.so.4), loaded on first use.
//
// Why not linked: libcurl brings OpenSSL, GnuTLS, Kerberos, LDAP, libssh2, … (about 30 libraries, 5–6 MiB resident)
// into every start of the binary, the service with the exporter off and `clemap-edge --version` included. Loaded
// with dlopen only when an S3 request is made, they cost nothing to a meter that exports nothing.
//
// Also what Swift cannot import: curl_easy_setopt and curl_easy_getinfo are variadic (one wrapper per argument
// type), and CURL_GLOBAL_DEFAULT is a macro of macros. Only the types and constants of <curl/curl.h> are used
// from Swift; every call goes through these functions.
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>

/// Loads libcurl.so.4 and runs curl_global_init, once per process (thread-safe).
/// Returns NULL when libcurl is ready, else why not (dlerror's text, or the failing step).
const char *ccurl_load(void);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *handle);
CURLcode ccurl_easy_perform(CURL *handle);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line);
void ccurl_slist_free_all(struct curl_slist *list);

/// `curl_easy_setopt` for the options that take a `long`, a `curl_off_t` (the `…_LARGE` ones), a C string (curl
/// copies it), a pointer (`…DATA`, `CURLOPT_HTTPHEADER`), a write or header callback, the read callback.
CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback callback);
CURLcode ccurl_setopt_read_function(CURL *handle, curl_read_callback callback);

/// `curl_easy_getinfo` for the infos that give a `long` (`CURLINFO_RESPONSE_CODE`) or a `curl_off_t`.
CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);

#endif
