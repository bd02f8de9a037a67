//! What the host's own MQTT clients share (the operator link of `device
//! push` and the dynamic-security admin of `broker sync`, both rumqttc over
//! rustls): the TLS configuration, CONNACK refusals in words, and connection
//! errors mapped to the exit codes of the README's table.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, TlsConfiguration,
    Transport,
};

use crate::error::{Error, Result};
use crate::target::Target;

/// How a host client connects: MQTT 3.1.1 over TLS ([`tls_config`]),
/// keep-alive 30 s, a clean session.
pub struct HostClient<'a> {
    pub client_id: String,
    pub target: &'a Target,
    /// User name and password, when the client logs in.
    pub credentials: Option<(String, String)>,
    pub ca_file: Option<&'a Path>,
    /// The largest packet sent or received, in bytes.
    pub max_packet: usize,
    /// Requests queued before the client's calls wait for the event loop.
    pub capacity: usize,
    /// For the TCP connection and the TLS handshake (at least 1 s).
    pub timeout: Duration,
}

impl HostClient<'_> {
    /// The client and its event loop; nothing goes out before the loop is
    /// polled ([`await_connack`]).
    pub fn start(self) -> Result<(AsyncClient, EventLoop)> {
        let mut opts = MqttOptions::new(self.client_id, self.target.host.clone(), self.target.port);
        opts.set_keep_alive(Duration::from_secs(30));
        opts.set_clean_session(true);
        if let Some((user, password)) = self.credentials {
            opts.set_credentials(user, password);
        }
        opts.set_max_packet_size(self.max_packet, self.max_packet);
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls_config(self.ca_file)?),
        )));
        let (client, mut events) = AsyncClient::new(opts, self.capacity);
        let mut net = rumqttc::NetworkOptions::new();
        net.set_connection_timeout(self.timeout.as_secs().max(1));
        events.set_network_options(net);
        Ok((client, events))
    }
}

/// The single-threaded runtime a host client runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))
}

/// Poll `events` until the broker's CONNACK. A refusal is a usage error
/// naming `who` (e.g. `the admin "name"`) with `fixes.refused`; no CONNACK
/// before `deadline` means the broker was not reached within `timeout`;
/// other failures as [`connection_error`].
pub async fn await_connack(
    events: &mut EventLoop,
    where_: &str,
    who: &str,
    deadline: tokio::time::Instant,
    timeout: Duration,
    fixes: &Fixes,
) -> Result<()> {
    loop {
        let ev = tokio::time::timeout_at(deadline, events.poll())
            .await
            .map_err(|_| {
                Error::unreachable(format!(
                    "{where_}: no CONNACK within {} s",
                    timeout.as_secs()
                ))
            })?;
        match ev {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if ack.code == ConnectReturnCode::Success {
                    return Ok(());
                }
                return Err(Error::usage(format!(
                    "{where_} refused {who}: {}",
                    connack_text(ack.code)
                ))
                .with_help(fixes.refused));
            }
            Ok(_) => {}
            Err(e) => return Err(connection_error(where_, e, fixes)),
        }
    }
}

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
