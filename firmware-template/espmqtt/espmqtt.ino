// espmqtt firmware: MQTT over TLS for ESP8266 (ESP-07 / ESP-07S).
//
// Everything happens in app.cpp; this file exists because the Arduino tools
// want a sketch named after its folder. Per-device settings come from the
// config blob in flash (../CONFIG_FORMAT.md); status lines are documented in
// ../STATUS_LINES.md.

#include "app.h"

void setup() { app_setup(); }

void loop() { app_loop(); }
