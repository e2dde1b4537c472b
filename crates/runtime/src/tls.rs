//! TLS for the clients Sluice builds (HTTP today; database and Redis connections as they come):
//! rustls with the ring crypto provider, made the process default so that a client built
//! anywhere (reqwest's builder looks the default up) uses it. ring rather than aws-lc-rs because
//! it builds in a fraction of the time (see docs/performance.md).

use std::sync::Once;

/// Make ring the process's rustls crypto provider. Call it before building a TLS client; calls
/// after the first do nothing, and a provider installed earlier by someone else is kept.
pub fn use_ring_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed: that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
