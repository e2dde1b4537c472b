//! One item's request, resolved from the node's parameters: method, URL, query, headers and body
//! as plain data, so pagination can change a parameter between pages and the sender can retry
//! or follow redirects by rebuilding it.

use super::config::{ArrayFormat, BodyConfig, BodyKind, HttpConfig, Pairs};
use crate::util::binary;
use base64::Engine;
use sluice_engine::{ExecuteContext, NodeError};
use sluice_expr::json_js;
use sluice_model::{Item, JsonObject, Value};

/// A multipart part.
#[derive(Clone, Debug)]
pub(crate) enum Part {
    Text(String, String),
    File {
        name: String,
        data: Vec<u8>,
        file_name: String,
        mime_type: String,
    },
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Multipart(Vec<Part>),
    Bytes {
        data: Vec<u8>,
        content_type: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct RequestSpec {
    pub method: reqwest::Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl RequestSpec {
    /// Set (or replace) a query parameter.
    pub fn set_query(&mut self, name: &str, value: String) {
        self.query.retain(|(n, _)| n != name);
        self.query.push((name.to_string(), value));
    }

    /// Set (or replace) a header, matching names case-insensitively.
    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Set a body field (pagination's `type: body`): a JSON property, a form field or a
    /// multipart text part.
    pub fn set_body_field(&mut self, name: &str, value: Value) {
        match &mut self.body {
            Body::Json(Value::Object(map)) => {
                map.insert(name.to_string(), value);
            }
            Body::Form(fields) => {
                fields.retain(|(n, _)| n != name);
                fields.push((name.to_string(), json_js::to_js_string(&value)));
            }
            Body::Multipart(parts) => {
                parts.retain(|p| !matches!(p, Part::Text(n, _) if n == name));
                parts.push(Part::Text(name.to_string(), json_js::to_js_string(&value)));
            }
            body => {
                let mut map = JsonObject::new();
                map.insert(name.to_string(), value);
                *body = Body::Json(Value::Object(map));
            }
        }
    }

    /// `$request` in pagination expressions: the request without its credentials.
    pub fn to_json(&self) -> Value {
        let mut out = JsonObject::new();
        out.insert("method".into(), self.method.as_str().into());
        out.insert("url".into(), self.url.clone().into());
        let pairs = |pairs: &[(String, String)]| {
            Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
        };
        out.insert("qs".into(), pairs(&self.query));
        out.insert("headers".into(), pairs(&self.headers));
        if let Body::Json(body) = &self.body {
            out.insert("body".into(), body.clone());
        }
        Value::Object(out)
    }
}

/// Build item `index`'s request.
pub(crate) fn build(
    ctx: &ExecuteContext<'_>,
    config: &HttpConfig,
    item: &Item,
    index: usize,
) -> Result<RequestSpec, NodeError> {
    let method_text = ctx
        .param_str(config.method_path, index)?
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    let method = reqwest::Method::from_bytes(method_text.as_bytes()).map_err(|_| {
        NodeError::new(format!("'{method_text}' is not an HTTP method"))
            .with_parameter(config.method_path)
    })?;
    let url = ctx.param_str(config.url_path, index)?.unwrap_or_default();
    let url = url.trim().to_string();
    let mut query = Vec::new();
    for pairs in &config.query {
        for (name, value) in resolve_pairs(ctx, pairs, index)? {
            push_query(&mut query, &name, &value, config.array_format);
        }
    }
    let mut headers = Vec::new();
    for pairs in &config.headers {
        for (name, value) in resolve_pairs(ctx, pairs, index)? {
            if name.is_empty() {
                continue;
            }
            headers.retain(|(n, _): &(String, String)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, json_js::to_js_string(&value)));
        }
    }
    let body = match &config.body {
        Some(body) => build_body(ctx, body, item, index)?,
        None => Body::None,
    };
    Ok(RequestSpec {
        method,
        url,
        query,
        headers,
        body,
    })
}

/// Query pairs: for keypairs the last value of a repeated name wins (as n8n does); arrays from
/// JSON are written in the node's array format.
fn push_query(query: &mut Vec<(String, String)>, name: &str, value: &Value, format: ArrayFormat) {
    if name.is_empty() {
        return;
    }
    match value {
        Value::Array(values) => {
            query.retain(|(n, _)| n != name);
            for (i, v) in values.iter().enumerate() {
                let key = match format {
                    ArrayFormat::Brackets => format!("{name}[]"),
                    ArrayFormat::Indices => format!("{name}[{i}]"),
                    ArrayFormat::Repeat => name.to_string(),
                };
                query.push((key, json_js::to_js_string(v)));
            }
        }
        Value::Object(_) => {
            query.retain(|(n, _)| n != name);
            query.push((name.to_string(), value.to_string()));
        }
        other => {
            query.retain(|(n, _)| n != name);
            query.push((name.to_string(), json_js::to_js_string(other)));
        }
    }
}

/// Name/value pairs, values as resolved (JSON types kept).
fn resolve_pairs(
    ctx: &ExecuteContext<'_>,
    pairs: &Pairs,
    index: usize,
) -> Result<Vec<(String, Value)>, NodeError> {
    match pairs {
        Pairs::KeyPair(path) => {
            let list = ctx.param(path, index)?;
            Ok(list
                .as_array()
                .into_iter()
                .flatten()
                .map(|entry| {
                    let name = json_js::to_js_string(&entry["name"]);
                    let value = entry
                        .get("value")
                        .cloned()
                        .unwrap_or(Value::String(String::new()));
                    (name, value)
                })
                .collect())
        }
        Pairs::Json { path, label } => {
            let value = ctx.param(path, index)?;
            let object = match value {
                Value::Null => return Ok(Vec::new()),
                Value::String(text) if text.trim().is_empty() => return Ok(Vec::new()),
                Value::String(text) => {
                    serde_json::from_str::<Value>(&text).map_err(|_| invalid_json(label, path))?
                }
                other => other,
            };
            match object {
                Value::Object(map) => Ok(map.into_iter().collect()),
                _ => Err(invalid_json(label, path)),
            }
        }
    }
}

fn invalid_json(label: &str, path: &str) -> NodeError {
    NodeError::new(format!(
        "The value in the \"{label}\" field is not valid JSON"
    ))
    .with_parameter(path)
}

fn build_body(
    ctx: &ExecuteContext<'_>,
    config: &BodyConfig,
    item: &Item,
    index: usize,
) -> Result<Body, NodeError> {
    match config.kind {
        BodyKind::Json => match &config.fields {
            Some(Pairs::Json { path, label }) => {
                let value = ctx.param(path, index)?;
                Ok(match value {
                    Value::Null => Body::None,
                    Value::String(text) if text.trim().is_empty() => Body::None,
                    Value::String(text) => Body::Json(
                        serde_json::from_str(&text).map_err(|_| invalid_json(label, path))?,
                    ),
                    other => Body::Json(other),
                })
            }
            Some(pairs) => {
                let fields = resolve_pairs(ctx, pairs, index)?;
                if fields.is_empty() {
                    return Ok(Body::None);
                }
                let mut map = JsonObject::new();
                for (name, value) in fields {
                    if !name.is_empty() {
                        map.insert(name, value);
                    }
                }
                Ok(Body::Json(Value::Object(map)))
            }
            None => Ok(Body::None),
        },
        BodyKind::Form => {
            if let Some(path) = &config.text_path {
                let text = ctx.param_str(path, index)?.unwrap_or_default();
                return Ok(Body::Bytes {
                    data: text.into_bytes(),
                    content_type: Some("application/x-www-form-urlencoded".into()),
                });
            }
            let fields = match &config.fields {
                Some(pairs) => resolve_pairs(ctx, pairs, index)?,
                None => Vec::new(),
            };
            Ok(Body::Form(
                fields
                    .into_iter()
                    .filter(|(n, _)| !n.is_empty())
                    .map(|(n, v)| (n, json_js::to_js_string(&v)))
                    .collect(),
            ))
        }
        BodyKind::Multipart => {
            let path = match &config.fields {
                Some(Pairs::KeyPair(path)) | Some(Pairs::Json { path, .. }) => path.as_str(),
                None => return Ok(Body::Multipart(Vec::new())),
            };
            let list = ctx.param(path, index)?;
            let mut parts = Vec::new();
            for entry in list.as_array().into_iter().flatten() {
                let name = json_js::to_js_string(&entry["name"]);
                if entry["parameterType"] == "formBinaryData" {
                    let property = entry["inputDataFieldName"].as_str().unwrap_or("data");
                    let (data, file_name, mime_type) = binary_of(ctx, item, property)?;
                    parts.push(Part::File {
                        name,
                        data,
                        file_name,
                        mime_type,
                    });
                } else {
                    let value = entry.get("value").cloned().unwrap_or_default();
                    parts.push(Part::Text(name, json_js::to_js_string(&value)));
                }
            }
            Ok(Body::Multipart(parts))
        }
        BodyKind::Binary => {
            let path = config
                .binary_property_path
                .as_deref()
                .unwrap_or("inputDataFieldName");
            let property = ctx.param_str(path, index)?.unwrap_or_else(|| "data".into());
            let (data, _, mime_type) = binary_of(ctx, item, &property)?;
            Ok(Body::Bytes {
                data,
                content_type: Some(mime_type),
            })
        }
        BodyKind::Raw => {
            let text = match &config.text_path {
                Some(path) => match ctx.param(path, index)? {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                },
                None => String::new(),
            };
            let content_type = match &config.content_type_path {
                Some(path) => ctx.param_str(path, index)?.filter(|c| !c.is_empty()),
                None => None,
            };
            Ok(Body::Bytes {
                data: text.into_bytes(),
                content_type,
            })
        }
    }
}

/// Bytes, file name and MIME type of binary property `property`.
fn binary_of(
    ctx: &ExecuteContext<'_>,
    item: &Item,
    property: &str,
) -> Result<(Vec<u8>, String, String), NodeError> {
    let data = binary::read(ctx, item, property, "inputDataFieldName")?;
    let entry = item.binary.as_ref().and_then(|b| b.get(property));
    let text = |key: &str| {
        entry
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(String::from)
    };
    Ok((
        data,
        text("fileName").unwrap_or_else(|| property.to_string()),
        text("mimeType").unwrap_or_else(|| "application/octet-stream".into()),
    ))
}

/// `Authorization: Basic ...` value.
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}").as_bytes());
    format!("Basic {token}")
}
