//! Who may call a webhook and what a browser may read of its answer, from the Webhook node's
//! settings: the IP whitelist (`ipWhitelist`; the client is the connection's peer, or behind
//! `N8N_PROXY_HOPS` trusted proxies the address they forwarded), bot filtering (`ignoreBots`),
//! CORS (`allowedOrigins`, and OPTIONS preflights for registered paths) and authentication
//! (basic, header, JWT bearer) with the credentials the store keeps. A request pays only for
//! the options its webhook sets; refusals are JSON errors and start no execution.

use crate::app::App;
use crate::error::ApiError;
use crate::routes::Routes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::Value;
use sluice_nodes::trigger::jwt::{JwtCredential, JwtError};
use sluice_nodes::trigger::webhook::{Auth, WebhookConfig};
use std::net::IpAddr;

/// Refuse a caller the IP whitelist or the bot filter keeps out (403).
pub fn admit(
    config: &WebhookConfig,
    peer: IpAddr,
    headers: &HeaderMap,
    proxy_hops: usize,
) -> Result<(), ApiError> {
    if let Some(whitelist) = &config.ip_whitelist {
        let allowed = client_ip(peer, headers, proxy_hops).is_some_and(|ip| whitelist.allows(ip));
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "IP is not whitelisted to access the webhook!",
            ));
        }
    }
    if config.ignore_bots {
        let user_agent = headers
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_lowercase());
        if user_agent.is_some_and(|ua| is_bot(&ua)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Requests from bots are ignored by this webhook (ignoreBots)",
            ));
        }
    }
    Ok(())
}

/// The caller's address: the peer, or with `proxy_hops` trusted proxies in front the address the
/// outermost of them saw (counted from the right of `X-Forwarded-For`, as Express's
/// `trust proxy` does). `None` when that entry is not an IP address.
fn client_ip(peer: IpAddr, headers: &HeaderMap, proxy_hops: usize) -> Option<IpAddr> {
    if proxy_hops == 0 {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    match proxy_hops.min(forwarded.len()) {
        0 => Some(peer),
        hops => forwarded[forwarded.len() - hops].parse().ok(),
    }
}

/// Lower-case fragments of the User-Agent of crawlers, link previewers (chat apps, social
/// networks), SEO scanners, uptime monitors and headless browsers. HTTP libraries (curl,
/// python-requests, Go, Java, ...) are not on the list: services calling webhooks use them; nor
/// are in-app browsers of social apps, which people use.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "scraper",
    "archiver",
    "preview",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "embedly",
    "whatsapp",
    "vkshare",
    "quora link",
    "outbrain",
    "iframely",
    "mediapartners-google",
    "feedfetcher",
    "google-inspectiontool",
    "google-read-aloud",
    "lighthouse",
    "pagespeed",
    "headlesschrome",
    "phantomjs",
    "validator",
    "semrush",
    "ahrefs",
    "pingdom",
    "statuscake",
    "uptime",
    "monitor",
    "checkly",
];

/// Whether a lower-cased User-Agent belongs to a bot.
fn is_bot(user_agent: &str) -> bool {
    BOT_MARKERS.iter().any(|marker| user_agent.contains(marker))
}

/// The `Access-Control-Allow-Origin` for a browser request: its own `Origin` when
/// `allowedOrigins` lets it in; `None` without an `Origin` header or for other origins.
pub fn cors_origin(config: &WebhookConfig, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    config
        .allowed_origins
        .allows(origin.to_str().ok()?)
        .then(|| origin.clone())
}

/// The answer (or the error) with the CORS origin header when there is one.
pub fn with_cors(answer: Result<Response, ApiError>, origin: Option<HeaderValue>) -> Response {
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The answer to a CORS preflight (`OPTIONS`) for `path`: 204 with the methods the path answers
/// and, for an allowed origin asking about one of them, the origin, the requested headers and a
/// 5-minute cache. `None` when no webhook listens on `path`.
pub fn preflight(routes: &Routes, path: &str, headers: &HeaderMap) -> Option<Response> {
    let methods = routes.methods(path);
    if methods.is_empty() {
        return None;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let answer = response.headers_mut();
    if let Ok(allow) = HeaderValue::from_str(&format!("OPTIONS, {}", methods.join(", "))) {
        answer.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
    }
    let asked = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok());
    let origin = asked
        .and_then(|method| routes.find(method, path))
        .and_then(|(target, _)| cors_origin(&target.config, headers));
    if let Some(origin) = origin {
        answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        answer.append(header::VARY, HeaderValue::from_static("Origin"));
        answer.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("300"),
        );
        if let Some(asked_headers) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked_headers.clone());
        }
    }
    Some(response)
}

/// Check the caller's credentials; under JWT auth, the token's payload (`jwtPayload`).
/// 401 when they are missing, 403 when they are wrong (as n8n answers).
pub async fn authenticate(
    app: &App,
    config: &WebhookConfig,
    headers: &HeaderMap,
) -> Result<Option<Value>, ApiError> {
    let server_error = |message: String| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message);
    let wrong = || ApiError::new(StatusCode::FORBIDDEN, "Authorization data is wrong!");
    let authorization = || {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
    };
    match &config.auth {
        Auth::None => Ok(None),
        Auth::Basic { credential_id } => {
            let given = authorization()
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                });
            let Some(given) = given else {
                return Err(ApiError::unauthorized("Authorization is required!"));
            };
            let data = app
                .credential("httpBasicAuth", credential_id)
                .await
                .map_err(server_error)?;
            let text = |k: &str| data[k].as_str().unwrap_or_default().to_string();
            if given == format!("{}:{}", text("user"), text("password")).into_bytes() {
                Ok(None)
            } else {
                Err(wrong())
            }
        }
        Auth::Header { credential_id } => {
            let data = app
                .credential("httpHeaderAuth", credential_id)
                .await
                .map_err(server_error)?;
            let expected = |k: &str| data[k].as_str().unwrap_or_default();
            match headers.get(expected("name")) {
                Some(v) if v.as_bytes() == expected("value").as_bytes() => Ok(None),
                _ => Err(wrong()),
            }
        }
        Auth::Jwt { credential_id } => {
            let Some(token) = authorization().and_then(|v| v.split_whitespace().nth(1)) else {
                return Err(ApiError::unauthorized("No token provided"));
            };
            let data = app
                .credential("jwtAuth", credential_id)
                .await
                .map_err(server_error)?;
            match JwtCredential::from_data(&data).and_then(|c| c.verify(token)) {
                Ok(payload) => Ok(Some(payload)),
                Err(JwtError::Token(message)) => Err(ApiError::new(StatusCode::FORBIDDEN, message)),
                Err(e) => Err(server_error(e.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bots_not_http_clients() {
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "WhatsApp/2.23.20.0",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        ] {
            assert!(is_bot(&bot.to_lowercase()), "{bot}");
        }
        for person in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        ] {
            assert!(!is_bot(&person.to_lowercase()), "{person}");
        }
    }

    #[test]
    fn client_address_behind_proxies() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(client_ip(peer, &headers, 1), Some(peer));
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.7, 198.51.100.2"),
        );
        assert_eq!(client_ip(peer, &headers, 0), Some(peer));
        assert_eq!(client_ip(peer, &headers, 1), "198.51.100.2".parse().ok());
        assert_eq!(client_ip(peer, &headers, 2), "203.0.113.7".parse().ok());
        assert_eq!(client_ip(peer, &headers, 5), "203.0.113.7".parse().ok());
        headers.insert("x-forwarded-for", HeaderValue::from_static("unknown"));
        assert_eq!(client_ip(peer, &headers, 1), None);
    }
}
