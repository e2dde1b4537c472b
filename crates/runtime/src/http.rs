//! The process's HTTP clients: one pooled `reqwest` client per (certificate checking, proxy)
//! pair, shared by every execution so connections are reused across runs; redirects are left to
//! the caller (nodes count and route every hop). `SLUICE_HTTP_CONNECT_TO` sends requests for
//! some origins to another one (`https://api.example.com=http://127.0.0.1:8080,...`), like curl's
//! `--connect-to`: for running workflows against a local mock without editing their URLs.

use reqwest::Url;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How a client is set up; each distinct one gets its own connection pool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    /// Accept any server certificate (n8n's `allowUnauthorizedCerts`).
    pub accept_invalid_certs: bool,
    /// Send every request through this proxy (`http://user:pass@host:port`).
    pub proxy: Option<String>,
}

/// The shared HTTP clients of this process (see [`Http::shared`]).
pub struct Http {
    clients: Mutex<HashMap<ClientOptions, reqwest::Client>>,
    /// `(from, to)` origins, as `scheme://host:port`.
    connect_to: Vec<(String, Url)>,
}

impl Http {
    /// The process-wide instance, configured from `SLUICE_HTTP_CONNECT_TO` on first use.
    pub fn shared() -> &'static Http {
        static SHARED: OnceLock<Http> = OnceLock::new();
        SHARED.get_or_init(|| {
            let spec = std::env::var("SLUICE_HTTP_CONNECT_TO").unwrap_or_default();
            Http::with_connect_to(&spec).unwrap_or_else(|e| {
                eprintln!("warning: SLUICE_HTTP_CONNECT_TO ignored: {e}");
                Http::with_connect_to("").expect("no mapping")
            })
        })
    }

    /// An instance sending requests for the origins in `spec` (`from=to,...`) elsewhere.
    pub fn with_connect_to(spec: &str) -> Result<Http, String> {
        let mut connect_to = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (from, to) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not FROM=TO"))?;
            let from = Url::parse(from).map_err(|e| format!("'{from}': {e}"))?;
            let to = Url::parse(to).map_err(|e| format!("'{to}': {e}"))?;
            connect_to.push((origin(&from), to));
        }
        Ok(Http {
            clients: Mutex::new(HashMap::new()),
            connect_to,
        })
    }

    /// The pooled client for `options` (built on first use).
    pub fn client(&self, options: &ClientOptions) -> Result<reqwest::Client, String> {
        let mut clients = self.clients.lock().expect("http clients");
        if let Some(client) = clients.get(options) {
            return Ok(client.clone());
        }
        crate::tls::use_ring_provider();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .danger_accept_invalid_certs(options.accept_invalid_certs);
        if let Some(proxy) = &options.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| format!("invalid proxy '{}': {e}", redact_userinfo(proxy)))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        clients.insert(options.clone(), client.clone());
        Ok(client)
    }

    /// Where a request for `url` really goes (see `SLUICE_HTTP_CONNECT_TO`).
    pub fn route(&self, url: &Url) -> Url {
        let from = origin(url);
        match self.connect_to.iter().find(|(f, _)| *f == from) {
            Some((_, to)) => {
                let mut routed = url.clone();
                // Scheme changes between special schemes (http/https) always succeed.
                let _ = routed.set_scheme(to.scheme());
                let _ = routed.set_host(to.host_str());
                let _ = routed.set_port(to.port_or_known_default());
                routed
            }
            None => url.clone(),
        }
    }
}

/// `scheme://host:port` of a URL (default ports written out).
fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A URL with its user and password replaced, for messages.
pub fn redact_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) if !rest[..rest.find('/').unwrap_or(rest.len())].is_empty() => {
                format!("{scheme}://***@{host}")
            }
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Per-key state shared by every execution of the process (rate-limit buckets, breakers, ...),
/// created on first use.
pub struct Keyed<T> {
    entries: Mutex<HashMap<String, Arc<T>>>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Keyed<T> {
    pub fn get_or_insert_with(&self, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let mut entries = self.entries.lock().expect("keyed entries");
        if let Some(entry) = entries.get(key) {
            return entry.clone();
        }
        let entry = Arc::new(make());
        entries.insert(key.to_string(), entry.clone());
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_routes_an_origin_and_keeps_the_rest_of_the_url() {
        let http = Http::with_connect_to("https://api.example.com=http://127.0.0.1:9000").unwrap();
        let url = Url::parse("https://api.example.com/v1/users?page=2").unwrap();
        assert_eq!(
            http.route(&url).as_str(),
            "http://127.0.0.1:9000/v1/users?page=2"
        );
        let other = Url::parse("https://api.example.com:8443/x").unwrap();
        assert_eq!(http.route(&other), other);
        assert!(Http::with_connect_to("nonsense").is_err());
    }

    #[test]
    fn clients_are_pooled_per_options() {
        let http = Http::with_connect_to("").unwrap();
        http.client(&ClientOptions::default()).unwrap();
        http.client(&ClientOptions::default()).unwrap();
        http.client(&ClientOptions {
            accept_invalid_certs: true,
            proxy: None,
        })
        .unwrap();
        assert_eq!(http.clients.lock().unwrap().len(), 2);
        let err = http
            .client(&ClientOptions {
                accept_invalid_certs: false,
                proxy: Some("http://u:secret@[bad".into()),
            })
            .unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
