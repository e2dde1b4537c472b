//! One keep-alive HTTP/1.1 connection of the load generator (and of its reads of a metrics
//! page), opened when first used and again after it fails. The load goes over these rather than through a pooled client: a connection
//! here is owned by one sender at a time, so a request costs its write, its read and nothing
//! else (no pool lookups, no per-request URL parsing), which keeps the generator's share of a
//! small machine low next to the server it measures.

use super::load::Outcome;
use super::plan::Plan;
use bytes::Bytes;
use http_body_util::{BodyExt, Collected, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HOST;
use hyper::{HeaderMap, Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::Url;

/// Where the requests go: the address to connect to, TLS for an https URL (verified against the
/// system's root certificates), the `Host` header and the request target.
pub struct Target {
    address: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    host: hyper::header::HeaderValue,
    path: Uri,
}

impl Target {
    pub fn of(url: &Url) -> Result<Target, String> {
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let tls = match url.scheme() {
            "https" => {
                let config = sluice_runtime::tls::client_config(false)?;
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                    .map_err(|_| format!("bad host '{host}'"))?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
            _ => None,
        };
        Ok(Target {
            address: format!("{host}:{port}"),
            tls,
            host: authority
                .parse()
                .map_err(|_| format!("bad host '{authority}'"))?,
            path: path.parse().map_err(|_| format!("bad path '{path}'"))?,
        })
    }
}

/// A connection slot: at most one request in flight on it.
#[derive(Default)]
pub struct Connection {
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// Send one of `plan`'s requests with `body` and read its whole answer, within the plan's
    /// timeout.
    pub async fn send(&mut self, target: &Target, plan: &Plan, body: Bytes) -> Outcome {
        let request = (&plan.method, &plan.headers, body);
        match self.request(target, request, plan.timeout).await {
            Ok((status, _)) => Outcome::Status(status),
            Err(outcome) => outcome,
        }
    }

    /// `GET` the target within `timeout`: its status and body.
    pub async fn get(
        &mut self,
        target: &Target,
        timeout: Duration,
    ) -> Result<(u16, Bytes), Outcome> {
        let request = (&Method::GET, &HeaderMap::new(), Bytes::new());
        let (status, body) = self.request(target, request, timeout).await?;
        Ok((status, body.to_bytes()))
    }

    /// One exchange within `timeout`. A connection that failed or timed out is dropped and
    /// opened afresh for the next request.
    async fn request(
        &mut self,
        target: &Target,
        (method, headers, body): (&Method, &HeaderMap, Bytes),
        timeout: Duration,
    ) -> Result<(u16, Collected<Bytes>), Outcome> {
        let result = tokio::time::timeout(timeout, self.exchange(target, method, headers, body))
            .await
            .unwrap_or(Err(Outcome::Timeout));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn exchange(
        &mut self,
        target: &Target,
        method: &Method,
        request_headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(u16, Collected<Bytes>), Outcome> {
        let sender = match &mut self.sender {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.sender.insert(connect(target).await?),
        };
        sender.ready().await.map_err(|_| Outcome::OtherError)?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(target.path.clone())
            .body(Full::new(body))
            .map_err(|_| Outcome::OtherError)?;
        let headers = request.headers_mut();
        headers.insert(HOST, target.host.clone());
        for (name, value) in request_headers {
            headers.append(name, value.clone());
        }
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| Outcome::OtherError)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| Outcome::OtherError)?;
        Ok((status, body))
    }
}

async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, Outcome> {
    let stream = TcpStream::connect(&target.address)
        .await
        .map_err(|_| Outcome::ConnectError)?;
    let _ = stream.set_nodelay(true);
    match &target.tls {
        None => handshake(TokioIo::new(stream)).await,
        Some((connector, name)) => {
            let stream = connector
                .connect(name.clone(), stream)
                .await
                .map_err(|_| Outcome::ConnectError)?;
            handshake(TokioIo::new(stream)).await
        }
    }
}

/// HTTP/1.1 over `io`; the connection's own task reads and writes it from then on.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, Outcome>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|_| Outcome::ConnectError)?;
    tokio::spawn(connection);
    Ok(sender)
}
