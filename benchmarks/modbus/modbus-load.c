// SPDX-License-Identifier: Apache-2.0
// A Modbus TCP load generator for `make bench-modbus`: N clients, each a thread with its own libmodbus connection,
// reading holding registers back to back for a fixed time. Prints one JSON object: requests, errors, requests/s and
// latency percentiles. C and libmodbus, so that the client is not what limits the figure (pymodbus, in the process
// test, is: the GIL).
//
// Usage: modbus-load HOST PORT CLIENTS SECONDS [ADDRESS COUNT]...   (default: 19000 44, 20000 74, 19018 2 in turn)
#include <errno.h>
#include <modbus.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { int address, count; } range_t;

static const char *host;
static int port;
static double seconds;
static range_t ranges[16];
static int range_count;

typedef struct {
    long requests, errors, connect_failures;
    uint32_t *latency_us;
    size_t latencies, capacity;
} worker_t;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *work(void *arg) {
    worker_t *w = arg;
    uint16_t registers[125];
    modbus_t *ctx = modbus_new_tcp(host, port);
    if (ctx == NULL || modbus_connect(ctx) == -1) {
        w->connect_failures++;
        if (ctx) modbus_free(ctx);
        return NULL;
    }
    modbus_set_response_timeout(ctx, 5, 0);
    double end = now() + seconds;
    for (long n = 0;; n++) {
        double t0 = now();
        if (t0 >= end) break;
        range_t r = ranges[n % range_count];
        int got = modbus_read_registers(ctx, r.address, r.count, registers);
        double t1 = now();
        w->requests++;
        if (got != r.count) w->errors++;
        if (w->latencies == w->capacity) {
            w->capacity = w->capacity ? 2 * w->capacity : 65536;
            w->latency_us = realloc(w->latency_us, w->capacity * sizeof *w->latency_us);
        }
        w->latency_us[w->latencies++] = (uint32_t)((t1 - t0) * 1e6);
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return NULL;
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 5 || (argc - 5) % 2 != 0) {
        fprintf(stderr, "usage: %s HOST PORT CLIENTS SECONDS [ADDRESS COUNT]...\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int clients = atoi(argv[3]);
    seconds = atof(argv[4]);
    for (int i = 5; i + 1 < argc && range_count < 16; i += 2) ranges[range_count++] = (range_t){atoi(argv[i]), atoi(argv[i + 1])};
    if (range_count == 0) {
        ranges[0] = (range_t){19000, 44};
        ranges[1] = (range_t){20000, 74};
        ranges[2] = (range_t){19018, 2};
        range_count = 3;
    }
    worker_t *workers = calloc(clients, sizeof *workers);
    pthread_t *threads = calloc(clients, sizeof *threads);
    double t0 = now();
    for (int i = 0; i < clients; i++) pthread_create(&threads[i], NULL, work, &workers[i]);
    for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
    double elapsed = now() - t0;

    long requests = 0, errors = 0, failures = 0;
    size_t total = 0;
    for (int i = 0; i < clients; i++) {
        requests += workers[i].requests; errors += workers[i].errors; failures += workers[i].connect_failures;
        total += workers[i].latencies;
    }
    uint32_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, workers[i].latency_us, workers[i].latencies * sizeof *all);
        k += workers[i].latencies;
    }
    qsort(all, total, sizeof *all, compare);
#define PCT(p) (total ? all[(size_t)((p) * (total - 1))] / 1000.0 : 0)
    printf("{\"clients\": %d, \"seconds\": %.3f, \"requests\": %ld, \"errors\": %ld, \"connect_failures\": %ld, "
           "\"requests_per_s\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
           clients, elapsed, requests, errors, failures, requests / elapsed, PCT(0.5), PCT(0.9), PCT(0.99),
           total ? all[total - 1] / 1000.0 : 0);
    return errors || failures ? 1 : 0;
}
