//! What a `sluice bench` run will do, checked before it starts so bad input is one line and no
//! request is sent: the URL, the loop, the requests' method, headers and body, the targets.

use super::body::{Body, Template};
use super::check::Targets;
use super::BenchArgs;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::Method;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// Connections (requests in flight) when none are given: the closed loop's workers, the open
/// loop's cap.
const DEFAULT_CONNECTIONS: usize = 10;
const DEFAULT_OPEN_LOOP_CONNECTIONS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Send `rate` requests per second at fixed intervals, whatever the answers take; at most
    /// `connections` in flight (a request waiting for a connection is late, and its latency says so).
    Open { rate: f64, connections: usize },
    /// `connections` workers, each sending its next request when the last one is answered.
    Closed { connections: usize },
}

impl Mode {
    pub fn connections(self) -> usize {
        match self {
            Mode::Open { connections, .. } | Mode::Closed { connections } => connections,
        }
    }
}

pub struct Plan {
    pub url: Url,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Body,
    pub mode: Mode,
    pub duration: Duration,
    pub timeout: Duration,
    pub targets: Option<Targets>,
}

impl Plan {
    pub fn from_args(args: &BenchArgs) -> Result<Plan, String> {
        let url = parse_url(&args.url)?;
        let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("bad method '{}'", args.method))?;
        let body = match (&args.body, &args.body_template) {
            (Some(path), _) => Body::Fixed(read_file(path)?.into()),
            (None, Some(template)) => Body::Template(match template.strip_prefix('@') {
                Some(path) => {
                    let text = String::from_utf8(read_file(Path::new(path))?)
                        .map_err(|_| format!("{path}: body template is not UTF-8 text"))?;
                    Template::parse(&text).map_err(|e| format!("{path}: {e}"))?
                }
                None => Template::parse(template)?,
            }),
            (None, None) => Body::Empty,
        };
        let mut headers = HeaderMap::new();
        for header in &args.headers {
            let (name, value) = parse_header(header)?;
            headers.append(name, value);
        }
        if !body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if args.duration.is_zero() {
            return Err("--duration must be more than 0".into());
        }
        let mode = match args.rate {
            Some(rate) => {
                if !rate.is_finite() || Plan::open_loop_requests(rate, args.duration) == 0 {
                    return Err(format!(
                        "--rate {rate} sends no request in {:?}",
                        args.duration
                    ));
                }
                Mode::Open {
                    rate,
                    connections: args.connections.unwrap_or(DEFAULT_OPEN_LOOP_CONNECTIONS),
                }
            }
            None => Mode::Closed {
                connections: args.connections.unwrap_or(DEFAULT_CONNECTIONS),
            },
        };
        if mode.connections() == 0 {
            return Err("--connections must be at least 1".into());
        }
        let targets = Targets::from_args(args)?;
        Ok(Plan {
            url,
            method,
            headers,
            body,
            mode,
            duration: args.duration,
            timeout: args.timeout,
            targets,
        })
    }

    /// The number of requests the open loop sends.
    pub fn open_loop_requests(rate: f64, duration: Duration) -> u64 {
        (rate * duration.as_secs_f64()).round() as u64
    }
}

fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("bad URL '{text}': {e}"))?;
    if !["http", "https"].contains(&url.scheme()) {
        return Err(format!(
            "bad URL '{text}': expected an http:// or https:// URL"
        ));
    }
    Ok(url)
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let bad = || format!("bad header '{text}' (expected Name: value)");
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
    Ok((name, value))
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read file: {e}", path.display()))
}
