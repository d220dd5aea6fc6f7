// SPDX-License-Identifier: Apache-2.0
// libmodbus (Debian libmodbus-dev, 3.1.6 on bookworm): framing, replies and exceptions of the Modbus TCP server,
// confined to MeterModbus. Everything the server calls imports as is: no shim functions are needed.
#include <modbus.h>
