//! Generic authentication from a credential's data: basic, header, query, bearer and custom
//! (JSON `{headers, qs, body}`) credentials, and OAuth2 (client credentials: a token fetched
//! once and shared by the whole process until shortly before it expires; other grants use the
//! token stored on the credential). Secrets go into the request only, never into messages.

use super::errors::Failure;
use super::request::{basic_auth, RequestSpec};
use sluice_model::Value;
use sluice_runtime::http::{Http, Keyed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A cached OAuth2 access token.
struct Token {
    value: String,
    expires: Instant,
}

/// Tokens by (token URL, client id, scope); one fetch at a time per key.
fn tokens() -> &'static Keyed<tokio::sync::Mutex<Option<Token>>> {
    static TOKENS: OnceLock<Keyed<tokio::sync::Mutex<Option<Token>>>> = OnceLock::new();
    TOKENS.get_or_init(Keyed::default)
}

/// Add credential `kind` with `data` to `spec`.
pub(crate) async fn apply(
    kind: &str,
    data: &Value,
    spec: &mut RequestSpec,
    client: &reqwest::Client,
) -> Result<(), Failure> {
    let text = |key: &str| match &data[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match kind {
        "httpBasicAuth" => spec.set_header(
            "Authorization",
            basic_auth(&text("user"), &text("password")),
        ),
        "httpHeaderAuth" => spec.set_header(&text("name"), text("value")),
        "httpQueryAuth" => spec.set_query(&text("name"), text("value")),
        "httpBearerAuth" => spec.set_header("Authorization", format!("Bearer {}", text("token"))),
        "httpCustomAuth" => custom(&text("json"), spec)?,
        "oAuth2Api" => {
            let token = oauth2_token(data, client).await?;
            spec.set_header("Authorization", format!("Bearer {token}"));
        }
        other => {
            return Err(Failure::item(format!(
                "the credential type '{other}' is not supported"
            )))
        }
    }
    Ok(())
}

/// `httpCustomAuth`: JSON text `{"headers": {...}, "qs": {...}, "body": {...}}` merged in.
fn custom(json: &str, spec: &mut RequestSpec) -> Result<(), Failure> {
    let parsed: Value = serde_json::from_str(json)
        .map_err(|_| Failure::item("the custom auth credential's JSON is not valid JSON"))?;
    let object = |key: &str| parsed.get(key).and_then(Value::as_object).cloned();
    for (name, value) in object("headers").unwrap_or_default() {
        spec.set_header(&name, sluice_expr::json_js::to_js_string(&value));
    }
    for (name, value) in object("qs").unwrap_or_default() {
        spec.set_query(&name, sluice_expr::json_js::to_js_string(&value));
    }
    for (name, value) in object("body").unwrap_or_default() {
        spec.set_body_field(&name, value);
    }
    Ok(())
}

async fn oauth2_token(data: &Value, client: &reqwest::Client) -> Result<String, Failure> {
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_string();
    if text("grantType") != "clientCredentials" {
        return data["oauthTokenData"]["access_token"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| {
                Failure::item(
                    "the oAuth2Api credential holds no access token (connect it in n8n first, or \
                     use the client credentials grant)",
                )
            });
    }
    let url = text("accessTokenUrl");
    let key = format!("{url}\n{}\n{}", text("clientId"), text("scope"));
    let slot = tokens().get_or_insert_with(&key, || tokio::sync::Mutex::new(None));
    let mut cached = slot.lock().await;
    if let Some(token) = cached.as_ref().filter(|t| t.expires > Instant::now()) {
        return Ok(token.value.clone());
    }
    let token = fetch_token(data, &url, client).await?;
    let value = token.value.clone();
    *cached = Some(token);
    Ok(value)
}

/// POST the client-credentials grant to the token URL.
async fn fetch_token(data: &Value, url: &str, client: &reqwest::Client) -> Result<Token, Failure> {
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_string();
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        Failure::item("the oAuth2Api credential's access token URL is not a valid URL")
    })?;
    let basic = text("authentication") != "body";
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !text("scope").is_empty() {
            form.append_pair("scope", &text("scope"));
        }
        if !basic {
            form.append_pair("client_id", &text("clientId"));
            form.append_pair("client_secret", &text("clientSecret"));
        }
        form.finish()
    };
    let mut request = client.post(Http::shared().route(&parsed));
    if basic {
        request = request.header(
            "Authorization",
            basic_auth(&text("clientId"), &text("clientSecret")),
        );
    }
    let where_ = format!("{}{}", parsed.host_str().unwrap_or_default(), parsed.path());
    let response = request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            Failure::transport(
                format!(
                    "the OAuth2 token request to {where_} failed: {}",
                    e.without_url()
                ),
                "ECONNREFUSED",
            )
        })?;
    let status = response.status().as_u16();
    let body: Value = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let Some(token) = body["access_token"].as_str().filter(|_| status < 300) else {
        return Err(Failure::operation(
            format!("the OAuth2 token request to {where_} was refused (status {status})"),
            "check the client id, secret and scope of the oAuth2Api credential",
        ));
    };
    let lifetime = body["expires_in"].as_u64().unwrap_or(3600);
    Ok(Token {
        value: token.to_string(),
        // Renew a little early so a token never expires in flight.
        expires: Instant::now() + Duration::from_secs(lifetime.saturating_sub(30).max(1)),
    })
}
