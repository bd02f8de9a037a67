//! What the host's own MQTT clients share (the operator link of `device
//! push` and the dynamic-security admin of `broker sync`, both rumqttc over
//! rustls): the TLS configuration, CONNACK refusals in words, and connection
//! errors mapped to the exit codes of the README's table.

use std::path::Path;
use std::sync::Arc;

use rumqttc::ConnectReturnCode;

use crate::error::{Error, Result};

/// A CONNACK refusal in words (MQTT 3.1.1 return codes).
pub fn connack_text(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "accepted",
        ConnectReturnCode::RefusedProtocolVersion => "unacceptable protocol version (code 1)",
        ConnectReturnCode::BadClientId => "client id rejected (code 2)",
        ConnectReturnCode::ServiceUnavailable => "server unavailable (code 3)",
        ConnectReturnCode::BadUserNamePassword => "bad user name or password (code 4)",
        ConnectReturnCode::NotAuthorized => "not authorised (code 5)",
    }
}

/// The fixes a caller gives for a refused connection and a failed TLS
/// handshake (they name the caller's own flags and settings).
pub struct Fixes {
    pub refused: &'static str,
    pub tls: &'static str,
}

/// A rumqttc connection error as espmqtt's: a refusal is a usage error (the
/// identity is wrong), everything else means the broker was not reached.
pub fn connection_error(where_: &str, e: rumqttc::ConnectionError, fixes: &Fixes) -> Error {
    use rumqttc::ConnectionError as C;
    match e {
        C::ConnectionRefused(code) => Error::usage(format!(
            "{where_} refused the connection: {}",
            connack_text(code)
        ))
        .with_help(fixes.refused),
        C::Tls(e) => Error::unreachable(format!("{where_}: TLS failed: {e}")).with_help(fixes.tls),
        other => Error::unreachable(format!("cannot reach {where_}: {other}")),
    }
}

/// rustls for a host client: the public roots plus the certificates of
/// `ca_file` (PEM), if given.
pub fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(file) = ca_file {
        let pem = crate::files::read_input(file, crate::files::MAX_TEXT_INPUT, "CA file")?;
        let certs = crate::tls::cert::load_certificates(&pem)
            .map_err(|e| e.context(file.display().to_string()))?;
        for c in certs {
            roots
                .add(rustls::pki_types::CertificateDer::from(c))
                .map_err(|e| Error::usage(format!("{}: {e}", file.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::runtime(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
