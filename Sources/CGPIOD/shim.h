// SPDX-License-Identifier: Apache-2.0
// One neutral API over libgpiod 1.6 (Debian 12) and 2.x (Debian 13), chosen at compile time.
//
// Neither <gpiod.h> has a version macro; only v1 defines GPIOD_LINE_BULK_MAX_LINES (platform.md §1.1).
// Each function below is one libgpiod call, or for v2 the settings → config → request sequence that
// replaces that call; no policy lives here. Every function that fails returns NULL or -1 with errno set
// by libgpiod or the kernel.
//
// Ownership: a cgpiod_chip must stay open until all cgpiod_line handles requested from it are released
// (v1 releases a chip's lines when the chip closes; v2 would not, but callers keep the v1 rule).
// Handles are not thread-safe; callers serialise access to each one.
#ifndef CGPIOD_SHIM_H
#define CGPIOD_SHIM_H

#include <gpiod.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(GPIOD_LINE_BULK_MAX_LINES)
#define CGPIOD_API_V1 1
#else
#define CGPIOD_API_V2 1
#include <dirent.h>
#endif

/// Line bias, neutral between v1 request flags and the v2 settings enum (which disagree on
/// GPIOD_LINE_BIAS_PULL_UP: 3 in v1's line-info enum, 4 in v2's settings enum).
enum {
    CGPIOD_BIAS_AS_IS = 0,
    CGPIOD_BIAS_DISABLED = 1,
    CGPIOD_BIAS_PULL_UP = 2,
    CGPIOD_BIAS_PULL_DOWN = 3,
};

/// Which edges of an input produce events.
enum {
    CGPIOD_EDGE_NONE = 0,
    CGPIOD_EDGE_RISING = 1,
    CGPIOD_EDGE_FALLING = 2,
    CGPIOD_EDGE_BOTH = 3,
};

/// An open GPIO chip, with its identity copied at open time.
typedef struct cgpiod_chip {
    struct gpiod_chip *chip;
    char name[32];
    char label[32];
    unsigned int num_lines;
} cgpiod_chip;

/// One requested line.
typedef struct cgpiod_line {
#if defined(CGPIOD_API_V1)
    struct gpiod_line *line;
#else
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *events;
#endif
    unsigned int offset;
} cgpiod_line;

/// The libgpiod major API this shim was compiled against: 1 or 2.
static inline int cgpiod_api_version(void) {
#if defined(CGPIOD_API_V1)
    return 1;
#else
    return 2;
#endif
}

/// The library's version string, e.g. "1.6.3" (v1 `gpiod_version_string`) or "2.2.1" (v2 `gpiod_api_version`).
static inline const char *cgpiod_library_version(void) {
#if defined(CGPIOD_API_V1)
    return gpiod_version_string();
#else
    return gpiod_api_version();
#endif
}

/// Closes a chip (`gpiod_chip_close`); NULL is ignored.
static inline void cgpiod_close_chip(cgpiod_chip *chip) {
    if (chip == NULL) return;
    int saved = errno;
    if (chip->chip != NULL) gpiod_chip_close(chip->chip);
    free(chip);
    errno = saved;
}

/// Wraps an open libgpiod chip, copying name, label and line count
/// (v1 `gpiod_chip_name/label/num_lines`; v2 `gpiod_chip_get_info` + `gpiod_chip_info_get_*`).
static inline cgpiod_chip *cgpiod__wrap_chip(struct gpiod_chip *raw) {
    if (raw == NULL) return NULL;
    cgpiod_chip *chip = calloc(1, sizeof *chip);
    if (chip == NULL) { gpiod_chip_close(raw); errno = ENOMEM; return NULL; }
    chip->chip = raw;
#if defined(CGPIOD_API_V1)
    snprintf(chip->name, sizeof chip->name, "%s", gpiod_chip_name(raw));
    snprintf(chip->label, sizeof chip->label, "%s", gpiod_chip_label(raw));
    chip->num_lines = gpiod_chip_num_lines(raw);
#else
    struct gpiod_chip_info *info = gpiod_chip_get_info(raw);
    if (info == NULL) { cgpiod_close_chip(chip); return NULL; }
    snprintf(chip->name, sizeof chip->name, "%s", gpiod_chip_info_get_name(info));
    snprintf(chip->label, sizeof chip->label, "%s", gpiod_chip_info_get_label(info));
    chip->num_lines = (unsigned int)gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
#endif
    return chip;
}

/// Opens a chip by device path, e.g. "/dev/gpiochip0" (`gpiod_chip_open` in both versions).
static inline cgpiod_chip *cgpiod_open_chip(const char *path) {
    return cgpiod__wrap_chip(gpiod_chip_open(path));
}

/// Opens the chip whose label is `label`, e.g. "pinctrl-bcm2711"; errno ENOENT if none has it.
/// v1: `gpiod_chip_open_by_label`. v2 has no such call: walks /dev for gpiochip devices
/// (`gpiod_is_gpiochip_device`) and compares each chip's label.
static inline cgpiod_chip *cgpiod_open_chip_by_label(const char *label) {
#if defined(CGPIOD_API_V1)
    return cgpiod__wrap_chip(gpiod_chip_open_by_label(label));
#else
    DIR *dev = opendir("/dev");
    if (dev == NULL) return NULL;
    struct dirent *entry;
    while ((entry = readdir(dev)) != NULL) {
        if (strncmp(entry->d_name, "gpiochip", 8) != 0) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", entry->d_name);
        if (!gpiod_is_gpiochip_device(path)) continue;
        cgpiod_chip *chip = cgpiod_open_chip(path);
        if (chip == NULL) continue;
        if (strcmp(chip->label, label) == 0) { closedir(dev); return chip; }
        cgpiod_close_chip(chip);
    }
    closedir(dev);
    errno = ENOENT;
    return NULL;
#endif
}

/// The chip's name, e.g. "gpiochip0".
static inline const char *cgpiod_chip_name(const cgpiod_chip *chip) { return chip->name; }
/// The chip's label, e.g. "pinctrl-bcm2711".
static inline const char *cgpiod_chip_label(const cgpiod_chip *chip) { return chip->label; }
/// The number of lines the chip has.
static inline unsigned int cgpiod_chip_num_lines(const cgpiod_chip *chip) { return chip->num_lines; }

#if defined(CGPIOD_API_V1)
/// v1 request flags for a neutral bias.
static inline int cgpiod__bias_flags(int bias) {
    switch (bias) {
    case CGPIOD_BIAS_DISABLED: return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
    case CGPIOD_BIAS_PULL_UP: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case CGPIOD_BIAS_PULL_DOWN: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    default: return 0;
    }
}
#else
/// v2 settings enum for a neutral bias.
static inline enum gpiod_line_bias cgpiod__bias(int bias) {
    switch (bias) {
    case CGPIOD_BIAS_DISABLED: return GPIOD_LINE_BIAS_DISABLED;
    case CGPIOD_BIAS_PULL_UP: return GPIOD_LINE_BIAS_PULL_UP;
    case CGPIOD_BIAS_PULL_DOWN: return GPIOD_LINE_BIAS_PULL_DOWN;
    default: return GPIOD_LINE_BIAS_AS_IS;
    }
}

/// v2 settings enum for a neutral edge choice.
static inline enum gpiod_line_edge cgpiod__edge(int edge) {
    switch (edge) {
    case CGPIOD_EDGE_RISING: return GPIOD_LINE_EDGE_RISING;
    case CGPIOD_EDGE_FALLING: return GPIOD_LINE_EDGE_FALLING;
    case CGPIOD_EDGE_BOTH: return GPIOD_LINE_EDGE_BOTH;
    default: return GPIOD_LINE_EDGE_NONE;
    }
}

/// v2: settings → line config → request config → `gpiod_chip_request_lines`, for one offset.
/// `settings` is consumed (freed) in every case.
static inline struct gpiod_line_request *cgpiod__request(cgpiod_chip *chip, unsigned int offset, const char *consumer,
                                                         struct gpiod_line_settings *settings) {
    struct gpiod_line_request *request = NULL;
    struct gpiod_line_config *line_cfg = gpiod_line_config_new();
    struct gpiod_request_config *req_cfg = gpiod_request_config_new();
    if (line_cfg != NULL && req_cfg != NULL &&
        gpiod_line_config_add_line_settings(line_cfg, &offset, 1, settings) == 0) {
        gpiod_request_config_set_consumer(req_cfg, consumer);
        request = gpiod_chip_request_lines(chip->chip, req_cfg, line_cfg);
    }
    int saved = errno;
    gpiod_request_config_free(req_cfg);
    gpiod_line_config_free(line_cfg);
    gpiod_line_settings_free(settings);
    errno = saved;
    return request;
}
#endif

/// Wraps a requested line, or returns NULL with errno kept.
static inline cgpiod_line *cgpiod__new_line(unsigned int offset) {
    cgpiod_line *line = calloc(1, sizeof *line);
    if (line == NULL) { errno = ENOMEM; return NULL; }
    line->offset = offset;
    return line;
}

/// Releases a line (v1 `gpiod_line_release`, v2 `gpiod_line_request_release`); NULL is ignored.
static inline void cgpiod_release(cgpiod_line *line) {
    if (line == NULL) return;
    int saved = errno;
#if defined(CGPIOD_API_V1)
    if (line->line != NULL) gpiod_line_release(line->line);
#else
    if (line->events != NULL) gpiod_edge_event_buffer_free(line->events);
    if (line->request != NULL) gpiod_line_request_release(line->request);
#endif
    free(line);
    errno = saved;
}

/// Requests `offset` as an output driven to `initial` (0 or 1).
/// v1 `gpiod_line_request_output`; v2 direction OUTPUT + `gpiod_line_settings_set_output_value`.
static inline cgpiod_line *cgpiod_request_output(cgpiod_chip *chip, unsigned int offset, const char *consumer,
                                                 int initial) {
    cgpiod_line *line = cgpiod__new_line(offset);
    if (line == NULL) return NULL;
#if defined(CGPIOD_API_V1)
    line->line = gpiod_chip_get_line(chip->chip, offset);
    if (line->line == NULL || gpiod_line_request_output(line->line, consumer, initial ? 1 : 0) != 0) {
        line->line = NULL;
        cgpiod_release(line);
        return NULL;
    }
#else
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings == NULL) { cgpiod_release(line); return NULL; }
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_output_value(settings, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    line->request = cgpiod__request(chip, offset, consumer, settings);
    if (line->request == NULL) { cgpiod_release(line); return NULL; }
#endif
    return line;
}

/// Requests `offset` as an input with a bias (CGPIOD_BIAS_*) and edge events (CGPIOD_EDGE_*).
/// v1 `gpiod_line_request_input_flags` or `gpiod_line_request_{rising,falling,both}_edge_events_flags`;
/// v2 direction INPUT + `gpiod_line_settings_set_bias` + `gpiod_line_settings_set_edge_detection`.
static inline cgpiod_line *cgpiod_request_input(cgpiod_chip *chip, unsigned int offset, const char *consumer,
                                                int bias, int edge) {
    cgpiod_line *line = cgpiod__new_line(offset);
    if (line == NULL) return NULL;
#if defined(CGPIOD_API_V1)
    line->line = gpiod_chip_get_line(chip->chip, offset);
    int flags = cgpiod__bias_flags(bias), result = -1;
    if (line->line != NULL) {
        switch (edge) {
        case CGPIOD_EDGE_RISING:
            result = gpiod_line_request_rising_edge_events_flags(line->line, consumer, flags); break;
        case CGPIOD_EDGE_FALLING:
            result = gpiod_line_request_falling_edge_events_flags(line->line, consumer, flags); break;
        case CGPIOD_EDGE_BOTH:
            result = gpiod_line_request_both_edges_events_flags(line->line, consumer, flags); break;
        default:
            result = gpiod_line_request_input_flags(line->line, consumer, flags); break;
        }
    }
    if (result != 0) { line->line = NULL; cgpiod_release(line); return NULL; }
#else
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings == NULL) { cgpiod_release(line); return NULL; }
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_bias(settings, cgpiod__bias(bias));
    gpiod_line_settings_set_edge_detection(settings, cgpiod__edge(edge));
    if (edge != CGPIOD_EDGE_NONE) {
        line->events = gpiod_edge_event_buffer_new(1);
        if (line->events == NULL) { gpiod_line_settings_free(settings); cgpiod_release(line); return NULL; }
    }
    line->request = cgpiod__request(chip, offset, consumer, settings);
    if (line->request == NULL) { cgpiod_release(line); return NULL; }
#endif
    return line;
}

/// Drives an output to 0 or 1 (v1 `gpiod_line_set_value`, v2 `gpiod_line_request_set_value`). 0 or -1.
static inline int cgpiod_set(cgpiod_line *line, int value) {
#if defined(CGPIOD_API_V1)
    return gpiod_line_set_value(line->line, value ? 1 : 0);
#else
    return gpiod_line_request_set_value(line->request, line->offset,
                                        value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
#endif
}

/// Reads a line: 0, 1, or -1 (v1 `gpiod_line_get_value`, v2 `gpiod_line_request_get_value`).
static inline int cgpiod_get(cgpiod_line *line) {
#if defined(CGPIOD_API_V1)
    return gpiod_line_get_value(line->line);
#else
    enum gpiod_line_value value = gpiod_line_request_get_value(line->request, line->offset);
    return value == GPIOD_LINE_VALUE_ERROR ? -1 : (value == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0);
#endif
}

/// The descriptor that becomes readable when an edge event is pending, for poll(2)
/// (v1 `gpiod_line_event_get_fd`, v2 `gpiod_line_request_get_fd`). -1 if the line has no events.
static inline int cgpiod_event_fd(cgpiod_line *line) {
#if defined(CGPIOD_API_V1)
    return gpiod_line_event_get_fd(line->line);
#else
    if (line->events == NULL) { errno = EPERM; return -1; }
    return gpiod_line_request_get_fd(line->request);
#endif
}

/// Waits up to `timeout_ns` (negative: forever) for an edge event: 1 pending, 0 timeout, -1 error.
/// v1 `gpiod_line_event_wait`, v2 `gpiod_line_request_wait_edge_events`. Blocks the calling thread.
static inline int cgpiod_wait_event(cgpiod_line *line, int64_t timeout_ns) {
#if defined(CGPIOD_API_V1)
    if (timeout_ns < 0) return gpiod_line_event_wait(line->line, NULL);
    struct timespec timeout = { .tv_sec = (time_t)(timeout_ns / 1000000000), .tv_nsec = (long)(timeout_ns % 1000000000) };
    return gpiod_line_event_wait(line->line, &timeout);
#else
    if (line->events == NULL) { errno = EPERM; return -1; }
    return gpiod_line_request_wait_edge_events(line->request, timeout_ns);
#endif
}

/// Reads one pending edge event (blocks if none): `*rising` 1 for a rising edge, 0 for falling; `*ts_ns` the
/// kernel's timestamp (CLOCK_MONOTONIC, not wall time). 0 or -1.
/// v1 `gpiod_line_event_read`, v2 `gpiod_line_request_read_edge_events` + `gpiod_edge_event_get_*`.
static inline int cgpiod_read_event(cgpiod_line *line, int *rising, uint64_t *ts_ns) {
#if defined(CGPIOD_API_V1)
    struct gpiod_line_event event;
    if (gpiod_line_event_read(line->line, &event) != 0) return -1;
    *rising = event.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    *ts_ns = (uint64_t)event.ts.tv_sec * 1000000000u + (uint64_t)event.ts.tv_nsec;
    return 0;
#else
    if (line->events == NULL) { errno = EPERM; return -1; }
    if (gpiod_line_request_read_edge_events(line->request, line->events, 1) != 1) return -1;
    struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(line->events, 0);
    if (event == NULL) return -1;
    *rising = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE;
    *ts_ns = gpiod_edge_event_get_timestamp_ns(event);
    return 0;
#endif
}

#endif
