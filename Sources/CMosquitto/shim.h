// SPDX-License-Identifier: Apache-2.0
#include <mosquitto.h>

// Everything MeterMQTT calls in <mosquitto.h> imports into Swift as it is (no variadic functions or function-like
// macros); only the protocol-version constant is a macro of an expression-free integer, repeated here as a function
// so that the shim names what it supplies.

/// `MQTT_PROTOCOL_V311` (4): MQTT 3.1.1, what every broker (mosquitto, EMQX, HiveMQ, Home Assistant's add-on) speaks.
static inline int cmosquitto_protocol_v311(void) { return MQTT_PROTOCOL_V311; }
