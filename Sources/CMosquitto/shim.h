// SPDX-License-Identifier: Apache-2.0
#include <mosquitto.h>

// The types and constants of <mosquitto.h> for MeterMQTT. No call is linked: MeterMQTT loads libmosquitto.so.1 with
// dlopen when MQTT is enabled (Sources/MeterMQTT/Mosquitto/MosquittoClient.swift says why), so the module map has no
// `link` line and Package.swift no pkgConfig (pkg-config's `--libs` would link it into every start).

/// `MQTT_PROTOCOL_V311` (4): MQTT 3.1.1, what every broker (mosquitto, EMQX, HiveMQ, Home Assistant's add-on) speaks.
static inline int cmosquitto_protocol_v311(void) { return MQTT_PROTOCOL_V311; }
