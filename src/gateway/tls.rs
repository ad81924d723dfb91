//! TLS for `camd-api`: the certificate and key from PEM files (rustls with
//! ring), and a self-signed certificate for a host that has none.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

/// Why TLS cannot be set up.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file does not read.
    #[error("cannot read {what} `{path}`: {cause}")]
    Pem {
        /// Certificate or key.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        cause: String,
    },
    /// rustls refused the pair.
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
    /// The certificate could not be generated.
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

/// A TLS acceptor for the certificate chain in `cert` and the key in `key`.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    fn pem(what: &'static str, path: &Path) -> impl Fn(rustls::pki_types::pem::Error) -> TlsError {
        let path = path.display().to_string();
        move |e| TlsError::Pem {
            what,
            path: path.clone(),
            cause: e.to_string(),
        }
    }
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(pem("certificate", cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem("certificate", cert))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(pem("key", key))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TlsError::Config(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The first (leaf) certificate of the chain in `cert`, whose names
/// camd-api serves when no `--host` is given.
pub fn leaf_certificate(cert: &Path) -> Result<CertificateDer<'static>, TlsError> {
    let pem = |e: rustls::pki_types::pem::Error| TlsError::Pem {
        what: "certificate",
        path: cert.display().to_string(),
        cause: e.to_string(),
    };
    CertificateDer::pem_file_iter(cert)
        .map_err(pem)?
        .next()
        .ok_or_else(|| TlsError::Pem {
            what: "certificate",
            path: cert.display().to_string(),
            cause: "no certificate in the file".into(),
        })?
        .map_err(pem)
}

/// A self-signed certificate for `names` (host names or IP addresses):
/// (certificate PEM, key PEM).
pub fn self_signed(names: &[String]) -> Result<(String, String), TlsError> {
    let c = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    Ok((c.cert.pem(), c.signing_key.serialize_pem()))
}
