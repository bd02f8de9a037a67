// Declaration-only stand-in for knolleary/pubsubclient v2.8 (docs/DEVICE.md,
// "PubSubClient 2.8").
// Test use only: checks our code, not the real library.

#ifndef ESPMQTT_TEST_PUBSUBCLIENT_H
#define ESPMQTT_TEST_PUBSUBCLIENT_H

#include "Arduino.h"
#include "ESP8266WiFi.h"

#define MQTT_CONNECTION_TIMEOUT -4
#define MQTT_CONNECTION_LOST -3
#define MQTT_CONNECT_FAILED -2
#define MQTT_DISCONNECTED -1
#define MQTT_CONNECTED 0

#define MQTT_CALLBACK_SIGNATURE std::function<void(char*, uint8_t*, unsigned int)> callback

class PubSubClient {
 public:
  PubSubClient();
  PubSubClient(Client& client);
  PubSubClient& setServer(const char* domain, uint16_t port);
  PubSubClient& setCallback(MQTT_CALLBACK_SIGNATURE);
  PubSubClient& setClient(Client& client);
  PubSubClient& setKeepAlive(uint16_t keepAlive);
  PubSubClient& setSocketTimeout(uint16_t timeout);
  boolean setBufferSize(uint16_t size);
  uint16_t getBufferSize();
  boolean connect(const char* id);
  boolean connect(const char* id, const char* user, const char* pass);
  boolean connect(const char* id, const char* willTopic, uint8_t willQos, boolean willRetain,
                  const char* willMessage);
  boolean connect(const char* id, const char* user, const char* pass, const char* willTopic,
                  uint8_t willQos, boolean willRetain, const char* willMessage);
  boolean connect(const char* id, const char* user, const char* pass, const char* willTopic,
                  uint8_t willQos, boolean willRetain, const char* willMessage,
                  boolean cleanSession);
  void disconnect();
  boolean publish(const char* topic, const char* payload);
  boolean publish(const char* topic, const char* payload, boolean retained);
  boolean publish(const char* topic, const uint8_t* payload, unsigned int plength);
  boolean publish(const char* topic, const uint8_t* payload, unsigned int plength,
                  boolean retained);
  boolean subscribe(const char* topic);
  boolean subscribe(const char* topic, uint8_t qos);
  boolean unsubscribe(const char* topic);
  boolean loop();
  boolean connected();
  int state();
};

#endif
