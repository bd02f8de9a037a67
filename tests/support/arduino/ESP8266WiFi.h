// Declaration-only stand-in for ESP8266WiFi.h (core 3.1.x; docs/DEVICE.md,
// "Wi-Fi status values").
// Test use only: checks our code, not the real core.

#ifndef ESPMQTT_TEST_ESP8266WIFI_H
#define ESPMQTT_TEST_ESP8266WIFI_H

#include "Arduino.h"

class IPAddress {
 public:
  String toString() const;
};

typedef enum {
  WL_NO_SHIELD = 255,
  WL_IDLE_STATUS = 0,
  WL_NO_SSID_AVAIL = 1,
  WL_SCAN_COMPLETED = 2,
  WL_CONNECTED = 3,
  WL_CONNECT_FAILED = 4,
  WL_CONNECTION_LOST = 5,
  WL_WRONG_PASSWORD = 6,
  WL_DISCONNECTED = 7
} wl_status_t;

typedef enum WiFiMode { WIFI_OFF = 0, WIFI_STA = 1, WIFI_AP = 2, WIFI_AP_STA = 3 } WiFiMode_t;

class Client {
 public:
  virtual ~Client() {}
  virtual int connect(const char* host, uint16_t port) = 0;
  virtual uint8_t connected() = 0;
  virtual void stop() = 0;
};

class ESP8266WiFiClass {
 public:
  bool mode(WiFiMode_t m);
  void persistent(bool persistent);
  wl_status_t begin(const char* ssid, const char* passphrase = NULL, int32_t channel = 0,
                    const uint8_t* bssid = NULL, bool connect = true);
  int8_t waitForConnectResult(unsigned long timeoutLength = 60000);
  wl_status_t status();
  bool disconnect(bool wifioff = false);
  bool setAutoReconnect(bool autoReconnect);
  bool reconnect();
  bool isConnected();
  IPAddress localIP();
  int32_t RSSI();
  int32_t channel();
  String BSSIDstr();
  String macAddress();
};
extern ESP8266WiFiClass WiFi;

#include "WiFiClientSecure.h"

#endif
