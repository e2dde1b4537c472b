//! Sending one request: the host's circuit breaker first (an open one refuses at once), then
//! the rate limit, authentication, and the request itself on the process's pooled client with
//! redirects followed hop by hop (each hop counted), and Sluice's per-item retries with
//! exponential backoff and jitter that honour `Retry-After` on 429 and 503. Every request adds
//! to the node run's `requests`, `bytesOut` and `bytesIn` counters; waits add to
//! `rateLimitWaitMs`, retries to `retries`, refusals of an open breaker to `circuitOpen`.

use super::auth;
use super::config::{HttpConfig, LimitScope, ResponseFormat};
use super::errors::Failure;
use super::request::{Body, Part, RequestSpec};
use super::response::Reply;
use rand::Rng;
use sluice_engine::{Counters, ExecuteContext};
use sluice_model::Value;
use sluice_runtime::circuit::{breakers, Permit};
use sluice_runtime::http::Http;
use sluice_runtime::rate_limit::{limiters, reserve_global, RateLimiter};
use sluice_runtime::Clock;
use std::sync::Arc;
use std::time::Duration;

/// What every request of one node run shares. It owns what it needs of the run, so the pages of
/// a streamed chain's source can still be sent once the run's context is gone.
pub(crate) struct Sender {
    pub config: Arc<HttpConfig>,
    client: reqwest::Client,
    /// `(type, data)` of the node's credential.
    credential: Option<(String, Value)>,
    /// The node's limiter when its key does not depend on the request (node/credential scope).
    limiter: Option<Arc<RateLimiter>>,
    /// The node run's profile counters.
    counters: Counters,
    /// The execution's clock (waits and rate limits).
    clock: Clock,
}

/// Statuses worth another try.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Sender {
    pub fn new(
        ctx: &ExecuteContext<'_>,
        config: Arc<HttpConfig>,
        client: reqwest::Client,
        credential: Option<(String, Value)>,
    ) -> Self {
        let limiter = config.rate_limit.as_ref().and_then(|limit| {
            let key = match &limit.scope {
                LimitScope::Node => Some(format!(
                    "node\n{}\n{}",
                    ctx.workflow().id_string(),
                    ctx.node().name
                )),
                LimitScope::Credential => Some(match &credential {
                    Some((kind, _)) => format!("credential\n{kind}\n{}", credential_key(ctx, kind)),
                    None => format!("node\n{}\n{}", ctx.workflow().id_string(), ctx.node().name),
                }),
                LimitScope::Host | LimitScope::Global { .. } => None,
            }?;
            Some(limiters().get(&key, limit.quota))
        });
        Sender {
            config,
            client,
            credential,
            limiter,
            counters: ctx.counters(),
            clock: ctx.clock().clone(),
        }
    }

    /// The execution's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Send `spec` (retrying as configured); any status comes back as a [`Reply`].
    pub async fn send(&self, spec: &RequestSpec) -> Result<Reply, Failure> {
        let mut attempt = 0u32;
        loop {
            let permit = self.breaker_permit(&spec.url)?;
            let result = self.send_once(spec).await;
            if let Some(permit) = permit {
                match &result {
                    Ok(reply) if reply.status < 500 => permit.succeeded(),
                    _ => permit.failed(),
                }
            }
            let Some(retry) = self.config.retry else {
                return result;
            };
            let wait = match &result {
                Ok(reply) if retryable(reply.status) => retry_after(reply)
                    .unwrap_or_else(|| backoff(retry.base, retry.max_delay, attempt)),
                Err(failure) if failure.object.is_some() => {
                    backoff(retry.base, retry.max_delay, attempt)
                }
                _ => return result,
            };
            if attempt >= retry.max_retries {
                return result;
            }
            attempt += 1;
            self.counters.add("retries", 1);
            // Retry-After is honoured as given, up to five minutes.
            self.clock.sleep(wait.min(Duration::from_secs(300))).await;
        }
    }

    /// Leave to try the host of `url` from its circuit breaker, when the node has one; an open
    /// breaker is a failure that is not retried.
    fn breaker_permit(&self, url: &str) -> Result<Option<Permit>, Failure> {
        let Some(policy) = self.config.circuit_breaker else {
            return Ok(None);
        };
        let url = parse_url(url)?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        match breakers().get(&host, policy).permit() {
            Ok(permit) => Ok(Some(permit)),
            Err(refused) => {
                self.counters.add("circuitOpen", 1);
                Err(Failure::item(format!(
                    "The circuit breaker for {host} is open after {} consecutive failed \
                     requests: no request is sent to it for another {:.1} s",
                    refused.failures,
                    refused.retry_in.as_secs_f64()
                )))
            }
        }
    }

    /// One attempt: rate limit, authentication, request and its redirects.
    async fn send_once(&self, spec: &RequestSpec) -> Result<Reply, Failure> {
        let mut spec = spec.clone();
        let mut url = parse_url(&spec.url)?;
        self.wait_for_rate_limit(&url).await?;
        if let Some((kind, data)) = &self.credential {
            auth::apply(kind, data, &mut spec, &self.client).await?;
        }
        if !spec.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &spec.query {
                pairs.append_pair(name, value);
            }
        }
        let origin = url.origin();
        let mut method = spec.method.clone();
        let mut body = Some(&spec.body);
        let mut hops = 0;
        loop {
            let mut request = self
                .client
                .request(method.clone(), Http::shared().route(&url));
            if let Some(timeout) = self.config.timeout {
                request = request.timeout(timeout);
            }
            if spec.header("user-agent").is_none() {
                request = request.header("User-Agent", "n8n");
            }
            if spec.header("accept").is_none() {
                request = request.header("Accept", accept(self.config.response.format));
            }
            let same_origin = url.origin() == origin;
            for (name, value) in &spec.headers {
                if !same_origin && name.eq_ignore_ascii_case("authorization") {
                    continue;
                }
                request = request.header(name.as_str(), value.as_str());
            }
            let (bytes, content_type) = body.map(encode).unwrap_or_default();
            if let Some(ct) = content_type.filter(|_| spec.header("content-type").is_none()) {
                request = request.header("Content-Type", ct);
            }
            self.counters.add("requests", 1);
            self.counters.add("bytesOut", bytes.len() as u64);
            if !bytes.is_empty() || body.is_some_and(|b| !matches!(b, Body::None)) {
                request = request.body(bytes);
            }
            let response = request.send().await.map_err(transport_failure)?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(String::from);
            if let (true, Some(location)) = ((300..400).contains(&status), location) {
                if self.config.follow_redirects && hops < self.config.max_redirects {
                    hops += 1;
                    url = url.join(&location).map_err(|_| {
                        Failure::transport(
                            format!("the redirect to '{location}' is not a valid URL"),
                            "ERR_FR_REDIRECTION_FAILURE",
                        )
                    })?;
                    let to_get = status == 303
                        || (matches!(status, 301 | 302) && method != reqwest::Method::HEAD);
                    if to_get && method != reqwest::Method::GET {
                        method = reqwest::Method::GET;
                        body = None;
                    }
                    continue;
                }
                if self.config.follow_redirects {
                    return Err(Failure::transport(
                        "Maximum number of redirects exceeded",
                        "ERR_FR_TOO_MANY_REDIRECTS",
                    ));
                }
            }
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = response.bytes().await.map_err(transport_failure)?;
            self.counters.add("bytesIn", body.len() as u64);
            return Ok(Reply {
                status,
                headers,
                body: body.to_vec(),
                url: url.to_string(),
            });
        }
    }

    async fn wait_for_rate_limit(&self, url: &reqwest::Url) -> Result<(), Failure> {
        let Some(limit) = &self.config.rate_limit else {
            return Ok(());
        };
        let host = url.host_str().unwrap_or_default();
        let wait = match (&limit.scope, &self.limiter) {
            (LimitScope::Global { bucket }, _) => {
                let bucket = bucket.clone().unwrap_or_else(|| format!("host:{host}"));
                reserve_global(&bucket, limit.quota).await.map_err(|e| {
                    Failure::item(format!("The global rate limit cannot be checked: {e}"))
                })?
            }
            // Node and credential buckets are known up front; host buckets depend on the URL.
            (_, Some(limiter)) => self.reserve(limiter),
            (_, None) => self.reserve(&limiters().get(&format!("host\n{host}"), limit.quota)),
        };
        if !wait.is_zero() {
            self.counters
                .add("rateLimitWaitMs", wait.as_millis() as u64);
            self.clock.sleep(wait).await;
        }
        Ok(())
    }

    /// A slot of a local bucket, on the execution's clock.
    fn reserve(&self, limiter: &RateLimiter) -> Duration {
        limiter.reserve(self.clock.now().timestamp_micros() as f64 / 1000.0)
    }
}

/// The id (else name) of the node's `kind` credential reference.
fn credential_key(ctx: &ExecuteContext<'_>, kind: &str) -> String {
    let entry = ctx
        .node()
        .credentials
        .as_ref()
        .map(|c| c[kind].clone())
        .unwrap_or_default();
    sluice_runtime::CredentialRef::from_json(&entry).to_string()
}

/// A URL the request can go to, or n8n's error.
pub(crate) fn parse_url(text: &str) -> Result<reqwest::Url, Failure> {
    let url = reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    url.ok_or_else(|| {
        Failure::item(format!(
            "Invalid URL: {text}. URL must start with \"http\" or \"https\"."
        ))
    })
}

fn accept(format: ResponseFormat) -> &'static str {
    match format {
        ResponseFormat::Json => "application/json,text/*;q=0.99",
        ResponseFormat::Text => "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, */*;q=0.1",
        ResponseFormat::File => "*/*",
        ResponseFormat::Autodetect => {
            "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7"
        }
    }
}

/// The bytes of a body and its default content type.
fn encode(body: &Body) -> (Vec<u8>, Option<String>) {
    match body {
        Body::None => (Vec::new(), None),
        Body::Json(value) => (
            serde_json::to_vec(value).unwrap_or_default(),
            Some("application/json".into()),
        ),
        Body::Form(fields) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in fields {
                form.append_pair(name, value);
            }
            (
                form.finish().into_bytes(),
                Some("application/x-www-form-urlencoded".into()),
            )
        }
        Body::Multipart(parts) => {
            let boundary = format!(
                "--------------------------{:024}",
                rand::thread_rng().gen_range(0..u64::MAX / 2)
            );
            let mut out = Vec::new();
            for part in parts {
                out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                match part {
                    Part::Text(name, value) => {
                        out.extend_from_slice(
                            format!(
                                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                                quote(name)
                            )
                            .as_bytes(),
                        );
                        out.extend_from_slice(value.as_bytes());
                    }
                    Part::File {
                        name,
                        data,
                        file_name,
                        mime_type,
                    } => {
                        out.extend_from_slice(
                            format!(
                                "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {mime_type}\r\n\r\n",
                                quote(name),
                                quote(file_name)
                            )
                            .as_bytes(),
                        );
                        out.extend_from_slice(data);
                    }
                }
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            (
                out,
                Some(format!("multipart/form-data; boundary={boundary}")),
            )
        }
        Body::Bytes { data, content_type } => (data.clone(), content_type.clone()),
    }
}

fn quote(text: &str) -> String {
    text.replace('"', "%22").replace(['\r', '\n'], " ")
}

/// n8n's messages for requests that got no answer.
fn transport_failure(e: reqwest::Error) -> Failure {
    let e = e.without_url();
    if e.is_timeout() {
        return Failure::transport(
            "The connection timed out, consider setting the 'Retry on Fail' option in the node settings",
            "ECONNABORTED",
        );
    }
    // The cause is at the bottom of the chain (hyper -> connector -> io::Error).
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let detail = causes.last().cloned().unwrap_or_else(|| e.to_string());
    let lower = causes.join(" ").to_ascii_lowercase();
    if lower.contains("refused") {
        Failure::transport(
            "The service refused the connection - perhaps it is offline",
            "ECONNREFUSED",
        )
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        Failure::transport(
            "The connection cannot be established, this usually occurs due to an incorrect host (domain) value",
            "ENOTFOUND",
        )
    } else if lower.contains("certificate") || lower.contains("tls") {
        Failure::transport(
            format!("SSL issue: {detail}; consider the 'Ignore SSL Issues' option"),
            "CERT_ERROR",
        )
    } else {
        Failure::transport(format!("The request failed: {detail}"), "ECONNRESET")
    }
}

/// Exponential backoff with jitter: `base * 2^attempt`, capped, times a random 50-100%.
fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(max);
    exp.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// `Retry-After` of a 429 or 503: seconds, or an HTTP date.
fn retry_after(reply: &Reply) -> Option<Duration> {
    if !matches!(reply.status, 429 | 503) {
        return None;
    }
    let value = reply.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.max(0.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    Some(Duration::from_millis(ms as u64))
}
