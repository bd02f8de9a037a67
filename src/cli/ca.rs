//! `espmqtt ca`: local certificate authority for device client certificates.

use std::time::Instant;

use crate::device::ca::{self, CaSummary, KeyKind};
use crate::error::{ExitStatus, Result};
use crate::project::ProjectPaths;

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa).
    #[command(after_help = "\
The key (.espmqtt/ca/ca.key) is created with mode 0600. An existing CA is
never replaced. With -q only the certificate's path is printed.

Examples:
  espmqtt ca init
  espmqtt ca init --rsa 2048 --cn 'Garden fleet CA'")]
    Init(InitArgs),
    /// Show the local CA.
    #[command(after_help = "\
With -q only the certificate's path is printed.

Examples:
  espmqtt ca show --format json
  cp \"$(espmqtt ca show -q)\" /etc/mosquitto/certs/espmqtt-devices.crt")]
    Show,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// RSA key with this many bits (2048, 3072, 4096) instead of EC P-256.
    #[arg(long, value_name = "BITS")]
    pub rsa: Option<u32>,
    /// Validity in days (longer than any device certificate it will sign).
    #[arg(long, default_value_t = ca::DEFAULT_CA_DAYS)]
    pub days: u32,
    /// Common name of the CA certificate.
    #[arg(long, default_value = "espmqtt device CA")]
    pub cn: String,
}

pub fn run(args: CaCommand, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    match args {
        CaCommand::Init(a) => {
            let kind = KeyKind::from_rsa_bits(a.rsa)?;
            let t = Instant::now();
            let s = ca::init(&paths, kind, a.days, &a.cn)?;
            ctx.timed(&format!("generated and signed the {} CA", s.key_type), t);
            ctx.wrote(&s.key_file, crate::files::PRIVATE);
            ctx.wrote(&s.cert_file, crate::files::PUBLIC);
            ctx.emit_result(
                &s,
                || s.cert_file.display().to_string(),
                |_| render("Created the local CA", &s),
            );
        }
        CaCommand::Show => {
            let ca = ca::load(&paths)?;
            ctx.detail(format!(
                "read {} and {}",
                ca.cert_file.display(),
                ca.key_file.display()
            ));
            let s = ca.summary();
            ctx.emit_result(
                s,
                || s.cert_file.display().to_string(),
                |_| render("Local CA", s),
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn render(title: &str, s: &CaSummary) -> String {
    format!(
        "{title}:\n  subject     CN={}\n  key         {} (firmware issuer key type {})\n  valid until {}\n  SHA-256     {}\n  certificate {}\n  key         {} (mode 0600; keep it private)\n",
        s.subject_cn,
        s.key_type,
        s.bearssl_issuer_key_type,
        s.not_after,
        s.sha256,
        s.cert_file.display(),
        s.key_file.display()
    )
}
