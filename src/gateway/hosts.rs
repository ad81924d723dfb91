//! Which `Host` names camd-api serves. A signature covers the `Host` header
//! the client signed for; serving any name would let a request signed for
//! another service (or another camd) be replayed here. The names are those
//! given with `--host`, else the listen address's and, with TLS, every name
//! the certificate is valid for.

use std::net::SocketAddr;

use rustls::pki_types::{CertificateDer, ServerName};

/// The names served.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    /// Names given, or the listen address's (lowercase, without a port).
    names: Vec<String>,
    /// The TLS certificate, whose names are served too when no `--host` was given.
    cert: Option<CertificateDer<'static>>,
}

impl Hosts {
    /// The names given (`--host`), or the defaults for `listen` and `cert`.
    pub fn new(
        given: &[String],
        listen: SocketAddr,
        cert: Option<CertificateDer<'static>>,
    ) -> Self {
        if !given.is_empty() {
            return Self {
                names: given
                    .iter()
                    .map(|n| strip_port(n).to_ascii_lowercase())
                    .collect(),
                cert: None,
            };
        }
        let mut names = vec![listen.ip().to_string()];
        if listen.ip().is_loopback() {
            names.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        }
        Self { names, cert }
    }

    /// Whether a request with this `Host` header is served.
    pub fn serves(&self, host: &str) -> bool {
        let name = strip_port(host.trim()).to_ascii_lowercase();
        if name.is_empty() {
            return false;
        }
        if self.names.contains(&name) {
            return true;
        }
        let Some(cert) = &self.cert else {
            return false;
        };
        let (Ok(end), Ok(server)) = (
            webpki::EndEntityCert::try_from(cert),
            ServerName::try_from(name.as_str()),
        ) else {
            return false;
        };
        end.verify_is_valid_for_subject_name(&server).is_ok()
    }

    /// The names, for the refusal.
    pub fn describe(&self) -> String {
        let mut s = self.names.join(", ");
        if self.cert.is_some() {
            s.push_str(", and the certificate's names");
        }
        s
    }
}

/// `name` without `:port` (and without the brackets of `[::1]:443`).
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_given_names() {
        let listen: SocketAddr = "127.0.0.1:9443".parse().unwrap();
        let h = Hosts::new(&[], listen, None);
        for ok in [
            "127.0.0.1:9443",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9443",
            "127.0.0.1",
        ] {
            assert!(h.serves(ok), "{ok}");
        }
        for no in ["evil.example", "", "cam.tencentcloudapi.com", "127.0.0.2"] {
            assert!(!h.serves(no), "{no}");
        }
        let h = Hosts::new(&["cam.example:443".into()], listen, None);
        assert!(h.serves("cam.example"));
        assert!(!h.serves("localhost"));
    }
}
