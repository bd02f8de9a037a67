//! Number → name tables the console decoders need: ROM reset causes and boot
//! modes, Xtensa exception causes, `wl_status_t`, PubSubClient states,
//! BearSSL error codes and TLS alert numbers.
//!
//! Each table cites the reference it was copied from, so a reader can check
//! a surprising explanation against its source.

/// ROM `rst cause:N` (docs/DEVICE.md, "Boot modes and reset", from
/// esp8266/Arduino `doc/boards.rst`;
/// the esptool docs agree on 1, 2 and 4).
pub fn reset_cause(n: u32) -> (&'static str, &'static str) {
    match n {
        0 => ("unknown", "the ROM did not record why the chip restarted"),
        1 => (
            "power-on",
            "the module was powered up (or the supply dipped low enough to look like it)",
        ),
        2 => (
            "external reset",
            "the reset pin was pulled low (RTS, a button) or the firmware crashed and the core restarted the chip",
        ),
        3 => ("software reset", "the firmware asked for a restart (ESP.restart())"),
        4 => (
            "watchdog",
            "a watchdog fired: code ran too long without yielding (delay(0)/yield()), or interrupts stayed off",
        ),
        5 => ("deep-sleep wake", "the chip woke from deep sleep (GPIO16 wired to RST)"),
        _ => ("unrecognised", "not a reset cause the ESP8266 ROM is known to print"),
    }
}

/// Boot mode from the first number of `boot mode:(x,y)`: the low three bits
/// are {GPIO15, GPIO0, GPIO2} (docs/DEVICE.md, "Boot modes and reset").
pub fn boot_mode(x: u32) -> (&'static str, &'static str) {
    match x & 7 {
        1 => (
            "uart download",
            "GPIO0 was low at reset, so the ROM serial loader runs instead of the firmware",
        ),
        3 => (
            "flash boot",
            "GPIO0 and GPIO2 were high and GPIO15 low: the module boots the firmware from flash",
        ),
        4..=7 => (
            "sdio",
            "GPIO15 was high at reset: SDIO boot, the ROM waits for a host and never runs the firmware",
        ),
        _ => (
            "invalid",
            "GPIO2 was low at reset: not a valid boot strap, the chip will not start normally",
        ),
    }
}

/// Xtensa EXCCAUSE values as the Arduino core prints them in `Exception (N):`
/// (esp8266/Arduino `doc/exception_causes.rst`; Xtensa ISA EXCCAUSE table).
pub fn exception_cause(n: u32) -> (&'static str, &'static str) {
    match n {
        0 => (
            "IllegalInstruction",
            "the CPU fetched something that is not an instruction: a corrupt flash image, a jump through a bad function pointer, or code in flash called from an interrupt without ICACHE_RAM_ATTR/IRAM_ATTR",
        ),
        1 => ("Syscall", "a SYSCALL instruction ran"),
        2 => (
            "InstructionFetchError",
            "the CPU could not fetch an instruction: a jump to a bad address (corrupt function pointer, stack overwrite) or flash access while the cache is off",
        ),
        3 => (
            "LoadStoreError",
            "a load or store hit memory that does not allow it: usually an 8- or 16-bit access to IRAM/flash (PROGMEM data read without pgm_read_*), or a bad pointer",
        ),
        4 => ("Level1Interrupt", "a level-1 interrupt was taken as an exception"),
        5 => ("Alloca", "MOVSP with the caller's registers not in the register file"),
        6 => ("IntegerDivideByZero", "an integer division by zero"),
        7 => ("Reserved", "reserved exception cause"),
        8 => ("Privileged", "a privileged instruction ran in user mode"),
        9 => (
            "LoadStoreAlignment",
            "a load or store at an unaligned address: a 32-bit access through a pointer that is not 4-byte aligned (packed struct, cast of a byte buffer)",
        ),
        12 => ("InstrPIFDataError", "PIF data error during instruction fetch"),
        13 => ("LoadStorePIFDataError", "PIF data error during load or store"),
        14 => ("InstrPIFAddrError", "PIF address error during instruction fetch"),
        15 => ("LoadStorePIFAddrError", "PIF address error during load or store"),
        16 => ("InstTLBMiss", "instruction TLB miss"),
        17 => ("InstTLBMultiHit", "instruction TLB multi-hit"),
        18 => ("InstFetchPrivilege", "instruction fetch privilege violation"),
        20 => (
            "InstFetchProhibited",
            "an instruction fetch from a region that forbids it: a call through a null or freed function pointer",
        ),
        24 => ("LoadStoreTLBMiss", "load/store TLB miss"),
        25 => ("LoadStoreTLBMultiHit", "load/store TLB multi-hit"),
        26 => ("LoadStorePrivilege", "load/store privilege violation"),
        28 => (
            "LoadProhibited",
            "a read from an address nothing is mapped at: almost always a null or dangling pointer (see excvaddr: a small value means a field read through a null pointer)",
        ),
        29 => (
            "StoreProhibited",
            "a write to an address nothing is mapped at: a null or dangling pointer, or a write past the end of a buffer",
        ),
        _ => ("Unknown", "not an exception cause the ESP8266 is known to raise"),
    }
}

/// `wl_status_t` (docs/DEVICE.md, "Wi-Fi status values") plus the template's
/// `-1` = timeout (firmware STATUS_LINES.md, `wifi_failed`).
pub fn wifi_status(n: i64) -> (&'static str, &'static str) {
    match n {
        -1 => (
            "timeout",
            "no Wi-Fi result within the attempt's time limit; the access point may be out of range or slow to answer. Check the signal and the SSID",
        ),
        0 => ("WL_IDLE_STATUS", "the station is still changing state; wait or check the SSID"),
        1 => (
            "WL_NO_SSID_AVAIL",
            "the access point was not found: check the SSID spelling in espmqtt.toml [wifi], that it broadcasts on 2.4 GHz (the ESP8266 has no 5 GHz radio), and the antenna (ESP-07S needs an external antenna on its IPEX connector)",
        ),
        2 => ("WL_SCAN_COMPLETED", "a scan finished; not an error by itself"),
        3 => ("WL_CONNECTED", "connected"),
        4 => (
            "WL_CONNECT_FAILED",
            "the association failed: usually a wrong password or an access point that refuses the station (MAC filter, WPA3-only network)",
        ),
        5 => ("WL_CONNECTION_LOST", "the link to the access point dropped; weak signal or AP restart"),
        6 => (
            "WL_WRONG_PASSWORD",
            "the access point rejected the password: fix [wifi] password in espmqtt.toml (or the env variable it names) and flash the config again",
        ),
        7 => (
            "WL_DISCONNECTED",
            "not associated: the station gave up or is not configured; check SSID, password and signal",
        ),
        255 => ("WL_NO_SHIELD", "no Wi-Fi hardware answered; the radio is off or broken"),
        _ => ("unknown", "not a wl_status_t value"),
    }
}

/// PubSubClient `state()` (docs/DEVICE.md, "PubSubClient states").
pub fn mqtt_state(n: i64) -> (&'static str, &'static str) {
    match n {
        -4 => (
            "MQTT_CONNECTION_TIMEOUT",
            "no answer from the broker in time (no CONNACK, or keepalive expired): check the broker is up and reachable, and the port",
        ),
        -3 => (
            "MQTT_CONNECTION_LOST",
            "the network connection broke: Wi-Fi dropped, the broker closed the socket, or the broker's records do not fit the TLS buffers (see mfln)",
        ),
        -2 => (
            "MQTT_CONNECT_FAILED",
            "the network (TCP or TLS) connection could not be made; ssl_error says whether TLS was the problem",
        ),
        -1 => ("MQTT_DISCONNECTED", "cleanly disconnected"),
        0 => ("MQTT_CONNECTED", "connected"),
        1 => (
            "MQTT_CONNECT_BAD_PROTOCOL",
            "the broker does not speak MQTT 3.1.1; enable it on the broker",
        ),
        2 => (
            "MQTT_CONNECT_BAD_CLIENT_ID",
            "the broker refused the client id; check the device's client_id and the broker's client id rules",
        ),
        3 => ("MQTT_CONNECT_UNAVAILABLE", "the broker cannot accept connections right now"),
        4 => (
            "MQTT_CONNECT_BAD_CREDENTIALS",
            "user name or password refused: re-export the broker password file (`espmqtt broker export`), reload the broker, or flash the device's current config",
        ),
        5 => (
            "MQTT_CONNECT_UNAUTHORIZED",
            "most often a wrong or rotated password (mosquitto answers 5, not 4, for a bad password): flash the device's current config (`espmqtt flash --device NAME --config-only`) or re-export the broker's password file and reload it; else the user is missing on the broker, or its ACL refuses this client id",
        ),
        _ => ("unknown", "not a PubSubClient state"),
    }
}

/// BearSSL engine and X.509 error codes (docs/DEVICE.md, "BearSSL error
/// numbers"; from bearssl_ssl.h and bearssl_x509.h).
pub fn bearssl_error(n: i64) -> Option<(&'static str, &'static str)> {
    Some(match n {
        0 => ("OK", "no TLS error recorded: the failure was DNS, TCP or MQTT (look at state)"),
        -1000 => (
            "OUT_OF_MEMORY",
            "BearSSL could not allocate its buffers: free heap or the largest block is too small. Use smaller TLS buffers (mfln = 512 in espmqtt.toml [tls]) if the broker supports max_fragment_length",
        ),
        1 => ("BR_ERR_BAD_PARAM", "a bad parameter was passed to BearSSL"),
        2 => ("BR_ERR_BAD_STATE", "BearSSL was called in the wrong state"),
        3 => (
            "BR_ERR_UNSUPPORTED_VERSION",
            "the broker chose a TLS version BearSSL does not support; BearSSL speaks TLS 1.0-1.2, not 1.3: allow TLS 1.2 on the broker",
        ),
        4 => ("BR_ERR_BAD_VERSION", "a record had an unexpected TLS version"),
        5 => ("BR_ERR_BAD_LENGTH", "a record or message had a bad length"),
        6 => (
            "BR_ERR_TOO_LARGE",
            "a record from the broker was larger than the receive buffer: the broker ignored max_fragment_length; use a larger rx buffer (mfln = 16384) or a broker that honours MFLN",
        ),
        7 => ("BR_ERR_BAD_MAC", "a record failed its integrity check (corruption or a broken middlebox)"),
        8 => ("BR_ERR_NO_RANDOM", "no random source was available"),
        9 => ("BR_ERR_UNKNOWN_TYPE", "a record of an unknown type arrived"),
        10 => ("BR_ERR_UNEXPECTED", "an unexpected message arrived (is the port really TLS?)"),
        12 => ("BR_ERR_BAD_CCS", "a bad ChangeCipherSpec"),
        13 => ("BR_ERR_BAD_ALERT", "a malformed alert"),
        14 => ("BR_ERR_BAD_HANDSHAKE", "a malformed handshake message"),
        15 => ("BR_ERR_OVERSIZED_ID", "the session id was too long"),
        16 => (
            "BR_ERR_BAD_CIPHER_SUITE",
            "the broker chose a cipher suite the client did not offer: allow a suite BearSSL supports (ECDHE-RSA/ECDSA with AES-GCM or CHACHA20)",
        ),
        17 => ("BR_ERR_BAD_COMPRESSION", "the broker chose compression"),
        18 => (
            "BR_ERR_BAD_FRAGLEN",
            "the broker answered max_fragment_length with a different value than requested",
        ),
        19 => ("BR_ERR_BAD_SECRENEG", "secure renegotiation failed"),
        20 => ("BR_ERR_EXTRA_EXTENSION", "the broker sent an extension the client did not ask for"),
        21 => ("BR_ERR_BAD_SNI", "bad server name indication"),
        22 => ("BR_ERR_BAD_HELLO_DONE", "a malformed ServerHelloDone"),
        23 => ("BR_ERR_LIMIT_EXCEEDED", "an internal limit was exceeded (chain or key too large)"),
        24 => ("BR_ERR_BAD_FINISHED", "the Finished message did not verify"),
        25 => ("BR_ERR_RESUME_MISMATCH", "session resumption parameters did not match"),
        26 => ("BR_ERR_INVALID_ALGORITHM", "an algorithm the client does not support was used"),
        27 => (
            "BR_ERR_BAD_SIGNATURE",
            "in pubkey mode: the pinned key does not match the broker's key (the broker's key changed: stage the new key with the device's update, or flash a config with the new key); otherwise the key exchange signature did not verify",
        ),
        28 => ("BR_ERR_WRONG_KEY_USAGE", "the server key may not be used this way"),
        29 => (
            "BR_ERR_NO_CLIENT_AUTH",
            "the broker asked for a client certificate and the device has none: give the device a client certificate or turn off require_certificate",
        ),
        31 => (
            "BR_ERR_IO",
            "the TCP connection failed during the handshake (broker closed it, or a timeout)",
        ),
        32 => ("BR_ERR_X509_OK", "X.509 validation succeeded"),
        33 => ("BR_ERR_X509_INVALID_VALUE", "a certificate holds an invalid value"),
        34 => ("BR_ERR_X509_TRUNCATED", "a certificate is truncated"),
        35 => ("BR_ERR_X509_EMPTY_CHAIN", "the broker sent no certificate"),
        36 => ("BR_ERR_X509_INNER_TRUNC", "a certificate element is truncated"),
        37 => ("BR_ERR_X509_BAD_TAG_CLASS", "a certificate has a bad ASN.1 tag class"),
        38 => ("BR_ERR_X509_BAD_TAG_VALUE", "a certificate has a bad ASN.1 tag"),
        39 => ("BR_ERR_X509_INDEFINITE_LENGTH", "a certificate uses indefinite length"),
        40 => ("BR_ERR_X509_EXTRA_ELEMENT", "a certificate has an extraneous element"),
        41 => ("BR_ERR_X509_UNEXPECTED", "a certificate has an unexpected element"),
        42 => ("BR_ERR_X509_NOT_CONSTRUCTED", "a certificate element should be constructed"),
        43 => ("BR_ERR_X509_NOT_PRIMITIVE", "a certificate element should be primitive"),
        44 => ("BR_ERR_X509_PARTIAL_BYTE", "a BIT STRING is not a whole number of bytes"),
        45 => ("BR_ERR_X509_BAD_BOOLEAN", "a certificate has a bad BOOLEAN"),
        46 => ("BR_ERR_X509_OVERFLOW", "a certificate value overflows"),
        47 => ("BR_ERR_X509_BAD_DN", "a certificate has a malformed distinguished name"),
        48 => ("BR_ERR_X509_BAD_TIME", "a certificate has a malformed date"),
        49 => ("BR_ERR_X509_UNSUPPORTED", "a certificate uses an unsupported feature"),
        50 => ("BR_ERR_X509_LIMIT_EXCEEDED", "a certificate exceeds a decoder limit"),
        51 => ("BR_ERR_X509_WRONG_KEY_TYPE", "the key type does not match the trust anchor / expectation"),
        52 => ("BR_ERR_X509_BAD_SIGNATURE", "a certificate signature did not verify"),
        53 => (
            "BR_ERR_X509_TIME_UNKNOWN",
            "the validation time is unknown: the clock was never set (NTP)",
        ),
        54 => (
            "BR_ERR_X509_EXPIRED",
            "a certificate is expired or not yet valid at the device's time; almost always the clock was not set: NTP must sync before the TLS connection in ca mode (check ntp_synced came first and that UDP 123 is allowed), otherwise renew the broker certificate",
        ),
        55 => ("BR_ERR_X509_DN_MISMATCH", "issuer and subject names in the chain do not match"),
        56 => (
            "BR_ERR_X509_BAD_SERVER_NAME",
            "the broker certificate does not name the host the device connects to: set [broker] servername to a name in the certificate's SAN (IP addresses never match), or reissue the certificate",
        ),
        57 => ("BR_ERR_X509_CRITICAL_EXTENSION", "a certificate has an unsupported critical extension"),
        58 => ("BR_ERR_X509_NOT_CA", "a chain certificate is not a CA"),
        59 => ("BR_ERR_X509_FORBIDDEN_KEY_USAGE", "the key usage forbids this use"),
        60 => ("BR_ERR_X509_WEAK_PUBLIC_KEY", "the server key is too weak (RSA below 1017 bits)"),
        62 => (
            "BR_ERR_X509_NOT_TRUSTED",
            "the broker certificate is not trusted: in fingerprint mode the fingerprint does not match (the certificate was renewed: run `espmqtt fingerprint HOST` and flash the new config, or switch to pubkey/ca trust); in ca mode the chain does not end at the configured CA",
        ),
        _ => return None,
    })
}

/// TLS alert descriptions (RFC 5246 §7.2, RFC 8446 §6) with what they
/// usually mean for an MQTT device.
pub fn tls_alert(n: i64) -> Option<(&'static str, &'static str)> {
    Some(match n {
        0 => ("close_notify", "the peer closed the connection"),
        10 => ("unexpected_message", "a message arrived out of order"),
        20 => ("bad_record_mac", "a record failed its integrity check"),
        22 => ("record_overflow", "a record was too large for the peer"),
        40 => (
            "handshake_failure",
            "no common cipher suite, curve or TLS version; check with `espmqtt probe` which suites the broker allows",
        ),
        42 => (
            "bad_certificate",
            "the broker rejected the device's client certificate; reissue it from the fleet CA the broker trusts",
        ),
        43 => ("unsupported_certificate", "the peer does not support the certificate type"),
        44 => ("certificate_revoked", "the certificate was revoked"),
        45 => ("certificate_expired", "the certificate expired"),
        46 => ("certificate_unknown", "the certificate was not accepted"),
        47 => ("illegal_parameter", "a handshake field was out of range"),
        48 => (
            "unknown_ca",
            "the broker does not trust the CA that issued the device's client certificate: add the fleet CA to the broker's cafile",
        ),
        49 => ("access_denied", "the peer refused access"),
        50 => ("decode_error", "a message could not be decoded"),
        51 => ("decrypt_error", "a signature or Finished check failed"),
        70 => (
            "protocol_version",
            "no TLS version in common: the broker requires TLS 1.3, BearSSL stops at 1.2; allow TLS 1.2 on the broker",
        ),
        71 => ("insufficient_security", "the peer wants stronger ciphers"),
        80 => ("internal_error", "the peer had an internal error"),
        86 => ("inappropriate_fallback", "inappropriate version fallback"),
        90 => ("user_canceled", "the handshake was cancelled"),
        100 => ("no_renegotiation", "renegotiation refused"),
        109 => ("missing_extension", "a required extension was missing"),
        110 => ("unsupported_extension", "an unsupported extension was sent"),
        112 => (
            "unrecognized_name",
            "the broker does not know the server name (SNI) the device sent; check [broker] servername",
        ),
        116 => (
            "certificate_required",
            "the broker requires a client certificate and the device sent none",
        ),
        120 => ("no_application_protocol", "no ALPN protocol in common"),
        _ => return None,
    })
}

/// `unprovisioned reason=…` codes (firmware STATUS_LINES.md, shared with
/// CONFIG_FORMAT.md).
pub fn unprovisioned_reason(r: &str) -> &'static str {
    match r {
        "bad_magic" => "the config sector is erased or holds something else: no config was ever written there",
        "truncated" => "the config blob ends early: the write was interrupted",
        "bad_version" => "the config blob was written by a different espmqtt version than the firmware understands",
        "bad_length" => "the config blob's length field is impossible",
        "bad_crc" => "the config blob is damaged (CRC mismatch): the write was interrupted or the sector was overwritten",
        "bad_entry" | "bad_value" | "duplicate" | "too_many" => "the config blob is malformed",
        "missing_field" => "the config blob lacks a required field",
        "flash_read" => "reading the SPI flash failed: check the flash mode (try dout) and the module's supply",
        _ => "the config sector does not hold a usable configuration",
    }
}
