// Declaration-only stand-in for the BearSSL client of core 3.1.x
// (WiFiClientSecureBearSSL.h, BearSSLHelpers.h; docs/DEVICE.md, "TLS
// configuration of WiFiClientSecure").
// Test use only: checks our code, not the real core.

#ifndef ESPMQTT_TEST_WIFICLIENTSECURE_H
#define ESPMQTT_TEST_WIFICLIENTSECURE_H

#include "ESP8266WiFi.h"

#define BR_KEYTYPE_RSA 1
#define BR_KEYTYPE_EC 2
#define BR_KEYTYPE_KEYX 0x10
#define BR_KEYTYPE_SIGN 0x20
#define BR_TLS10 0x0301
#define BR_TLS11 0x0302
#define BR_TLS12 0x0303

// bearssl_ec.h
typedef struct {
  int curve;
  unsigned char* q;
  size_t qlen;
} br_ec_public_key;

namespace BearSSL {

class X509List {
 public:
  X509List();
  X509List(const char* pemCert);
  X509List(const uint8_t* derCert, size_t derLen);
  bool append(const char* pemCert);
  bool append(const uint8_t* derCert, size_t derLen);
  size_t getCount() const;
};

class PublicKey {
 public:
  PublicKey();
  PublicKey(const char* pemKey);
  PublicKey(const uint8_t* derKey, size_t derLen);
  bool parse(const char* pemKey);
  bool parse(const uint8_t* derKey, size_t derLen);
  bool isRSA() const;
  bool isEC() const;
  const br_ec_public_key* getEC() const;
};

class PrivateKey {
 public:
  PrivateKey();
  PrivateKey(const char* pemKey);
  PrivateKey(const uint8_t* derKey, size_t derLen);
  bool isRSA() const;
  bool isEC() const;
};

class WiFiClientSecure : public Client {
 public:
  WiFiClientSecure();
  int connect(const char* name, uint16_t port) override;
  uint8_t connected() override;
  void stop() override;
  void setInsecure();
  void setKnownKey(const PublicKey* pk, unsigned usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
  bool setFingerprint(const uint8_t fingerprint[20]);
  bool setFingerprint(const char* fpStr);
  void allowSelfSignedCerts();
  void setTrustAnchors(const X509List* ta);
  void setX509Time(time_t now);
  void setClientRSACert(const X509List* cert, const PrivateKey* sk);
  void setClientECCert(const X509List* cert, const PrivateKey* sk, unsigned allowed_usages,
                       unsigned cert_issuer_key_type);
  void setBufferSizes(int recv, int xmit);
  int getMFLNStatus();
  int getLastSSLError(char* dest = NULL, size_t len = 0);
  bool setSSLVersion(uint32_t min = BR_TLS10, uint32_t max = BR_TLS12);
};

}  // namespace BearSSL

using namespace BearSSL;

#endif
