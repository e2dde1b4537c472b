//! HTTP Request's parameters, read once at build time into one shape for every typeVersion:
//! v1/v2 (`requestMethod`, `*ParametersUi`, `jsonParameters`, `responseFormat`) and v3-4.4
//! (`method`, `send*`/`specify*`, `options.response.response`, `options.pagination.pagination`),
//! plus Sluice's own options (`maxConcurrency`, `retry`, `rateLimit`). Values that may hold
//! expressions stay as parameter paths and are resolved per item when the request is built.

use super::errors::Failure;
use super::pagination::Resolver;
use crate::util::params::{unsupported as unknown, Reader};
use sluice_engine::{NodeError, Param};
use sluice_model::{NodeDef, Value};
use sluice_runtime::circuit::BreakerPolicy;
use sluice_runtime::http::ClientOptions;
use std::time::Duration;

/// Where a list of name/value pairs comes from.
#[derive(Clone, Debug)]
pub(crate) enum Pairs {
    /// An array of `{name, value}` at this path.
    KeyPair(String),
    /// A JSON object (or JSON text) at this path; the label names the field in errors.
    Json { path: String, label: &'static str },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Json,
    Form,
    Multipart,
    Binary,
    Raw,
}

#[derive(Clone, Debug)]
pub(crate) struct BodyConfig {
    pub kind: BodyKind,
    /// The fields (JSON, form, multipart), when the body is made of fields.
    pub fields: Option<Pairs>,
    /// The body text (raw, form-urlencoded given as a string).
    pub text_path: Option<String>,
    /// `rawContentType` (raw bodies).
    pub content_type_path: Option<String>,
    /// Binary property sent as the body (`binaryData`).
    pub binary_property_path: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResponseFormat {
    Autodetect,
    Json,
    Text,
    File,
}

#[derive(Clone, Debug)]
pub(crate) struct ResponseConfig {
    pub format: ResponseFormat,
    pub full: bool,
    pub never_error: bool,
    /// Where text goes (`data`) and, for files, the binary property name: a text, or an
    /// expression resolved for each item (`={{ $json.fileName }}`), as n8n resolves it.
    pub property: Param,
}

impl ResponseConfig {
    /// The parameter at `path` as the output property: an expression as it is, else its text
    /// (`data` when it is absent).
    fn property_at(params: &Param, path: &str) -> Result<Param, NodeError> {
        match params.path(path) {
            Some(param) if param.is_expression() => Ok(param.clone()),
            _ => Ok(Param::Literal(
                Reader::fixed(params).str_or(path, "data")?.into(),
            )),
        }
    }

    /// The output property for input item `index`.
    pub fn property(
        &self,
        resolver: &impl Resolver,
        index: usize,
    ) -> Result<std::borrow::Cow<'_, str>, Failure> {
        if let Some(Value::String(name)) = self.property.literal() {
            return Ok(name.as_str().into());
        }
        let resolved = resolver
            .resolve_with(&self.property, index, &Default::default())
            .map_err(Failure::from_node_error)?;
        Ok(sluice_expr::json_js::to_js_string(&resolved).into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArrayFormat {
    Brackets,
    Indices,
    Repeat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuthConfig {
    None,
    /// A credential type: `httpBasicAuth`, `httpHeaderAuth`, `httpQueryAuth`, `httpBearerAuth`,
    /// `httpCustomAuth`, `oAuth2Api`.
    Credential(String),
    /// A value that is none of the parameter's options (workflows shared with their
    /// authentication replaced by a placeholder such as `{{ $credentials.headerAuth }}`): n8n
    /// matches none of its cases and sends the requests without authentication, and so does
    /// Sluice, with a load warning.
    Unknown(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PaginationMode {
    UpdateParameters,
    NextUrl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompleteWhen {
    ResponseIsEmpty,
    StatusCodes,
    Expression,
}

#[derive(Clone, Debug)]
pub(crate) struct PaginationConfig {
    pub mode: PaginationMode,
    /// `options.pagination.pagination` (expressions there see `$response`, `$pageCount`, ...).
    pub base: Param,
    pub complete_when: CompleteWhen,
    pub status_codes: Vec<u16>,
    pub max_requests: Option<Param>,
    pub interval: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Batching {
    pub size: usize,
    pub interval: Duration,
}

/// Sluice's per-item retries (`options.retry`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RetryConfig {
    pub max_retries: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LimitScope {
    Node,
    Credential,
    Host,
    /// One bucket on the process's Redis shared by every process: `options.rateLimit.bucket`,
    /// else the request's host.
    Global {
        bucket: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RateLimitConfig {
    pub quota: sluice_runtime::rate_limit::Quota,
    pub scope: LimitScope,
}

/// Where cached responses live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheStore {
    /// In the process.
    Memory,
    /// On the process's Redis, shared by every process (and in memory in front of it).
    Redis,
}

/// Sluice's response cache (`options.cache`).
#[derive(Clone, Debug)]
pub(crate) struct CacheConfig {
    pub ttl: Duration,
    pub store: CacheStore,
    /// `options.cache.key`: an expression per item; by default the request itself.
    pub key: Option<Param>,
}

#[derive(Clone, Debug)]
pub(crate) struct HttpConfig {
    pub method_path: &'static str,
    pub url_path: &'static str,
    pub auth: AuthConfig,
    pub query: Vec<Pairs>,
    pub headers: Vec<Pairs>,
    pub body: Option<BodyConfig>,
    pub response: ResponseConfig,
    pub timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub client: ClientOptions,
    pub array_format: ArrayFormat,
    pub batching: Option<Batching>,
    pub pagination: Option<PaginationConfig>,
    pub max_concurrency: usize,
    pub retry: Option<RetryConfig>,
    pub rate_limit: Option<RateLimitConfig>,
    pub cache: Option<CacheConfig>,
    pub circuit_breaker: Option<BreakerPolicy>,
    /// The GraphQL node: how its query is sent.
    pub graphql: Option<GraphQlFormat>,
}

/// How the GraphQL node sends a `POST`'s query (a `GET` puts it in the query string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GraphQlFormat {
    /// `{query, variables, operationName}` as JSON.
    Json,
    /// The query as the body, `application/graphql`.
    Raw,
}

/// Ours: requests in flight per node run unless `options.maxConcurrency` says otherwise.
pub(crate) const DEFAULT_MAX_CONCURRENCY: usize = 16;

fn str_at<'p>(params: &'p Param, path: &str) -> Option<&'p str> {
    params.at(path).literal_str()
}

impl HttpConfig {
    pub fn build(def: &NodeDef, params: &Param) -> Result<Self, NodeError> {
        if def.node_type == super::graphql::SPEC.node_type {
            Self::graphql(def, params)
        } else if def.version() < 3.0 {
            Self::legacy(params)
        } else {
            Self::current(def, params)
        }
    }

    /// v3 - v4.4.
    fn current(def: &NodeDef, params: &Param) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        // Query parameters or headers when `send` is on: key/value pairs, or one JSON object.
        let pairs = |send: &str, specify: &str, json_path: &str, label, pairs_path: &str| {
            if !r.bool_or(send, false)? {
                return Ok::<_, NodeError>(Vec::new());
            }
            Ok(vec![match r.str_or(specify, "keypair")? {
                "json" => Pairs::Json {
                    path: json_path.into(),
                    label,
                },
                _ => Pairs::KeyPair(pairs_path.into()),
            }])
        };
        let query = pairs(
            "sendQuery",
            "specifyQuery",
            "jsonQuery",
            "JSON Query Parameters",
            "queryParameters.parameters",
        )?;
        let headers = pairs(
            "sendHeaders",
            "specifyHeaders",
            "jsonHeaders",
            "JSON Headers",
            "headerParameters.parameters",
        )?;
        let body = if r.bool_or("sendBody", false)? {
            Some(current_body(params)?)
        } else {
            None
        };
        let auth = match r.str_or("authentication", "none")? {
            "none" => AuthConfig::None,
            "genericCredentialType" => {
                AuthConfig::Credential(generic_kind(r.str_or("genericAuthType", "")?)?)
            }
            "predefinedCredentialType" => {
                let kind = r.str_or("nodeCredentialType", "")?;
                AuthConfig::Credential(generic_kind(kind).map_err(|_| {
                    NodeError::new(format!(
                        "the predefined credential type '{kind}' is not supported; use generic \
                         authentication (httpBasicAuth, httpHeaderAuth, httpQueryAuth, \
                         httpBearerAuth, httpCustomAuth, oAuth2Api)"
                    ))
                    .with_parameter("nodeCredentialType")
                })?)
            }
            other => AuthConfig::Unknown(other.to_string()),
        };
        let resp = "options.response.response";
        let format = match r.str_or(&format!("{resp}.responseFormat"), "autodetect")? {
            "autodetect" => ResponseFormat::Autodetect,
            "json" => ResponseFormat::Json,
            "text" | "string" => ResponseFormat::Text,
            "file" => ResponseFormat::File,
            other => return Err(unknown(&format!("{resp}.responseFormat"), other)),
        };
        let response = ResponseConfig {
            format,
            full: r.bool_or(&format!("{resp}.fullResponse"), false)?,
            never_error: r.bool_or(&format!("{resp}.neverError"), false)?,
            property: ResponseConfig::property_at(params, &format!("{resp}.outputPropertyName"))?,
        };
        let redirect = "options.redirect.redirect";
        let follow_default = def.version() >= 4.0 || params.path(redirect).is_none();
        let pagination = pagination(params)?;
        let batching = match params.path("options.batching.batch") {
            Some(_) => {
                let size = r.number_or("options.batching.batch.batchSize", 50.0)?;
                (size > 0.0).then_some(Batching {
                    size: size as usize,
                    interval: millis(r.number_or("options.batching.batch.batchInterval", 1000.0)?),
                })
            }
            None => None,
        };
        let mut config = HttpConfig {
            method_path: "method",
            url_path: "url",
            auth,
            query,
            headers,
            body,
            response,
            timeout: timeout(params, "options.timeout")?,
            follow_redirects: r.bool_or(&format!("{redirect}.followRedirects"), follow_default)?,
            max_redirects: r.number_or(&format!("{redirect}.maxRedirects"), 21.0)? as u32,
            client: ClientOptions {
                accept_invalid_certs: r.bool_or("options.allowUnauthorizedCerts", false)?,
                proxy: str_at(params, "options.proxy")
                    .filter(|p| !p.is_empty())
                    .map(String::from),
            },
            array_format: match r.str_or("options.queryParameterArrays", "brackets")? {
                "indices" => ArrayFormat::Indices,
                "repeat" => ArrayFormat::Repeat,
                _ => ArrayFormat::Brackets,
            },
            batching,
            pagination,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            retry: None,
            rate_limit: None,
            cache: None,
            circuit_breaker: None,
            graphql: None,
        };
        config.read_ours(params)?;
        Ok(config)
    }

    /// v1 and v2.
    fn legacy(params: &Param) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        let json = r.bool_or("jsonParameters", false)?;
        let pairs = |ui: &str, json_path: &str, label: &'static str| {
            if json {
                Pairs::Json {
                    path: json_path.into(),
                    label,
                }
            } else {
                Pairs::KeyPair(format!("{ui}.parameter"))
            }
        };
        let content = r.str_or("options.bodyContentType", "json")?;
        let kind = match content {
            "json" => BodyKind::Json,
            "form-urlencoded" => BodyKind::Form,
            "multipart-form-data" => BodyKind::Multipart,
            "raw" => BodyKind::Raw,
            other => return Err(unknown("options.bodyContentType", other)),
        };
        let body = BodyConfig {
            fields: (kind != BodyKind::Raw)
                .then(|| pairs("bodyParametersUi", "bodyParametersJson", "Body Parameters")),
            text_path: (kind == BodyKind::Raw).then(|| "bodyParametersJson".to_string()),
            content_type_path: None,
            binary_property_path: None,
            kind,
        };
        let auth = match r.str_or("authentication", "none")? {
            "none" => AuthConfig::None,
            "basicAuth" => AuthConfig::Credential("httpBasicAuth".into()),
            "headerAuth" => AuthConfig::Credential("httpHeaderAuth".into()),
            "queryAuth" => AuthConfig::Credential("httpQueryAuth".into()),
            "oAuth2" => AuthConfig::Credential("oAuth2Api".into()),
            other @ ("digestAuth" | "oAuth1") => {
                return Err(
                    NodeError::new(format!("authentication '{other}' is not supported"))
                        .with_parameter("authentication"),
                )
            }
            other => AuthConfig::Unknown(other.to_string()),
        };
        let format = match r.str_or("responseFormat", "json")? {
            "json" => ResponseFormat::Json,
            "string" => ResponseFormat::Text,
            "file" => ResponseFormat::File,
            other => return Err(unknown("responseFormat", other)),
        };
        let mut config = HttpConfig {
            method_path: "requestMethod",
            url_path: "url",
            auth,
            query: vec![pairs(
                "queryParametersUi",
                "queryParametersJson",
                "Query Parameters",
            )],
            headers: vec![pairs(
                "headerParametersUi",
                "headerParametersJson",
                "Headers",
            )],
            body: Some(body),
            response: ResponseConfig {
                format,
                full: r.bool_or("options.fullResponse", false)?,
                never_error: r.bool_or("options.ignoreResponseCode", false)?,
                property: ResponseConfig::property_at(params, "dataPropertyName")?,
            },
            timeout: timeout(params, "options.timeout")?,
            follow_redirects: r.bool_or("options.followRedirect", true)?,
            max_redirects: 21,
            client: ClientOptions {
                accept_invalid_certs: r.bool_or("allowUnauthorizedCerts", false)?,
                proxy: str_at(params, "options.proxy")
                    .filter(|p| !p.is_empty())
                    .map(String::from),
            },
            array_format: ArrayFormat::Brackets,
            batching: None,
            pagination: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            retry: None,
            rate_limit: None,
            cache: None,
            circuit_breaker: None,
            graphql: None,
        };
        config.read_ours(params)?;
        Ok(config)
    }

    /// Requests built by a node itself (the n8n API node): no parameters read, every option at
    /// its default.
    pub fn defaults() -> Self {
        Self::legacy(&Param::Literal(Value::Object(Default::default())))
            .expect("empty parameters are valid")
    }

    /// The GraphQL node (v1, v1.1): HTTP Request v1's method, headers, authentication, response
    /// format and certificate switch under the same names, the URL in `endpoint`, and a body
    /// made of the query (see `super::graphql`).
    fn graphql(def: &NodeDef, params: &Param) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        let mut config = Self::legacy(params)?;
        config.url_path = "endpoint";
        config.query = Vec::new();
        config.body = None;
        if r.str_or("authentication", "none")? == "customAuth" {
            config.auth = AuthConfig::Credential("httpCustomAuth".into());
        }
        let default_format = if def.version() >= 1.1 {
            "json"
        } else {
            "graphql"
        };
        config.graphql = Some(r.choice("requestFormat", default_format, |f| match f {
            "json" => Some(GraphQlFormat::Json),
            "graphql" => Some(GraphQlFormat::Raw),
            _ => None,
        })?);
        Ok(config)
    }

    /// Sluice's own options (n8n ignores options it does not know).
    fn read_ours(&mut self, params: &Param) -> Result<(), NodeError> {
        let r = Reader::fixed(params);
        let concurrency = r.number_or("options.maxConcurrency", DEFAULT_MAX_CONCURRENCY as f64)?;
        if concurrency < 1.0 {
            return Err(
                NodeError::new("must be at least 1").with_parameter("options.maxConcurrency")
            );
        }
        self.max_concurrency = concurrency as usize;
        if params.path("options.retry").is_some() {
            self.retry = Some(RetryConfig {
                max_retries: r.number_or("options.retry.maxRetries", 3.0)? as u32,
                base: millis(r.number_or("options.retry.baseDelay", 500.0)?),
                max_delay: millis(r.number_or("options.retry.maxDelay", 30_000.0)?),
            });
        }
        if params.path("options.cache").is_some() {
            let store = match r.str_or("options.cache.store", "memory")? {
                "memory" => CacheStore::Memory,
                "redis" => CacheStore::Redis,
                other => return Err(unknown("options.cache.store", other)),
            };
            let ttl = r.number_or("options.cache.ttl", 60.0)?;
            if ttl <= 0.0 {
                return Err(NodeError::new("must be more than 0 seconds")
                    .with_parameter("options.cache.ttl"));
            }
            self.cache = Some(CacheConfig {
                ttl: Duration::from_secs_f64(ttl),
                store,
                key: params.path("options.cache.key").cloned(),
            });
        }
        if params.path("options.rateLimit").is_some() {
            let requests = r.number_or("options.rateLimit.requests", 0.0)?;
            let per = r.number_or("options.rateLimit.per", 1000.0)?;
            if requests < 1.0 || per <= 0.0 {
                return Err(
                    NodeError::new("needs `requests` >= 1 and `per` > 0 (milliseconds)")
                        .with_parameter("options.rateLimit"),
                );
            }
            let scope = match r.str_or("options.rateLimit.scope", "node")? {
                "node" => LimitScope::Node,
                "credential" => LimitScope::Credential,
                "host" => LimitScope::Host,
                "global" => LimitScope::Global {
                    bucket: r
                        .text("options.rateLimit.bucket")?
                        .filter(|b| !b.is_empty())
                        .map(String::from),
                },
                other => return Err(unknown("options.rateLimit.scope", other)),
            };
            self.rate_limit = Some(RateLimitConfig {
                quota: sluice_runtime::rate_limit::Quota {
                    requests: requests as u32,
                    per: millis(per),
                    burst: r.number_or("options.rateLimit.burst", 1.0)?.max(1.0) as u32,
                },
                scope,
            });
        }
        if params.path("options.circuitBreaker").is_some() {
            let failures = r.number_or("options.circuitBreaker.failures", 5.0)?;
            if failures < 1.0 {
                return Err(NodeError::new("must be at least 1")
                    .with_parameter("options.circuitBreaker.failures"));
            }
            self.circuit_breaker = Some(BreakerPolicy {
                failures: failures as u32,
                reset_after: millis(r.number_or("options.circuitBreaker.resetAfter", 30_000.0)?),
            });
        }
        Ok(())
    }
}

/// The credential type of a generic authentication.
fn generic_kind(kind: &str) -> Result<String, NodeError> {
    match kind {
        "httpBasicAuth" | "httpHeaderAuth" | "httpQueryAuth" | "httpBearerAuth"
        | "httpCustomAuth" | "oAuth2Api" => Ok(kind.to_string()),
        "" => {
            Err(NodeError::new("no credential type is selected").with_parameter("genericAuthType"))
        }
        other => Err(NodeError::new(format!(
            "the credential type '{other}' is not supported (supported: httpBasicAuth, \
             httpHeaderAuth, httpQueryAuth, httpBearerAuth, httpCustomAuth, oAuth2Api)"
        ))
        .with_parameter("genericAuthType")),
    }
}

fn current_body(params: &Param) -> Result<BodyConfig, NodeError> {
    let r = Reader::fixed(params);
    let content = r.str_or("contentType", "json")?;
    let specify = r.str_or("specifyBody", "keypair")?;
    let fields = |json_label: &'static str| match specify {
        "json" => Some(Pairs::Json {
            path: "jsonBody".into(),
            label: json_label,
        }),
        "keypair" => Some(Pairs::KeyPair("bodyParameters.parameters".into())),
        _ => None,
    };
    let none = BodyConfig {
        kind: BodyKind::Json,
        fields: None,
        text_path: None,
        content_type_path: None,
        binary_property_path: None,
    };
    Ok(match content {
        "json" => BodyConfig {
            fields: fields("JSON Body"),
            ..none
        },
        "form-urlencoded" => BodyConfig {
            kind: BodyKind::Form,
            fields: fields("JSON Body"),
            text_path: (specify == "string").then(|| "body".to_string()),
            ..none
        },
        "multipart-form-data" => BodyConfig {
            kind: BodyKind::Multipart,
            fields: Some(Pairs::KeyPair("bodyParameters.parameters".into())),
            ..none
        },
        "binaryData" => BodyConfig {
            kind: BodyKind::Binary,
            binary_property_path: Some("inputDataFieldName".into()),
            ..none
        },
        "raw" => BodyConfig {
            kind: BodyKind::Raw,
            text_path: Some("body".into()),
            content_type_path: Some("rawContentType".into()),
            ..none
        },
        other => return Err(unknown("contentType", other)),
    })
}

fn pagination(params: &Param) -> Result<Option<PaginationConfig>, NodeError> {
    let r = Reader::fixed(params);
    let base = "options.pagination.pagination";
    if params.path(base).is_none() {
        return Ok(None);
    }
    let at = |key: &str| format!("{base}.{key}");
    let mode = match r.str_or(&at("paginationMode"), "updateAParameterInEachRequest")? {
        "off" => return Ok(None),
        "updateAParameterInEachRequest" => PaginationMode::UpdateParameters,
        "responseContainsNextURL" => PaginationMode::NextUrl,
        other => return Err(unknown(&at("paginationMode"), other)),
    };
    let complete_when = match r.str_or(&at("paginationCompleteWhen"), "responseIsEmpty")? {
        "responseIsEmpty" => CompleteWhen::ResponseIsEmpty,
        "receiveSpecificStatusCodes" => CompleteWhen::StatusCodes,
        "other" => CompleteWhen::Expression,
        other => return Err(unknown(&at("paginationCompleteWhen"), other)),
    };
    let status_codes = match params.at(&at("statusCodesWhenComplete")).literal() {
        Some(Value::String(s)) => s.split(',').filter_map(|c| c.trim().parse().ok()).collect(),
        Some(Value::Number(n)) => n.as_u64().map(|c| c as u16).into_iter().collect(),
        _ => Vec::new(),
    };
    let max_requests = r
        .bool_or(&at("limitPagesFetched"), false)?
        .then(|| params.path(&at("maxRequests")).cloned())
        .map(|p| p.unwrap_or(Param::Literal(Value::from(100))));
    Ok(Some(PaginationConfig {
        mode,
        base: params.at(base).clone(),
        complete_when,
        status_codes,
        max_requests,
        interval: millis(r.number_or(&at("requestInterval"), 0.0)?),
    }))
}

fn millis(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0) as u64)
}

fn timeout(params: &Param, path: &str) -> Result<Option<Duration>, NodeError> {
    let r = Reader::fixed(params);
    Ok(match params.path(path) {
        Some(_) => {
            let ms = r.number_or(path, 0.0)?;
            (ms > 0.0).then(|| millis(ms))
        }
        None => None,
    })
}
