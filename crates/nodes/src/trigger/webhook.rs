//! Webhook (v1, 1.1, 2, 2.1): the parameters the server needs to route, admit and answer a
//! request, read once when the workflow is built. The node itself emits the request item the
//! server built (`{headers, params, query, body}`, plus `jwtPayload` under JWT auth).

use super::ip_whitelist::IpWhitelist;
use super::{credential_id, pass_through};
use crate::util::params::Reader;
use crate::util::values::as_text;
use sluice_engine::{NodeError, NodeKind, NodeSpec};
use sluice_model::{NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.webhook",
    versions: &[1.0, 1.1, 2.0, 2.1],
    kind: NodeKind::Trigger,
    factory: |def, _| {
        WebhookConfig::from_node(def)?;
        pass_through(def, &sluice_engine::Param::Literal(Value::Null))
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// Answer as soon as the execution is accepted.
    OnReceived,
    /// Answer with the last node's output when the execution ends.
    LastNode,
    /// A Respond to Webhook node answers.
    ResponseNode,
    /// The answer is a stream of JSON lines that Respond to Webhook nodes (v1.5, `Enable
    /// Streaming`) write into while the execution runs; it ends with the execution.
    Streaming,
}

/// What `lastNode` mode answers with (`responseData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseData {
    AllEntries,
    FirstEntryJson,
    FirstEntryBinary,
    NoData,
    /// A fixed text once the execution ended (a form's completion page).
    Text(String),
}

/// Who may call the webhook; credentials are looked up by id in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `httpBasicAuth` credential `{user, password}`.
    Basic {
        credential_id: String,
    },
    /// `httpHeaderAuth` credential `{name, value}`.
    Header {
        credential_id: String,
    },
    /// `jwtAuth` credential: `Authorization: Bearer <token>` signed with it.
    Jwt {
        credential_id: String,
    },
}

/// `allowedOrigins` (CORS): which browser origins may read the answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*` (the default): every origin.
    #[default]
    Any,
    /// Only these origins (`https://app.example.com`).
    List(Vec<String>),
}

impl AllowedOrigins {
    fn parse(text: &str) -> Self {
        let list: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from)
            .collect();
        if list.is_empty() || list.iter().any(|o| o == "*") {
            AllowedOrigins::Any
        } else {
            AllowedOrigins::List(list)
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o == origin),
        }
    }
}

#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Upper-case methods the path answers.
    pub methods: Vec<String>,
    /// Path segments; `:name` segments are parameters (`params` in the item).
    pub path: Vec<String>,
    pub auth: Auth,
    pub response_mode: ResponseMode,
    pub response_code: u16,
    pub response_data: ResponseData,
    /// `onReceived`: a custom body instead of `{"message": "Workflow was started"}`.
    pub received_body: Option<String>,
    pub no_response_body: bool,
    pub response_content_type: Option<String>,
    pub response_headers: Vec<(String, String)>,
    pub response_property_name: Option<String>,
    /// Non-JSON/form bodies (and all bodies with `rawBody`) go to this binary property.
    pub binary_property: String,
    /// Multipart uploads: with `binaryPropertyName` set, file `n` goes to property
    /// `<binaryPropertyName><n>`; otherwise to its form field's name.
    pub number_files: bool,
    pub raw_body: bool,
    /// `ipWhitelist`: only these clients may call (403 for others).
    pub ip_whitelist: Option<IpWhitelist>,
    /// `allowedOrigins`: the CORS answer to browsers.
    pub allowed_origins: AllowedOrigins,
    /// `ignoreBots`: crawlers and link previewers get 403 and start nothing.
    pub ignore_bots: bool,
}

/// `{entries: [{name, value}]}` (also used by Respond to Webhook).
pub fn header_entries(value: &Value) -> Vec<(String, String)> {
    value["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["name"].as_str()?.to_string(), as_text(&e["value"]))))
        .collect()
}

impl WebhookConfig {
    pub fn from_node(def: &NodeDef) -> Result<Self, NodeError> {
        let p = &def.parameters;
        let r = Reader::new(p);
        let options = &p["options"];
        let bad = |param: &str, message: String| NodeError::new(message).with_parameter(param);
        let methods = if r.bool_or("multipleMethods", false)? {
            p["httpMethod"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_uppercase)
                        .collect()
                })
                .unwrap_or_else(|| vec!["GET".into(), "POST".into()])
        } else {
            vec![r.str_or("httpMethod", "GET")?.to_uppercase()]
        };
        let path_text = r.str_or("path", "")?.trim_matches('/');
        if path_text.is_empty() || path_text.starts_with('=') {
            return Err(bad("path", "the webhook needs a fixed path".into()));
        }
        let mut path: Vec<String> = path_text.split('/').map(String::from).collect();
        // n8n puts the webhook id in front of paths with parameters.
        let webhook_id = def.extra.get("webhookId").and_then(Value::as_str);
        if let (true, Some(id)) = (path.iter().any(|s| s.starts_with(':')), webhook_id) {
            path.insert(0, id.to_string());
        }
        let credential =
            |kind: &str| credential_id(def, kind).map_err(|e| e.with_parameter("authentication"));
        let auth = match r.str_or("authentication", "none")? {
            "none" => Auth::None,
            "basicAuth" => Auth::Basic {
                credential_id: credential("httpBasicAuth")?,
            },
            "headerAuth" => Auth::Header {
                credential_id: credential("httpHeaderAuth")?,
            },
            "jwtAuth" => Auth::Jwt {
                credential_id: credential("jwtAuth")?,
            },
            other => {
                return Err(bad(
                    "authentication",
                    format!("authentication '{other}' is not supported"),
                ))
            }
        };
        let response_mode = match r.str_or("responseMode", "onReceived")? {
            "onReceived" => ResponseMode::OnReceived,
            "lastNode" => ResponseMode::LastNode,
            "responseNode" => ResponseMode::ResponseNode,
            "streaming" => ResponseMode::Streaming,
            other => {
                return Err(bad(
                    "responseMode",
                    format!("response mode '{other}' is not supported"),
                ))
            }
        };
        let response_data = match r.str_or("responseData", "firstEntryJson")? {
            "allEntries" => ResponseData::AllEntries,
            "firstEntryBinary" => ResponseData::FirstEntryBinary,
            "noData" => ResponseData::NoData,
            _ => ResponseData::FirstEntryJson,
        };
        let code = options
            .get("responseCode")
            .or_else(|| p.get("responseCode"))
            .map(|c| {
                c.get("values")
                    .and_then(|v| v.get("responseCode"))
                    .unwrap_or(c)
            });
        let response_code = match code {
            None => 200,
            Some(c) => c
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (100..600).contains(c))
                .ok_or_else(|| bad("responseCode", format!("invalid response code {c}")))?,
        };
        // Fixed texts only: they are read once, not per request.
        let fixed_option = |name: &str| -> Result<&str, NodeError> {
            match &options[name] {
                Value::Null => Ok(""),
                Value::String(s) if !s.starts_with('=') => Ok(s),
                _ => Err(bad(
                    &format!("options.{name}"),
                    "must be a fixed text, not an expression".into(),
                )),
            }
        };
        let ip_whitelist = IpWhitelist::parse(fixed_option("ipWhitelist")?)
            .map_err(|e| bad("options.ipWhitelist", e))?;
        Ok(WebhookConfig {
            methods,
            path,
            auth,
            response_mode,
            response_code,
            response_data,
            received_body: r.text("options.responseData")?.map(String::from),
            no_response_body: r.bool_or("options.noResponseBody", false)?,
            response_content_type: r.text("options.responseContentType")?.map(String::from),
            response_headers: header_entries(&options["responseHeaders"]),
            response_property_name: r.text("options.responsePropertyName")?.map(String::from),
            binary_property: r.str_or("options.binaryPropertyName", "data")?.to_string(),
            number_files: r.text("options.binaryPropertyName")?.is_some(),
            raw_body: r.bool_or("options.rawBody", false)?
                || r.bool_or("options.binaryData", false)?,
            ip_whitelist,
            allowed_origins: AllowedOrigins::parse(fixed_option("allowedOrigins")?),
            ignore_bots: r.bool_or("options.ignoreBots", false)?,
        })
    }

    /// True when `segments` (the request path) matches; fills `params` from `:name` segments.
    pub fn matches(&self, segments: &[&str], params: &mut sluice_model::JsonObject) -> bool {
        if segments.len() != self.path.len() {
            return false;
        }
        for (want, got) in self.path.iter().zip(segments) {
            match want.strip_prefix(':') {
                Some(name) => {
                    params.insert(name.to_string(), Value::String((*got).to_string()));
                }
                None if want == got => {}
                None => return false,
            }
        }
        true
    }

    /// True when the path has no parameters (routable by exact match).
    pub fn is_static(&self) -> bool {
        !self.path.iter().any(|s| s.starts_with(':'))
    }
}
