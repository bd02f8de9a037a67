// Declaration-only stand-in for the esp8266/Arduino core 3.1.x `Arduino.h`,
// used by the tests to run `g++ -fsyntax-only` over the rendered sketch.
// Signatures follow docs/DEVICE.md ("TLS configuration of WiFiClientSecure",
// "PubSubClient 2.8", "Wi-Fi status values", "Clock"). This checks
// OUR code against the API we rely on; it does not check the real core.

#ifndef ESPMQTT_TEST_ARDUINO_H
#define ESPMQTT_TEST_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <functional>

typedef bool boolean;

class __FlashStringHelper;
#define F(string_literal) (reinterpret_cast<const __FlashStringHelper*>(string_literal))

class String {
 public:
  String(const char* s = "");
  const char* c_str() const;
  unsigned int length() const;
};

class Print {
 public:
  size_t print(const __FlashStringHelper*);
  size_t print(const String&);
  size_t print(const char[]);
  size_t print(char);
  size_t print(unsigned char, int = 10);
  size_t print(int, int = 10);
  size_t print(unsigned int, int = 10);
  size_t print(long, int = 10);
  size_t print(unsigned long, int = 10);
  size_t println(const char[]);
  size_t println(void);
  size_t write(uint8_t);
};

class HardwareSerial : public Print {
 public:
  void begin(unsigned long baud);
};
extern HardwareSerial Serial;

class EspClass {
 public:
  uint32_t getFreeHeap();
  uint32_t getMaxFreeBlockSize();
  uint8_t getHeapFragmentation();
  uint32_t getChipId();
  uint32_t getFlashChipRealSize();
  uint32_t getFlashChipSize();
  String getResetReason();
  String getCoreVersion();
  bool flashEraseSector(uint32_t sector);
  bool flashWrite(uint32_t address, const uint32_t* data, size_t size);
  bool flashRead(uint32_t address, uint32_t* data, size_t size);
  uint32_t random() const;
  void restart();
};
extern EspClass ESP;

unsigned long millis(void);
void delay(unsigned long);
void yield(void);

// cores/esp8266/Arduino.h L272-302 (docs/DEVICE.md, "Clock").
void configTime(int timezone, int daylightOffset_sec, const char* server1,
                const char* server2 = nullptr, const char* server3 = nullptr);
void configTime(const char* tz, const char* server1, const char* server2 = nullptr,
                const char* server3 = nullptr);

#endif
