//! TLS for Postgres connections: the client configuration of [`crate::tls`] (the system's root
//! certificates, or any certificate when the credential allows unauthorized certificates,
//! n8n's `allowUnauthorizedCerts`).

use tokio_postgres_rustls::MakeRustlsConnect;

/// A connector for tokio-postgres; `accept_any_certificate` skips certificate verification.
pub(super) fn connector(accept_any_certificate: bool) -> Result<MakeRustlsConnect, String> {
    Ok(MakeRustlsConnect::new(crate::tls::client_config(
        accept_any_certificate,
    )?))
}
