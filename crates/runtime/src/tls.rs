//! TLS for the clients Sluice builds (HTTP today; database and Redis connections as they come):
//! rustls with the ring crypto provider, made the process default so that a client built
//! anywhere (reqwest's builder looks the default up) uses it. ring rather than aws-lc-rs because
//! it builds in a fraction of the time (see docs/performance.md).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, Once, OnceLock};

/// Make ring the process's rustls crypto provider. Call it before building a TLS client; calls
/// after the first do nothing, and a provider installed earlier by someone else is kept.
pub fn use_ring_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed: that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client configuration on the ring provider that verifies servers against the system's root
/// certificates (`SSL_CERT_FILE` / `SSL_CERT_DIR` point elsewhere), or accepts any certificate
/// when `accept_any_certificate` (the handshake's signature is still checked).
pub fn client_config(accept_any_certificate: bool) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    Ok(if accept_any_certificate {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let (added, _) =
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if added == 0 {
            return Err("TLS setup failed: no root certificates found on this system".into());
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    })
}

/// [`client_config`] built once per process for each setting, for clients that connect again
/// and again (an email per item): loading the system's roots reads every certificate file.
pub fn shared_client_config(accept_any_certificate: bool) -> Result<Arc<ClientConfig>, String> {
    static VERIFYING: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    static ACCEPTING: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    let cell = match accept_any_certificate {
        true => &ACCEPTING,
        false => &VERIFYING,
    };
    cell.get_or_init(|| client_config(accept_any_certificate).map(Arc::new))
        .clone()
}

/// Trusts any server certificate but still checks that the handshake is signed by it.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
