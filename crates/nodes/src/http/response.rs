//! What a response becomes: n8n's output items for each response format (JSON arrays spread into
//! items, text under `data`, files as binary), with `fullResponse`'s `{body, headers,
//! statusCode, statusMessage}`; text decoded by the response's charset.

use super::config::{ResponseConfig, ResponseFormat};
use super::errors::Failure;
use crate::util::binary::{file_type, pretty_bytes};
use base64::Engine;
use sluice_model::{Item, JsonObject, Value};

/// A response as received (after redirects).
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The URL that answered (after redirects).
    pub url: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn status_text(&self) -> &'static str {
        reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }

    /// Headers as n8n shows them: one value per name (repeated ones joined with `, `,
    /// `set-cookie` as an array).
    pub fn headers_json(&self) -> Value {
        let mut out = JsonObject::new();
        for (name, value) in &self.headers {
            match out.get_mut(name) {
                Some(Value::Array(values)) => values.push(value.clone().into()),
                Some(Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(value);
                }
                _ => {
                    let value = if name == "set-cookie" {
                        Value::Array(vec![value.clone().into()])
                    } else {
                        value.clone().into()
                    };
                    out.insert(name.clone(), value);
                }
            }
        }
        Value::Object(out)
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// The body as text, decoded by the `charset` of its content type (UTF-8 otherwise).
    pub fn text(&self) -> String {
        let charset = self
            .content_type()
            .split(';')
            .skip(1)
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_string());
        let encoding = charset
            .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
            .unwrap_or(encoding_rs::UTF_8);
        encoding.decode(&self.body).0.into_owned()
    }

    fn is_json(&self) -> bool {
        let ct = self.content_type().to_ascii_lowercase();
        ct.contains("application/json") || ct.contains("+json")
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(self.text().trim_start_matches('\u{feff}')).ok()
    }

    /// `$response` in pagination expressions: `{body, headers, statusCode, statusMessage}`.
    pub fn to_expression_value(&self) -> Value {
        let body = if self.is_json() || self.json().is_some() {
            self.json().unwrap_or_else(|| self.text().into())
        } else {
            self.text().into()
        };
        let mut out = JsonObject::new();
        out.insert("body".into(), body);
        out.insert("headers".into(), self.headers_json());
        out.insert("statusCode".into(), self.status.into());
        out.insert("statusMessage".into(), self.status_text().into());
        Value::Object(out)
    }

    /// True for an empty body (nothing, whitespace, `[]`, `{}` or `""`).
    pub fn is_empty_body(&self) -> bool {
        let text = self.text();
        let trimmed = text.trim();
        trimmed.is_empty()
            || match serde_json::from_str::<Value>(trimmed) {
                Ok(Value::Array(a)) => a.is_empty(),
                Ok(Value::Object(o)) => o.is_empty(),
                Ok(Value::String(s)) => s.is_empty(),
                _ => false,
            }
    }
}

/// Content types n8n's autodetect treats as files.
fn is_binary_type(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    let media = ct.split(';').next().unwrap_or("").trim();
    ["image/", "audio/", "video/", "font/"]
        .iter()
        .any(|p| media.starts_with(p))
        || matches!(
            media,
            "application/octet-stream"
                | "application/pdf"
                | "application/zip"
                | "application/gzip"
                | "application/x-gzip"
                | "application/x-tar"
                | "application/x-7z-compressed"
                | "application/vnd.rar"
                | "application/x-bzip"
                | "application/x-bzip2"
                | "application/epub+zip"
                | "application/msword"
                | "application/vnd.ms-excel"
                | "application/vnd.ms-powerpoint"
                | "application/x-msdownload"
        )
        || media.starts_with("application/vnd.openxmlformats")
        || media.starts_with("application/vnd.oasis.opendocument")
}

/// The format a response is read in.
fn effective_format(config: &ResponseConfig, reply: &Reply) -> ResponseFormat {
    match config.format {
        ResponseFormat::Autodetect if reply.is_json() => ResponseFormat::Json,
        ResponseFormat::Autodetect if is_binary_type(reply.content_type()) => ResponseFormat::File,
        ResponseFormat::Autodetect => ResponseFormat::Text,
        other => other,
    }
}

/// The items one response becomes, each paired to input item `index`; text and files go to
/// `property` (see [`ResponseConfig::property`]).
pub(crate) fn to_items(
    config: &ResponseConfig,
    reply: &Reply,
    index: usize,
    property: &str,
) -> Result<Vec<Item>, Failure> {
    let format = effective_format(config, reply);
    let full = |body_key: &str, body: Option<Value>| {
        let mut json = JsonObject::new();
        if let Some(body) = body {
            json.insert(body_key.to_string(), body);
        }
        json.insert("headers".into(), reply.headers_json());
        json.insert("statusCode".into(), reply.status.into());
        json.insert("statusMessage".into(), reply.status_text().into());
        json
    };
    let mut items: Vec<JsonObject> = Vec::new();
    let mut binary = None;
    match format {
        ResponseFormat::Json => {
            let text = reply.text();
            let parsed = if text.trim().is_empty() {
                Value::Object(JsonObject::new())
            } else {
                match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
                    Ok(v) => v,
                    // Autodetect on a reply that only claims to be JSON: keep it as text.
                    Err(_) if config.format == ResponseFormat::Autodetect => {
                        return text_items(config, reply, index, property, full);
                    }
                    Err(_) => return Err(Failure::item(
                        "Response body is not valid JSON. Change \"Response Format\" to \"Text\"",
                    )),
                }
            };
            if config.full {
                items.push(full("body", Some(parsed)));
            } else {
                match parsed {
                    Value::Array(values) => {
                        for v in values {
                            items.push(match v {
                                Value::Object(o) => o,
                                other => single(property, other),
                            });
                        }
                    }
                    Value::Object(o) => items.push(o),
                    other => items.push(single(property, other)),
                }
            }
        }
        ResponseFormat::Text | ResponseFormat::Autodetect => {
            return text_items(config, reply, index, property, full);
        }
        ResponseFormat::File => {
            binary = Some(file_entry(reply));
            items.push(if config.full {
                full("body", None)
            } else {
                JsonObject::new()
            });
        }
    }
    Ok(items
        .into_iter()
        .map(|json| {
            let mut item = Item::new(json).paired_to(index);
            if let Some(entry) = &binary {
                let mut map = JsonObject::new();
                map.insert(property.to_string(), entry.clone());
                item.binary = Some(map.into());
            }
            item
        })
        .collect())
}

fn single(key: &str, value: Value) -> JsonObject {
    let mut o = JsonObject::new();
    o.insert(key.to_string(), value);
    o
}

fn text_items(
    config: &ResponseConfig,
    reply: &Reply,
    index: usize,
    property: &str,
    full: impl Fn(&str, Option<Value>) -> JsonObject,
) -> Result<Vec<Item>, Failure> {
    // A JSON reply read as text comes back re-serialised compactly, as n8n returns it.
    let text = match reply.is_json().then(|| reply.json()).flatten() {
        Some(parsed) => parsed.to_string(),
        None => reply.text(),
    };
    let json = if config.full {
        full(property, Some(text.into()))
    } else {
        single(property, text.into())
    };
    Ok(vec![Item::new(json).paired_to(index)])
}

/// The binary entry of a file response: name from `content-disposition`, else the URL path.
fn file_entry(reply: &Reply) -> Value {
    let file_name = reply
        .header("content-disposition")
        .and_then(disposition_file_name)
        .or_else(|| {
            reqwest::Url::parse(&reply.url).ok().and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.next_back().map(String::from))
                    .filter(|s| !s.is_empty())
            })
        });
    let mime_type = reply
        .header("content-type")
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_string())
        .filter(|m| !m.is_empty())
        .or_else(|| {
            file_name
                .as_deref()
                .and_then(|n| mime_guess::from_path(n).first())
                .map(|m| m.essence_str().to_string())
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut out = JsonObject::new();
    out.insert(
        "data".into(),
        base64::engine::general_purpose::STANDARD
            .encode(&reply.body)
            .into(),
    );
    out.insert("mimeType".into(), mime_type.clone().into());
    if let Some(kind) = file_type(&mime_type) {
        out.insert("fileType".into(), kind.into());
    }
    if let Some(name) = &file_name {
        if let Some((_, ext)) = name.rsplit_once('.') {
            out.insert("fileExtension".into(), ext.to_string().into());
        }
        out.insert("fileName".into(), name.clone().into());
    }
    out.insert("fileSize".into(), pretty_bytes(reply.body.len()).into());
    Value::Object(out)
}

/// `filename` (or `filename*`) of a content-disposition header.
fn disposition_file_name(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let encoded = v.rsplit("''").next().unwrap_or(v);
            return Some(percent_decode(encoded.trim_matches('"')));
        }
        if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_string());
        }
    }
    plain
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
