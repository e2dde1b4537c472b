//! HTTP Request against a local server (axum on 127.0.0.1, started per test) that records every
//! request with its arrival time and counts requests in flight: parameters and bodies as sent,
//! authentication from credentials, response formats, n8n's error items, and Sluice's options
//! (bounded concurrency, retries honouring Retry-After, rate limits, the circuit breaker).

mod common;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, Credentials, ExecutionOptions, RunOutcome, RunStatus};
use sluice_model::Workflow;
use sluice_runtime::{Clock, CredentialSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HTTP: &str = "n8n-nodes-base.httpRequest";
const SECRET: &str = "s3cret-do-not-print";

/// One request the mock saw.
#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    path: String,
    query: String,
    headers: HeaderMap,
}

#[derive(Default)]
struct Mock {
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Per path: how many times it was asked (for "fail N times, then succeed").
    hits: Mutex<std::collections::HashMap<String, usize>>,
}

impl Mock {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(
    State(mock): State<Arc<Mock>>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = mock.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    mock.max_in_flight.fetch_max(now, Ordering::SeqCst);
    mock.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        path: path.clone(),
        query: uri.query().unwrap_or_default().to_string(),
        headers: headers.clone(),
    });
    let hit = {
        let mut hits = mock.hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let response = match path.as_str() {
        "json" => axum::Json(json!({"ok": true})).into_response(),
        "list" => axum::Json(json!([{"id": 1}, {"id": 2}, 3])).into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_millis(40)).await;
            axum::Json(json!({"slow": true})).into_response()
        }
        "echo" => axum::Json(json!({
            "method": method.to_string(),
            "query": uri.query().unwrap_or_default(),
            "contentType": headers.get("content-type").and_then(|v| v.to_str().ok()),
            "xCustom": headers.get("x-custom").and_then(|v| v.to_str().ok()),
            "body": String::from_utf8_lossy(&body),
        }))
        .into_response(),
        "text" => ([("content-type", "text/plain")], "plain words").into_response(),
        "html" => "<html><body>hi</body></html>".into_response(),
        "redirect" => (StatusCode::FOUND, [("location", "/json")]).into_response(),
        "busy" if hit <= 2 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        "busy" => axum::Json(json!({"finally": true})).into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "it broke").into_response(),
        "storm" => (StatusCode::SERVICE_UNAVAILABLE, "down for now").into_response(),
        "token" => {
            let form = String::from_utf8_lossy(&body).to_string();
            if form.contains("grant_type=client_credentials") {
                axum::Json(json!({"access_token": format!("tok-{hit}"), "expires_in": 3600}))
                    .into_response()
            } else {
                StatusCode::BAD_REQUEST.into_response()
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    };
    mock.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// Start the mock; returns its base URL.
async fn start() -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    let app = Router::new()
        .route("/{*path}", any(handle))
        .with_state(mock.clone());
    (common::serve(app).await, mock)
}

fn workflow(version: f64, parameters: Value, items: usize, extra: Value) -> Workflow {
    let input: Vec<Value> = (0..items).map(|i| json!({"n": i})).collect();
    let mut wf = common::single_node_workflow(HTTP, version, parameters, json!(input));
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            wf["nodes"][2][k] = v;
        }
    }
    serde_json::from_value(wf).unwrap()
}

fn credentials(file: Value) -> Credentials {
    Credentials(Arc::new(
        CredentialSet::from_export_json(&file.to_string()).unwrap(),
    ))
}

async fn run(workflow: Workflow, credentials: Option<Credentials>) -> RunOutcome {
    CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .expect("builds")
        .run(ExecutionOptions {
            // Real time: rate limits and retries are measured by the mock.
            clock: Clock::system(),
            credentials,
            ..Default::default()
        })
        .await
        .expect("runs")
}

fn jsons(outcome: &RunOutcome) -> Vec<Value> {
    assert!(
        !outcome.run_data.runs("Node").is_empty(),
        "node did not run: {:?}",
        outcome.error
    );
    outcome.run_data.runs("Node")[0]
        .output(0)
        .iter()
        .map(|i| i.json.to_value())
        .collect()
}

fn counter(outcome: &RunOutcome, name: &str) -> u64 {
    outcome.run_data.runs("Node")[0]
        .profile
        .counters
        .get(name)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn query_headers_and_bodies_are_sent_as_n8n_sends_them() {
    let (base, _mock) = start().await;
    let params = |content: &str, body: Value| {
        let mut p = json!({
            "method": "POST", "url": format!("{base}/echo"),
            "sendQuery": true,
            "queryParameters": {"parameters": [
                {"name": "a", "value": "1"}, {"name": "a", "value": "2"}, {"name": "n", "value": "={{ $json.n }}"}]},
            "sendHeaders": true,
            "headerParameters": {"parameters": [{"name": "X-Custom", "value": "yes"}]},
            "sendBody": true, "contentType": content,
        });
        for (k, v) in body.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let json_body = run(
        workflow(
            4.2,
            params(
                "json",
                json!({"bodyParameters": {"parameters": [
                    {"name": "flag", "value": "={{ false }}"}, {"name": "id", "value": "5"}]}}),
            ),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(
        jsons(&json_body),
        vec![
            json!({"method": "POST", "query": "a=2&n=0", "contentType": "application/json",
                    "xCustom": "yes", "body": "{\"flag\":false,\"id\":\"5\"}"})
        ]
    );
    let form = run(
        workflow(
            4.2,
            params(
                "form-urlencoded",
                json!({"bodyParameters": {"parameters": [{"name": "q", "value": "a b&c"}]}}),
            ),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&form)[0]["body"], "q=a+b%26c");
    assert_eq!(
        jsons(&form)[0]["contentType"],
        "application/x-www-form-urlencoded"
    );
    let raw = run(
        workflow(
            4.2,
            params(
                "raw",
                json!({"rawContentType": "text/csv", "body": "a,b\n1,2"}),
            ),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&raw)[0]["body"], "a,b\n1,2");
    assert_eq!(jsons(&raw)[0]["contentType"], "text/csv");
    let multipart = run(
        workflow(
            4.2,
            params(
                "multipart-form-data",
                json!({"bodyParameters": {"parameters": [{"name": "field", "value": "v1"}]}}),
            ),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    let echoed = &jsons(&multipart)[0];
    assert!(echoed["contentType"]
        .as_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert!(echoed["body"]
        .as_str()
        .unwrap()
        .contains("Content-Disposition: form-data; name=\"field\"\r\n\r\nv1\r\n"));
}

#[tokio::test]
async fn response_formats_full_response_and_redirects() {
    let (base, mock) = start().await;
    let list = run(
        workflow(4.2, json!({"url": format!("{base}/list")}), 1, json!({})),
        None,
    )
    .await;
    assert_eq!(
        jsons(&list),
        vec![json!({"id": 1}), json!({"id": 2}), json!({"data": 3})]
    );
    let text = run(
        workflow(3.0, json!({"url": format!("{base}/text")}), 1, json!({})),
        None,
    )
    .await;
    assert_eq!(jsons(&text), vec![json!({"data": "plain words"})]);
    let full = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/redirect"),
                   "options": {"response": {"response": {"fullResponse": true}}}}),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    let out = jsons(&full);
    assert_eq!(out[0]["body"], json!({"ok": true}));
    assert_eq!(out[0]["statusCode"], 200);
    assert_eq!(out[0]["statusMessage"], "OK");
    assert_eq!(counter(&full, "requests"), 2, "the redirect hop counts");
    let not_followed = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/redirect"),
                   "options": {"redirect": {"redirect": {"followRedirects": false}},
                               "response": {"response": {"neverError": true, "fullResponse": true}}}}),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&not_followed)[0]["statusCode"], 302);
    let user_agents: Vec<String> = mock
        .seen()
        .iter()
        .map(|s| s.headers["user-agent"].to_str().unwrap().to_string())
        .collect();
    assert!(user_agents.iter().all(|ua| ua == "n8n"), "{user_agents:?}");
}

#[tokio::test]
async fn an_output_property_from_an_expression_is_resolved_per_item() {
    // n8n resolves the output property for each item: files (and text) land where it says.
    let (base, _mock) = start().await;
    let fetch_as = |format: &str| {
        let options = json!({"response": {"response": {
            "responseFormat": format, "outputPropertyName": "={{ 'file' + $json.n }}"}}});
        let params = json!({"url": format!("{base}/text"), "options": options});
        run(workflow(4.2, params, 2, json!({})), None)
    };
    let files = fetch_as("file").await;
    let binary_keys: Vec<Vec<String>> = files.run_data.runs("Node")[0]
        .output(0)
        .iter()
        .map(|item| item.binary.as_ref().unwrap().keys().cloned().collect())
        .collect();
    assert_eq!(binary_keys, [["file0"], ["file1"]]);
    let text = fetch_as("text").await;
    assert_eq!(
        jsons(&text),
        [
            json!({"file0": "plain words"}),
            json!({"file1": "plain words"})
        ]
    );
}

#[tokio::test]
async fn failures_have_n8ns_messages_and_error_items() {
    let (base, _mock) = start().await;
    let broken = json!({"url": format!("{base}/broken")});
    let stopped = run(workflow(4.2, broken.clone(), 1, json!({})), None).await;
    assert_eq!(stopped.status, RunStatus::Error);
    let error = stopped.error.unwrap();
    assert_eq!(
        error.message,
        "The service was not able to process your request"
    );
    assert_eq!(error.description.as_deref(), Some("it broke"));
    let continued = run(
        workflow(4.2, broken, 2, json!({"onError": "continueRegularOutput"})),
        None,
    )
    .await;
    let out = jsons(&continued);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["error"]["statusCode"], 500);
    assert_eq!(out[0]["error"]["isAxiosError"], true);
    // Problems found before sending are plain messages, routed to the error output.
    let bad_json = run(
        workflow(
            4.2,
            json!({"method": "POST", "url": format!("{base}/echo"), "sendBody": true,
                   "specifyBody": "json", "jsonBody": "{\"a\": 1,}"}),
            1,
            json!({"onError": "continueErrorOutput"}),
        ),
        None,
    )
    .await;
    let errors: Vec<Value> = bad_json.run_data.runs("Node")[0]
        .output(1)
        .iter()
        .map(|i| i.json.to_value())
        .collect();
    assert_eq!(
        errors,
        vec![json!({"n": 0, "error": "The value in the \"JSON Body\" field is not valid JSON"})]
    );
    let refused = run(
        workflow(4.2, json!({"url": "http://127.0.0.1:1/x"}), 1, json!({})),
        None,
    )
    .await;
    assert_eq!(
        refused.error.unwrap().message,
        "The service refused the connection - perhaps it is offline"
    );
}

#[tokio::test]
async fn generic_credentials_authenticate_and_never_show() {
    let (base, mock) = start().await;
    let creds = credentials(json!([
        {"id": "1", "name": "basic", "type": "httpBasicAuth", "data": {"user": "u", "password": SECRET}},
        {"id": "2", "name": "header", "type": "httpHeaderAuth", "data": {"name": "X-Api-Key", "value": SECRET}},
        {"id": "3", "name": "query", "type": "httpQueryAuth", "data": {"name": "key", "value": SECRET}},
        {"id": "4", "name": "bearer", "type": "httpBearerAuth", "data": {"token": SECRET}},
        {"id": "5", "name": "custom", "type": "httpCustomAuth",
         "data": {"json": format!("{{\"headers\": {{\"X-Custom-Auth\": \"{SECRET}\"}}}}")}},
        {"id": "6", "name": "oauth", "type": "oAuth2Api",
         "data": {"grantType": "clientCredentials", "accessTokenUrl": format!("{base}/token"),
                  "clientId": "client", "clientSecret": SECRET, "scope": "read", "authentication": "header"}}
    ]));
    for (id, kind) in [
        ("1", "httpBasicAuth"),
        ("2", "httpHeaderAuth"),
        ("3", "httpQueryAuth"),
        ("4", "httpBearerAuth"),
        ("5", "httpCustomAuth"),
        ("6", "oAuth2Api"),
    ] {
        for path in ["json", "broken"] {
            let params = json!({"url": format!("{base}/{path}"), "authentication": "genericCredentialType",
                                "genericAuthType": kind});
            let outcome = run(
                workflow(
                    4.2,
                    params,
                    2,
                    json!({"credentials": {kind: {"id": id, "name": "x"}}}),
                ),
                Some(creds.clone()),
            )
            .await;
            let text = outcome.to_n8n_json_text();
            assert!(!text.contains(SECRET), "{kind}: {text}");
            if let Some(e) = &outcome.error {
                assert!(!format!("{e} {:?}", e.description).contains(SECRET));
            }
        }
    }
    let seen = mock.seen();
    let with = |path: &str, check: &dyn Fn(&Seen) -> bool| {
        seen.iter().filter(|s| s.path == path && check(s)).count()
    };
    let header = |s: &Seen, name: &str| {
        s.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let basic = format!("Basic {}", base64_encode(&format!("u:{SECRET}")));
    assert_eq!(with("json", &|s| header(s, "authorization") == basic), 2);
    assert_eq!(with("json", &|s| header(s, "x-api-key") == SECRET), 2);
    assert_eq!(with("json", &|s| s.query == format!("key={SECRET}")), 2);
    assert_eq!(
        with("json", &|s| header(s, "authorization")
            == format!("Bearer {SECRET}")),
        2
    );
    assert_eq!(with("json", &|s| header(s, "x-custom-auth") == SECRET), 2);
    // One token for every request of the process until it expires.
    assert_eq!(with("token", &|_| true), 1);
    assert_eq!(
        with("json", &|s| header(s, "authorization") == "Bearer tok-1"),
        2
    );
    let token_request = seen.iter().find(|s| s.path == "token").unwrap();
    assert_eq!(
        header(token_request, "authorization"),
        format!("Basic {}", base64_encode(&format!("client:{SECRET}")))
    );
}

/// Workflows shared with their authentication replaced by placeholder text run in n8n without
/// authentication (the value matches none of its options); Sluice sends them the same way and
/// says so when it builds the workflow.
#[tokio::test]
async fn an_authentication_that_is_no_option_sends_without_credentials_and_warns() {
    let (base, mock) = start().await;
    let creds = credentials(json!([
        {"id": "2", "name": "header", "type": "httpHeaderAuth", "data": {"name": "X-Api-Key", "value": SECRET}}
    ]));
    let cases = [
        (4.2, "{{ $credentials.genericCredentialType }}", "case=v4"),
        (1.0, "{{ $credentials.headerAuth }}", "case=v1"),
    ];
    for (version, authentication, query) in cases {
        let params = json!({"url": format!("{base}/json?{query}"), "authentication": authentication,
                            "genericAuthType": "httpHeaderAuth"});
        let workflow = workflow(
            version,
            params,
            1,
            json!({"credentials": {"httpHeaderAuth": {"id": "2", "name": "header"}}}),
        );
        let compiled = CompiledWorkflow::build(workflow, &sluice_nodes::registry()).unwrap();
        let warnings: Vec<String> = compiled.warnings().iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [format!(
                "node 'Node': '{authentication}' is none of the authentication options: requests \
                 are sent without authentication, as n8n sends them [parameter 'authentication']"
            )]
        );
        let outcome = compiled
            .run(ExecutionOptions {
                credentials: Some(creds.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(outcome.status, RunStatus::Success, "{:?}", outcome.error);
    }
    let seen = mock.seen();
    for (_, _, query) in cases {
        let sent: Vec<&Seen> = seen.iter().filter(|s| s.query == query).collect();
        assert_eq!(sent.len(), 1, "{query}");
        assert!(sent[0].headers.get("x-api-key").is_none(), "{query}");
    }
    // Options n8n knows but Sluice does not implement are still refused.
    let params = json!({"url": format!("{base}/json"), "authentication": "digestAuth"});
    let error = CompiledWorkflow::build(
        workflow(1.0, params, 1, json!({})),
        &sluice_nodes::registry(),
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        error.contains("authentication 'digestAuth' is not supported"),
        "{error}"
    );
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn in_flight_requests_never_exceed_max_concurrency() {
    let (base, mock) = start().await;
    let outcome = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/slow"), "options": {"maxConcurrency": 5}}),
            30,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&outcome).len(), 30);
    assert_eq!(mock.max_in_flight.load(Ordering::SeqCst), 5);
    assert_eq!(counter(&outcome, "requests"), 30);
    let (base, mock) = start().await;
    run(
        workflow(4.2, json!({"url": format!("{base}/slow")}), 40, json!({})),
        None,
    )
    .await;
    let default_max = mock.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=16).contains(&default_max), "{default_max}");
}

#[tokio::test]
async fn retries_honour_retry_after_on_429() {
    let (base, mock) = start().await;
    let outcome = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/busy"), "options": {"retry": {"maxRetries": 3, "baseDelay": 10}}}),
            1,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&outcome), vec![json!({"finally": true})]);
    assert_eq!(counter(&outcome, "retries"), 2);
    let times: Vec<Instant> = mock.seen().iter().map(|s| s.at).collect();
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(990),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    // Without retries the 429 is n8n's error.
    let (base, _mock) = start().await;
    let failed = run(
        workflow(4.2, json!({"url": format!("{base}/busy")}), 1, json!({})),
        None,
    )
    .await;
    let error = failed.error.unwrap();
    assert_eq!(
        error.message,
        "The service is receiving too many requests from you"
    );
}

#[tokio::test]
async fn the_rate_limit_is_never_exceeded() {
    let (base, mock) = start().await;
    let outcome = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/json"),
                   "options": {"maxConcurrency": 50, "rateLimit": {"requests": 20, "per": 1000}}}),
            30,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(jsons(&outcome).len(), 30);
    let times: Vec<Instant> = mock.seen().iter().map(|s| s.at).collect();
    // 20 per second, burst 1: no second-long window holds more than 20 arrivals (one more
    // allowed for a window that starts and ends on a slot), and the whole run keeps the rate.
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| **t - *start < Duration::from_secs(1))
            .count();
        assert!(in_window <= 21, "{in_window} requests within a second");
    }
    let span = *times.last().unwrap() - times[0];
    let rate = (times.len() - 1) as f64 / span.as_secs_f64();
    assert!(rate <= 20.0 * 1.05, "{rate:.2}/s");
    assert!(counter(&outcome, "rateLimitWaitMs") >= 1000);
}

#[tokio::test]
async fn the_cache_makes_one_call_for_many_items_asking_the_same() {
    let (base, mock) = start().await;
    let outcome = run(
        workflow(
            4.2,
            json!({"url": format!("{base}/slow"), "options": {"cache": {"ttl": 60}}}),
            100,
            json!({}),
        ),
        None,
    )
    .await;
    let out = jsons(&outcome);
    assert_eq!(out.len(), 100);
    assert_eq!(mock.seen().len(), 1, "one upstream call");
    assert_eq!(out.iter().filter(|o| o["fromCache"] == true).count(), 99);
    assert_eq!(counter(&outcome, "cacheHits"), 99);
    assert_eq!(counter(&outcome, "cacheMisses"), 1);
    // A key expression decides what counts as the same request.
    let (base, mock) = start().await;
    run(
        workflow(
            4.2,
            json!({"url": format!("={base}/json?n={{{{ $json.n }}}}"),
                   "options": {"cache": {"ttl": 60, "key": "={{ $json.n % 2 }}"}}}),
            10,
            json!({}),
        ),
        None,
    )
    .await;
    assert_eq!(mock.seen().len(), 2);
}

#[tokio::test]
async fn a_503_storm_opens_the_breaker_and_a_probe_closes_it() {
    let (base, mock) = start().await;
    let storm = |path: &str, reset_ms: u64| {
        workflow(
            4.2,
            json!({"url": format!("{base}/{path}"),
                   "options": {"maxConcurrency": 1,
                               "circuitBreaker": {"failures": 3, "resetAfter": reset_ms}}}),
            10,
            json!({"onError": "continueRegularOutput"}),
        )
    };
    let outcome = run(storm("storm", 60_000), None).await;
    let out = jsons(&outcome);
    assert_eq!(out.len(), 10);
    assert_eq!(
        mock.seen().len(),
        3,
        "the host sees only the failures that open it"
    );
    assert_eq!(out[2]["error"]["statusCode"], 503);
    let refused = out[3]["error"].as_str().unwrap();
    assert!(
        refused.starts_with("The circuit breaker for 127.0.0.1:")
            && refused.contains("is open after 3 consecutive failed requests"),
        "{refused}"
    );
    assert_eq!(counter(&outcome, "circuitOpen"), 7);

    // A short reset: after it, one probe goes through; its success closes the breaker.
    let (base, mock) = start().await;
    let storm = |path: &str| {
        workflow(
            4.2,
            json!({"url": format!("{base}/{path}"),
                   "options": {"maxConcurrency": 1,
                               "circuitBreaker": {"failures": 2, "resetAfter": 150}}}),
            4,
            json!({"onError": "continueRegularOutput"}),
        )
    };
    run(storm("storm"), None).await;
    assert_eq!(mock.seen().len(), 2);
    let still_open = run(storm("json"), None).await;
    assert!(jsons(&still_open)[0]["error"].is_string());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let recovered = run(storm("json"), None).await;
    assert_eq!(jsons(&recovered), vec![json!({"ok": true}); 4]);
    assert_eq!(mock.seen().len(), 6);
}
