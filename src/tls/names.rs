//! The one table of TLS names: protocol versions, cipher suites, alerts,
//! named groups, signature algorithms, and BearSSL's error numbers (what
//! `getLastSSLError()` returns on the device). Every command prints these
//! names from here.

/// Name of a protocol version (`TLS 1.2`), or its hex value.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => format!("0x{v:04x}"),
    }
}

/// IANA name of a cipher suite, or its hex value.
pub fn suite_name(id: u16) -> String {
    let n = match id {
        0xCCA9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xC02B => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02F => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC02C => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xC0AC => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        0xC0AD => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        0xC0AE => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        0xC0AF => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        0xC023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xC009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC00A => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xC02D => "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC031 => "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        0xC02E => "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC032 => "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        0xC025 => "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC029 => "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
        0xC026 => "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC02A => "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
        0xC004 => "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        0xC00E => "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
        0xC005 => "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        0xC00F => "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0xC09C => "TLS_RSA_WITH_AES_128_CCM",
        0xC09D => "TLS_RSA_WITH_AES_256_CCM",
        0xC0A0 => "TLS_RSA_WITH_AES_128_CCM_8",
        0xC0A1 => "TLS_RSA_WITH_AES_256_CCM_8",
        0x003C => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003D => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0xC008 => "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        0xC012 => "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0xC003 => "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        0xC00D => "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
        0x000A => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x009E => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCAA => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006B => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0xC0A2 => "TLS_DHE_RSA_WITH_AES_128_CCM_8",
        0xC0A3 => "TLS_DHE_RSA_WITH_AES_256_CCM_8",
        0xC09E => "TLS_DHE_RSA_WITH_AES_128_CCM",
        0xC09F => "TLS_DHE_RSA_WITH_AES_256_CCM",
        0x0016 => "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        _ => return format!("0x{id:04X}"),
    };
    n.to_string()
}

/// Key exchange families of a suite, as far as the device and the
/// explanations care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchange {
    /// ECDHE signed with the certificate key (ECDSA or RSA).
    EcdheEcdsa,
    EcdheRsa,
    /// Static ECDH with the certificate's EC key.
    EcdhEcdsa,
    EcdhRsa,
    /// RSA key transport (the client encrypts with the certificate key).
    Rsa,
    /// Finite-field DHE (BearSSL implements none).
    Dhe,
    /// TLS 1.3 suites, which carry no key exchange.
    Tls13,
    Other,
}

/// The key exchange of a suite.
pub fn key_exchange(id: u16) -> KeyExchange {
    let name = suite_name(id);
    if (0x1301..=0x1305).contains(&id) {
        KeyExchange::Tls13
    } else if name.starts_with("TLS_ECDHE_ECDSA") {
        KeyExchange::EcdheEcdsa
    } else if name.starts_with("TLS_ECDHE_RSA") {
        KeyExchange::EcdheRsa
    } else if name.starts_with("TLS_ECDH_ECDSA") {
        KeyExchange::EcdhEcdsa
    } else if name.starts_with("TLS_ECDH_RSA") {
        KeyExchange::EcdhRsa
    } else if name.starts_with("TLS_RSA") {
        KeyExchange::Rsa
    } else if name.starts_with("TLS_DHE") {
        KeyExchange::Dhe
    } else {
        KeyExchange::Other
    }
}

/// RFC names of the TLS alerts (RFC 5246 §7.2, RFC 8446 §6).
pub fn alert_name(code: u8) -> String {
    let n = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("unknown_alert_{code}"),
    };
    n.to_string()
}

/// Name of a TLS record content type (RFC 5246 §6.2.1).
pub fn content_type_name(ct: u8) -> String {
    match ct {
        20 => "change_cipher_spec".into(),
        21 => "alert".into(),
        22 => "handshake".into(),
        23 => "application_data".into(),
        24 => "heartbeat".into(),
        _ => format!("content_type_{ct}"),
    }
}

/// Name of a handshake message type (RFC 5246 §7.4, RFC 8446 §4).
pub fn handshake_name(ty: u8) -> String {
    let n = match ty {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        22 => "CertificateStatus",
        _ => return format!("handshake_type_{ty}"),
    };
    n.to_string()
}

/// Name of a named group.
pub fn group_name(id: u16) -> String {
    match id {
        23 => "secp256r1".into(),
        24 => "secp384r1".into(),
        25 => "secp521r1".into(),
        29 => "x25519".into(),
        30 => "x448".into(),
        0x0100..=0x0104 => format!(
            "ffdhe{}",
            [2048, 3072, 4096, 6144, 8192][(id - 0x0100) as usize]
        ),
        _ => format!("0x{id:04X}"),
    }
}

/// Name of a TLS 1.2 SignatureAndHashAlgorithm / TLS 1.3 SignatureScheme.
pub fn sigalg_name(id: u16) -> String {
    let n = match id {
        0x0401 => "rsa_pkcs1_sha256",
        0x0501 => "rsa_pkcs1_sha384",
        0x0601 => "rsa_pkcs1_sha512",
        0x0301 => "rsa_pkcs1_sha224",
        0x0201 => "rsa_pkcs1_sha1",
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0303 => "ecdsa_sha224",
        0x0203 => "ecdsa_sha1",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0809 => "rsa_pss_pss_sha256",
        0x080a => "rsa_pss_pss_sha384",
        0x080b => "rsa_pss_pss_sha512",
        _ => return format!("0x{id:04X}"),
    };
    n.to_string()
}

/// BearSSL's name for an error number (`BR_ERR_X509_NOT_TRUSTED`), with
/// the alert name for 256 + alert (received) and 512 + alert (sent).
pub fn bearssl_error_name(code: i32) -> String {
    if code == -1000 {
        return "out of memory (the core could not set up the connection)".into();
    }
    if (256..512).contains(&code) {
        return format!(
            "BR_ERR_RECV_FATAL_ALERT + {} ({})",
            code - 256,
            alert_name((code - 256) as u8)
        );
    }
    if (512..768).contains(&code) {
        return format!(
            "BR_ERR_SEND_FATAL_ALERT + {} ({})",
            code - 512,
            alert_name((code - 512) as u8)
        );
    }
    let n = match code {
        0 => "BR_ERR_OK",
        1 => "BR_ERR_BAD_PARAM",
        2 => "BR_ERR_BAD_STATE",
        3 => "BR_ERR_UNSUPPORTED_VERSION",
        4 => "BR_ERR_BAD_VERSION",
        5 => "BR_ERR_BAD_LENGTH",
        6 => "BR_ERR_TOO_LARGE",
        7 => "BR_ERR_BAD_MAC",
        8 => "BR_ERR_NO_RANDOM",
        9 => "BR_ERR_UNKNOWN_TYPE",
        10 => "BR_ERR_UNEXPECTED",
        12 => "BR_ERR_BAD_CCS",
        13 => "BR_ERR_BAD_ALERT",
        14 => "BR_ERR_BAD_HANDSHAKE",
        15 => "BR_ERR_OVERSIZED_ID",
        16 => "BR_ERR_BAD_CIPHER_SUITE",
        17 => "BR_ERR_BAD_COMPRESSION",
        18 => "BR_ERR_BAD_FRAGLEN",
        19 => "BR_ERR_BAD_SECRENEG",
        20 => "BR_ERR_EXTRA_EXTENSION",
        21 => "BR_ERR_BAD_SNI",
        22 => "BR_ERR_BAD_HELLO_DONE",
        23 => "BR_ERR_LIMIT_EXCEEDED",
        24 => "BR_ERR_BAD_FINISHED",
        25 => "BR_ERR_RESUME_MISMATCH",
        26 => "BR_ERR_INVALID_ALGORITHM",
        27 => "BR_ERR_BAD_SIGNATURE",
        28 => "BR_ERR_WRONG_KEY_USAGE",
        29 => "BR_ERR_NO_CLIENT_AUTH",
        31 => "BR_ERR_IO",
        33 => "BR_ERR_X509_INVALID_VALUE",
        34 => "BR_ERR_X509_TRUNCATED",
        35 => "BR_ERR_X509_EMPTY_CHAIN",
        36 => "BR_ERR_X509_INNER_TRUNC",
        37 => "BR_ERR_X509_BAD_TAG_CLASS",
        38 => "BR_ERR_X509_BAD_TAG_VALUE",
        39 => "BR_ERR_X509_INDEFINITE_LENGTH",
        40 => "BR_ERR_X509_EXTRA_ELEMENT",
        41 => "BR_ERR_X509_UNEXPECTED",
        42 => "BR_ERR_X509_NOT_CONSTRUCTED",
        43 => "BR_ERR_X509_NOT_PRIMITIVE",
        44 => "BR_ERR_X509_PARTIAL_BYTE",
        45 => "BR_ERR_X509_BAD_BOOLEAN",
        46 => "BR_ERR_X509_OVERFLOW",
        47 => "BR_ERR_X509_BAD_DN",
        48 => "BR_ERR_X509_BAD_TIME",
        49 => "BR_ERR_X509_UNSUPPORTED",
        50 => "BR_ERR_X509_LIMIT_EXCEEDED",
        51 => "BR_ERR_X509_WRONG_KEY_TYPE",
        52 => "BR_ERR_X509_BAD_SIGNATURE",
        53 => "BR_ERR_X509_TIME_UNKNOWN",
        54 => "BR_ERR_X509_EXPIRED",
        55 => "BR_ERR_X509_DN_MISMATCH",
        56 => "BR_ERR_X509_BAD_SERVER_NAME",
        57 => "BR_ERR_X509_CRITICAL_EXTENSION",
        58 => "BR_ERR_X509_NOT_CA",
        59 => "BR_ERR_X509_FORBIDDEN_KEY_USAGE",
        60 => "BR_ERR_X509_WEAK_PUBLIC_KEY",
        62 => "BR_ERR_X509_NOT_TRUSTED",
        _ => return format!("BearSSL error {code}"),
    };
    n.to_string()
}

/// An X.509 (certificate chain) error, as opposed to a TLS-layer one.
pub fn is_x509_error(code: i32) -> bool {
    (32..64).contains(&code)
}

/// `PubSubClient::state()` names and meanings.
pub fn pubsubclient_state(state: i32) -> (&'static str, &'static str) {
    match state {
        -4 => (
            "MQTT_CONNECTION_TIMEOUT",
            "no answer from the broker within the timeout (no CONNACK)",
        ),
        -3 => ("MQTT_CONNECTION_LOST", "the network connection broke"),
        -2 => (
            "MQTT_CONNECT_FAILED",
            "the network connection could not be made (DNS, TCP or TLS)",
        ),
        -1 => ("MQTT_DISCONNECTED", "disconnected"),
        0 => ("MQTT_CONNECTED", "connected"),
        1 => (
            "MQTT_CONNECT_BAD_PROTOCOL",
            "the broker does not support MQTT 3.1.1",
        ),
        2 => (
            "MQTT_CONNECT_BAD_CLIENT_ID",
            "the broker rejected the client identifier",
        ),
        3 => (
            "MQTT_CONNECT_UNAVAILABLE",
            "the broker is unable to accept the connection",
        ),
        4 => (
            "MQTT_CONNECT_BAD_CREDENTIALS",
            "the user name or password was rejected",
        ),
        5 => (
            "MQTT_CONNECT_UNAUTHORIZED",
            "the client is not authorised to connect",
        ),
        _ => ("unknown", "an unknown return code"),
    }
}

/// OIDs of the two key algorithms BearSSL knows.
pub const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub const OID_EC: &str = "1.2.840.10045.2.1";

/// Readable name of a signature or key algorithm OID.
pub fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption".into(),
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1".into(),
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        OID_RSA => "RSA".into(),
        OID_EC => "EC".into(),
        other => other.to_string(),
    }
}

/// The finding for a server that speaks only TLS 1.3 (shared wording for
/// `probe` and `fingerprint`).
pub fn tls13_only_message() -> &'static str {
    "the broker speaks only TLS 1.3, which BearSSL (and so the ESP8266) does not implement"
}

/// Its fix.
pub fn tls13_only_fix() -> &'static str {
    "allow TLS 1.2 on the broker listener (mosquitto: `tls_version tlsv1.2`, which allows 1.2 \
     and newer)"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(alert_name(49), "access_denied");
        assert_eq!(alert_name(200), "unknown_alert_200");
        assert_eq!(bearssl_error_name(62), "BR_ERR_X509_NOT_TRUSTED");
        assert!(bearssl_error_name(256 + 48).contains("unknown_ca"));
        assert_eq!(key_exchange(0xC02F), KeyExchange::EcdheRsa);
        assert_eq!(key_exchange(0x002F), KeyExchange::Rsa);
        assert_eq!(key_exchange(0xC031), KeyExchange::EcdhRsa);
        assert_eq!(key_exchange(0x009E), KeyExchange::Dhe);
        assert_eq!(version_name(0x0302), "TLS 1.1");
    }
}
