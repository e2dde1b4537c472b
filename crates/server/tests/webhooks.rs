//! Webhooks over real HTTP: each response mode (streaming included), auth (basic, header, JWT),
//! Respond to Webhook's JWT answer and response output, IP whitelist, bot filter, CORS, size
//! limit, unknown path, bad JSON, path parameters and test URLs, on SQLite and Postgres; and an
//! execution over its memory budget.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_store::on_both_backends;
use support::{webhook_workflow, TestServer};

/// A request to the server with extra headers.
async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> reqwest::Response {
    let mut request = s.client.request(method, format!("{}{path}", s.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.json(&body).send().await.unwrap()
}

/// A POST with extra headers; returns (status, JSON body).
async fn post_with(
    s: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, Value) {
    support::json_of(call(s, Method::POST, path, headers, body).await).await
}

/// Store and activate `webhook_workflow(path, "lastNode")` with these Webhook `options`.
async fn deploy_with_options(s: &TestServer, path: &str, options: Value) -> String {
    s.deploy(webhook_workflow(
        path,
        "lastNode",
        json!({ "options": options }),
    ))
    .await
}

/// Store a credential; returns its id.
async fn credential(s: &TestServer, kind: &str, data: Value) -> String {
    let (status, body) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": kind, "type": kind, "data": data})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// How many executions the workflow `id` has (refused calls must start none).
async fn execution_count(s: &TestServer, id: &str) -> usize {
    let (_, list) = s
        .api(Method::GET, &format!("/executions?workflowId={id}"), None)
        .await;
    list["data"].as_array().unwrap().len()
}

async fn response_modes(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let received = s
        .deploy(webhook_workflow("received", "onReceived", json!({})))
        .await;
    s.deploy(webhook_workflow("last", "lastNode", json!({})))
        .await;
    s.deploy(webhook_workflow(
        "all",
        "lastNode",
        json!({"responseData": "allEntries"}),
    ))
    .await;
    s.deploy(webhook_workflow("node", "responseNode", json!({})))
        .await;

    let (status, body) = s.post("/webhook/received", json!({"amount": 1})).await;
    assert_eq!(
        (status, body),
        (200, json!({"message": "Workflow was started"}))
    );
    let runs = s
        .wait_executions(
            &format!("workflowId={received}&status=success&includeData=true"),
            1,
        )
        .await;
    let item =
        &runs[0]["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0]["json"];
    assert_eq!(item["body"], json!({"amount": 1}));
    assert_eq!(item["headers"]["content-type"], json!("application/json"));
    assert_eq!(runs[0]["mode"], json!("webhook"));

    let (status, body) = s.post("/webhook/last", json!({"amount": 2})).await;
    assert_eq!((status, body), (200, json!({"ok": true, "amount": 2})));
    let (status, body) = s.post("/webhook/all", json!({"amount": 3})).await;
    assert_eq!((status, body), (200, json!([{"ok": true, "amount": 3}])));
    let (status, body) = s.post("/webhook/node", json!({"amount": 4})).await;
    assert_eq!((status, body), (201, json!({"ok": true, "amount": 4})));
    s.stop().await;
}

async fn errors_are_json(postgres: bool) {
    let s = TestServer::with(postgres, |c| c.payload_size_max = 1024 * 1024).await;
    s.deploy(webhook_workflow("hook", "lastNode", json!({})))
        .await;
    let (status, body) = s.post("/webhook/unknown", json!({})).await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("not registered"));
    let get = s
        .client
        .get(format!("{}/webhook/hook", s.base))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(get).await;
    assert_eq!(status, 404);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("not registered for GET"));
    let bad = s
        .client
        .post(format!("{}/webhook/hook", s.base))
        .header("content-type", "application/json")
        .body("{\"amount\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(bad).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("parse"));
    let big = s
        .client
        .post(format!("{}/webhook/hook", s.base))
        .header("content-type", "application/json")
        .body(format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(big).await;
    assert_eq!(status, 413);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("N8N_PAYLOAD_SIZE_MAX"));
    // A failing workflow in lastNode mode.
    let mut failing = webhook_workflow("fails", "lastNode", json!({}));
    failing["nodes"][1] = json!({"name": "Set", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
        "position": [200, 0], "parameters": {"errorMessage": "boom"}});
    s.deploy(failing).await;
    let (status, body) = s.post("/webhook/fails", json!({})).await;
    assert_eq!(
        (status, body),
        (500, json!({"message": "Error in workflow"}))
    );
    s.stop().await;
}

async fn authentication(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (_, basic) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "b", "type": "httpBasicAuth",
            "data": {"user": "ada", "password": "pw"}})),
        )
        .await;
    let (_, header) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "h", "type": "httpHeaderAuth",
            "data": {"name": "X-Token", "value": "t0k"}})),
        )
        .await;
    let mut wf = webhook_workflow("basic", "lastNode", json!({"authentication": "basicAuth"}));
    wf["nodes"][0]["credentials"] = json!({"httpBasicAuth": {"id": basic["id"], "name": "b"}});
    s.deploy(wf).await;
    let mut wf = webhook_workflow(
        "header",
        "lastNode",
        json!({"authentication": "headerAuth"}),
    );
    wf["nodes"][0]["webhookId"] = json!("hook-2");
    wf["nodes"][0]["credentials"] = json!({"httpHeaderAuth": {"id": header["id"], "name": "h"}});
    s.deploy(wf).await;

    let url = |p: &str| format!("{}/webhook/{p}", s.base);
    let (status, body) = support::json_of(
        s.client
            .post(url("basic"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["message"].is_string()), (401, true));
    let wrong = s
        .client
        .post(url("basic"))
        .basic_auth("ada", Some("no"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        support::json_of(wrong).await,
        (403, json!({"message": "Authorization data is wrong!"}))
    );
    let ok = s
        .client
        .post(url("basic"))
        .basic_auth("ada", Some("pw"))
        .json(&json!({"amount": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        support::json_of(ok).await,
        (200, json!({"ok": true, "amount": 5}))
    );
    let (status, _) = support::json_of(
        s.client
            .post(url("header"))
            .header("X-Token", "bad")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    let ok = s
        .client
        .post(url("header"))
        .header("X-Token", "t0k")
        .json(&json!({"amount": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        support::json_of(ok).await,
        (200, json!({"ok": true, "amount": 6}))
    );
    s.stop().await;
}

/// A Code node counting calls in `$getWorkflowStaticData('global')`: the count survives from
/// one execution of the active workflow to the next through the store.
async fn static_data_survives_executions(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = webhook_workflow("count", "lastNode", json!({}));
    wf["nodes"][1] = json!({"name": "Count", "type": "n8n-nodes-base.code", "typeVersion": 2,
        "position": [200, 0], "parameters": {"jsCode":
            "const data = $getWorkflowStaticData('global');\n\
             data.count = (data.count || 0) + 1;\n\
             return [{count: data.count}];"}});
    wf["connections"] =
        json!({"Webhook": {"main": [[{"node": "Count", "type": "main", "index": 0}]]}});
    wf["staticData"] = json!({"global": {"count": 10}});
    let id = s.deploy(wf).await;
    let (status, body) = s.post("/webhook/count", json!({})).await;
    assert_eq!((status, body), (200, json!({"count": 11})));
    let (status, body) = s.post("/webhook/count", json!({})).await;
    assert_eq!((status, body), (200, json!({"count": 12})));
    let saved = s.store.workflow_static_data(&id).await.unwrap();
    assert_eq!(
        saved.map(serde_json::Value::Object),
        Some(json!({"global": {"count": 12}}))
    );
    s.stop().await;
}

/// An execution answered by Respond to Webhook while it goes on is in the store, as running,
/// by the time the answer arrives (a crash after the answer cannot lose it); it is saved as a
/// success when it ends.
async fn answered_executions_are_recorded_before_the_answer(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = webhook_workflow("tail", "responseNode", json!({}));
    wf["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [600, 0],
        "webhookId": "wait-1", "parameters": {"resume": "timeInterval", "amount": 1.5, "unit": "seconds"}}));
    wf["connections"]["Respond"] =
        json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    let id = s.deploy(wf).await;
    let (status, body) = s.post("/webhook/tail", json!({"amount": 5})).await;
    assert_eq!((status, body), (201, json!({"ok": true, "amount": 5})));
    let filter = |status: &str| sluice_store::ExecutionFilter {
        status: Some(status.into()),
        workflow_id: Some(id.clone()),
    };
    assert_eq!(
        s.store.count_executions(&filter("running")).await.unwrap(),
        1
    );
    let runs = s
        .wait_executions(&format!("workflowId={id}&status=success"), 1)
        .await;
    assert_eq!(runs[0]["mode"], json!("webhook"));
    assert_eq!(
        s.store.count_executions(&filter("running")).await.unwrap(),
        0
    );
    s.stop().await;
}

/// An execution nobody has been told about yet (a lastNode webhook still waiting for its end) is
/// listed as running once it has run for a second, and saved once, as a success, when it ends.
async fn long_executions_are_listed_as_running(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = webhook_workflow("slow", "lastNode", json!({}));
    wf["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [400, 0],
        "webhookId": "wait-2", "parameters": {"resume": "timeInterval", "amount": 3, "unit": "seconds"}}));
    wf["connections"]["Set"] = json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    let id = s.deploy(wf).await;
    let running = sluice_store::ExecutionFilter {
        status: Some("running".into()),
        workflow_id: Some(id.clone()),
    };
    let listed_while_running = async {
        for _ in 0..25 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if s.store.count_executions(&running).await.unwrap() == 1 {
                return true;
            }
        }
        false
    };
    let (answer, listed) = tokio::join!(
        s.post("/webhook/slow", json!({"amount": 6})),
        listed_while_running
    );
    assert_eq!(answer, (200, json!({"ok": true, "amount": 6})));
    assert!(listed, "not listed as running while it ran");
    assert_eq!(s.store.count_executions(&running).await.unwrap(), 0);
    let runs = s
        .wait_executions(&format!("workflowId={id}&status=success"), 1)
        .await;
    assert_eq!(runs.len(), 1);
    s.stop().await;
}

/// Webhook (POST `path`, answered by) → Respond to Webhook 1.5 signing the request body with the
/// `jwtAuth` credential `credential`, with the response output branch on.
fn mint_workflow(path: &str, credential: &str) -> Value {
    let mut wf = webhook_workflow(path, "responseNode", json!({}));
    wf["nodes"][2]["typeVersion"] = json!(1.5);
    wf["nodes"][2]["parameters"] = json!({"respondWith": "jwt", "payload": "={{ $('Webhook').item.json.body }}",
        "enableResponseOutput": true, "options": {}});
    wf["nodes"][2]["credentials"] = json!({"jwtAuth": {"id": credential, "name": "JWT"}});
    wf
}

/// Webhook (POST `path`, JWT auth with `credential`) answering with the token's payload.
fn verify_workflow(path: &str, credential: &str) -> Value {
    let mut wf = webhook_workflow(
        path,
        "lastNode",
        json!({"authentication": "jwtAuth", "options": {"responsePropertyName": "jwtPayload"}}),
    );
    wf["nodes"][0]["credentials"] = json!({"jwtAuth": {"id": credential, "name": "JWT"}});
    wf["nodes"][1] = json!({"name": "Set", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
        "position": [200, 0], "parameters": {}});
    wf
}

/// Respond to Webhook answers `{token}` signed with the credential (passphrase or PEM keys), and
/// its second output holds the response; a JWT-authenticated webhook accepts those tokens and
/// emits their payload as `jwtPayload`, refusing missing (401), forged, expired, malformed and
/// wrong-algorithm tokens (403) with JSON errors.
async fn jwt_tokens(postgres: bool) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let s = TestServer::start(postgres).await;
    let hs = credential(
        &s,
        "jwtAuth",
        json!({"keyType": "passphrase", "secret": "s3cret", "algorithm": "HS256"}),
    )
    .await;
    let forger = credential(
        &s,
        "jwtAuth",
        json!({"keyType": "passphrase", "secret": "guess", "algorithm": "HS256"}),
    )
    .await;
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let public = rsa::RsaPublicKey::from(&private);
    let rs = credential(
        &s,
        "jwtAuth",
        json!({"keyType": "pemKey", "algorithm": "RS256",
        "privateKey": *private.to_pkcs8_pem(LineEnding::LF).unwrap(),
        "publicKey": public.to_public_key_pem(LineEnding::LF).unwrap()}),
    )
    .await;
    let basic = credential(&s, "httpBasicAuth", json!({"user": "u", "password": "p"})).await;
    let mint_hs = s.deploy(mint_workflow("mint-hs", &hs)).await;
    s.deploy(mint_workflow("mint-forged", &forger)).await;
    s.deploy(mint_workflow("mint-rs", &rs)).await;
    s.deploy(verify_workflow("hs", &hs)).await;
    s.deploy(verify_workflow("rs", &rs)).await;
    s.deploy(verify_workflow("missing", "999999")).await;
    s.deploy(verify_workflow("basic", &basic)).await;

    let mint = |path: &'static str, claims: Value| {
        let s = &s;
        async move {
            let (status, body) = s.post(&format!("/webhook/{path}"), claims).await;
            assert_eq!(status, 200, "{body}");
            body["token"].as_str().unwrap().to_string()
        }
    };
    let verify = |path: &'static str, authorization: String| {
        let s = &s;
        async move {
            let headers = [("authorization", authorization.as_str())];
            post_with(s, &format!("/webhook/{path}"), &headers, json!({})).await
        }
    };

    let token = mint("mint-hs", json!({"sub": "ada"})).await;
    let (status, payload) = verify("hs", format!("Bearer {token}")).await;
    assert_eq!((status, &payload["sub"]), (200, &json!("ada")), "{payload}");
    assert!(payload["iat"].is_u64(), "signing adds iat: {payload}");
    let runs = s
        .wait_executions(
            &format!("workflowId={mint_hs}&status=success&includeData=true"),
            1,
        )
        .await;
    let response = &runs[0]["data"]["resultData"]["runData"]["Respond"][0]["data"]["main"][1][0];
    assert_eq!(
        response["json"],
        json!({"response": {"body": {"token": token}, "headers": {}, "statusCode": 200}})
    );

    let pem_token = mint("mint-rs", json!({"sub": "grace"})).await;
    let (status, payload) = verify("rs", format!("Bearer {pem_token}")).await;
    assert_eq!(
        (status, &payload["sub"]),
        (200, &json!("grace")),
        "{payload}"
    );

    let refused = [
        ("hs", String::new(), 401, "No token provided"),
        ("hs", "Bearer".into(), 401, "No token provided"),
        ("hs", "Bearer not-a-token".into(), 403, "jwt malformed"),
        (
            "hs",
            format!(
                "Bearer {}",
                mint("mint-forged", json!({"sub": "eve"})).await
            ),
            403,
            "invalid signature",
        ),
        (
            "hs",
            format!("Bearer {}", mint("mint-hs", json!({"exp": 1000})).await),
            403,
            "jwt expired",
        ),
        ("rs", format!("Bearer {token}"), 403, "invalid algorithm"),
    ];
    for (path, authorization, status, message) in refused {
        assert_eq!(
            verify(path, authorization.clone()).await,
            (status, json!({ "message": message })),
            "{path} with '{authorization}'"
        );
    }
    // The server's own problems are 500s that say what is wrong.
    let (status, body) = verify("missing", format!("Bearer {token}")).await;
    assert_eq!(status, 500);
    assert!(
        body["message"].as_str().unwrap().contains("does not exist"),
        "{body}"
    );
    let (status, body) = verify("basic", format!("Bearer {token}")).await;
    assert_eq!(status, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'httpBasicAuth', not 'jwtAuth'"),
        "{body}"
    );
    s.stop().await;
}

on_both_backends!(
    answered_executions_are_recorded_before_the_answer,
    long_executions_are_listed_as_running,
    response_modes,
    errors_are_json,
    authentication,
    static_data_survives_executions,
    jwt_tokens
);

/// `ipWhitelist` (addresses and CIDR ranges; behind `N8N_PROXY_HOPS` proxies the forwarded
/// address) and `ignoreBots` refuse callers with 403 before any execution starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_whitelist_and_bots() {
    let s = TestServer::start(false).await;
    deploy_with_options(&s, "local", json!({"ipWhitelist": "10.0.0.0/8, 127.0.0.1"})).await;
    let private =
        deploy_with_options(&s, "private", json!({"ipWhitelist": "10.0.0.0/8,::1"})).await;
    let people = deploy_with_options(&s, "people", json!({"ignoreBots": true})).await;
    let not_whitelisted = json!({"message": "IP is not whitelisted to access the webhook!"});
    assert_eq!(
        s.post("/webhook/local", json!({"amount": 1})).await,
        (200, json!({"ok": true, "amount": 1}))
    );
    assert_eq!(
        s.post("/webhook/private", json!({})).await,
        (403, not_whitelisted.clone())
    );
    assert_eq!(execution_count(&s, &private).await, 0);

    let as_agent = |agent| [("user-agent", agent)];
    let slack = as_agent("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)");
    let (status, body) = post_with(&s, "/webhook/people", &slack, json!({})).await;
    assert_eq!(status, 403);
    assert!(body["message"].as_str().unwrap().contains("bots"), "{body}");
    let facebook = as_agent("facebookexternalhit/1.1");
    assert_eq!(
        post_with(&s, "/webhook/people", &facebook, json!({}))
            .await
            .0,
        403
    );
    assert_eq!(execution_count(&s, &people).await, 0);
    let curl = as_agent("curl/8.5.0");
    assert_eq!(
        post_with(&s, "/webhook/people", &curl, json!({"amount": 2})).await,
        (200, json!({"ok": true, "amount": 2}))
    );
    assert_eq!(execution_count(&s, &people).await, 1);

    // A bad entry is refused when the workflow is saved, naming the option and the entry.
    let typo = webhook_workflow(
        "typo",
        "lastNode",
        json!({"options": {"ipWhitelist": "192.168.1."}}),
    );
    let (status, body) = s.api(Method::POST, "/workflows", Some(typo)).await;
    let message = body["message"].as_str().unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        message.contains("options.ipWhitelist") && message.contains("'192.168.1.'"),
        "{message}"
    );
    s.stop().await;

    // Behind one trusted proxy the caller is the last X-Forwarded-For entry.
    let s = TestServer::with(false, |c| c.proxy_hops = 1).await;
    deploy_with_options(&s, "private", json!({"ipWhitelist": "10.0.0.0/8"})).await;
    let forwarded = |chain| [("x-forwarded-for", chain)];
    let through_proxy = forwarded("8.8.8.8, 10.1.2.3");
    assert_eq!(
        post_with(&s, "/webhook/private", &through_proxy, json!({"amount": 3})).await,
        (200, json!({"ok": true, "amount": 3}))
    );
    let spoofed = forwarded("10.1.2.3, 8.8.8.8");
    assert_eq!(
        post_with(&s, "/webhook/private", &spoofed, json!({})).await,
        (403, not_whitelisted.clone())
    );
    assert_eq!(
        s.post("/webhook/private", json!({})).await,
        (403, not_whitelisted)
    );
    s.stop().await;
}

/// Browsers: the allowed origin is echoed (every origin by default, errors included), other
/// origins get no CORS header, and OPTIONS preflights for registered paths answer 204.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors() {
    let s = TestServer::start(false).await;
    s.deploy(webhook_workflow("any", "lastNode", json!({})))
        .await;
    let listed = json!({"allowedOrigins": "https://app.example, https://admin.example"});
    deploy_with_options(&s, "listed", listed).await;
    deploy_with_options(&s, "closed", json!({"ipWhitelist": "10.0.0.0/8"})).await;
    let allow_origin = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let post = |path: &'static str, origin: Option<&'static str>| {
        let s = &s;
        async move {
            let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
            call(s, Method::POST, path, &headers, json!({"amount": 1})).await
        }
    };
    let response = post("/webhook/any", Some("https://anywhere.example")).await;
    assert_eq!(
        allow_origin(&response).as_deref(),
        Some("https://anywhere.example")
    );
    assert_eq!(response.headers()["vary"], "Origin");
    assert_eq!(allow_origin(&post("/webhook/any", None).await), None);
    let response = post("/webhook/listed", Some("https://admin.example")).await;
    assert_eq!(
        allow_origin(&response).as_deref(),
        Some("https://admin.example")
    );
    let response = post("/webhook/listed", Some("https://evil.example")).await;
    assert_eq!(allow_origin(&response), None);
    assert_eq!(
        support::json_of(response).await,
        (200, json!({"ok": true, "amount": 1})),
        "CORS does not stop the call, only what browsers may read"
    );
    let refused = post("/webhook/closed", Some("https://app.example")).await;
    assert_eq!(
        allow_origin(&refused).as_deref(),
        Some("https://app.example")
    );
    assert_eq!(refused.status(), 403);

    let preflight = |path: &'static str, origin: &'static str| {
        let s = &s;
        async move {
            s.client
                .request(Method::OPTIONS, format!("{}{path}", s.base))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type,x-token")
                .send()
                .await
                .unwrap()
        }
    };
    let response = preflight("/webhook/listed", "https://app.example").await;
    assert_eq!(response.status(), 204);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("access-control-allow-methods"), "OPTIONS, POST");
    assert_eq!(header("access-control-allow-origin"), "https://app.example");
    assert_eq!(
        header("access-control-allow-headers"),
        "content-type,x-token"
    );
    assert_eq!(header("access-control-max-age"), "300");
    let response = preflight("/webhook/listed", "https://evil.example").await;
    assert_eq!(
        (response.status().as_u16(), allow_origin(&response)),
        (204, None)
    );
    let (status, body) =
        support::json_of(preflight("/webhook/nowhere", "https://app.example").await).await;
    assert_eq!(status, 404);
    assert!(
        body["message"].as_str().unwrap().contains("not registered"),
        "{body}"
    );
    s.stop().await;
}

/// `responseMode: streaming`: Respond to Webhook 1.5 nodes write `begin`/`item`/`end` JSON lines
/// while the execution runs; the answer ends with it, with an `error` line when it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming() {
    let s = TestServer::start(false).await;
    let respond = |name: &str, x: f64, parameters: Value| {
        json!({"name": name, "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.5,
               "position": [x, 0], "parameters": parameters})
    };
    let chain = |names: &[&str]| {
        let mut connections = serde_json::Map::new();
        for pair in names.windows(2) {
            connections.insert(
                pair[0].into(),
                json!({"main": [[{"node": pair[1], "type": "main", "index": 0}]]}),
            );
        }
        Value::Object(connections)
    };
    let mut wf = webhook_workflow("progress", "streaming", json!({}));
    wf["nodes"][1] = respond(
        "First",
        200.0,
        json!({"respondWith": "text", "responseBody": "={{ 'got ' + $json.body.amount }}"}),
    );
    wf["nodes"].as_array_mut().unwrap().extend([
        respond(
            "Quiet",
            400.0,
            json!({"respondWith": "text", "responseBody": "unseen",
            "options": {"enableStreaming": false}}),
        ),
        respond(
            "Second",
            600.0,
            json!({"respondWith": "json", "responseBody": "{\"done\": true}"}),
        ),
    ]);
    wf["connections"] = chain(&["Webhook", "First", "Quiet", "Second"]);
    s.deploy(wf.clone()).await;
    wf["nodes"][0]["parameters"]["path"] = json!("broken");
    wf["nodes"][3] = json!({"name": "Second", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
        "position": [600, 0], "parameters": {"errorMessage": "boom"}});
    s.deploy(wf).await;

    let stream = |path: &'static str| {
        let s = &s;
        async move {
            let response = call(s, Method::POST, path, &[], json!({"amount": 5})).await;
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.headers()["content-type"],
                "application/json; charset=utf-8"
            );
            let text = response.text().await.unwrap();
            text.lines()
                .map(|line| serde_json::from_str::<Value>(line).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let lines = stream("/webhook/progress").await;
    let summary: Vec<(Value, Value, Value)> = lines
        .iter()
        .map(|l| {
            (
                l["type"].clone(),
                l["metadata"]["nodeName"].clone(),
                l["content"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("begin"), json!("First"), Value::Null),
            (json!("item"), json!("First"), json!("got 5")),
            (json!("end"), json!("First"), Value::Null),
            (json!("begin"), json!("Second"), Value::Null),
            (json!("item"), json!("Second"), json!("{\"done\":true}")),
            (json!("end"), json!("Second"), Value::Null),
        ]
    );
    assert_eq!(lines[0]["metadata"]["runIndex"], json!(0));
    assert!(lines[0]["metadata"]["timestamp"].is_i64());

    let lines = stream("/webhook/broken").await;
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["begin", "item", "end", "error"]);
    assert_eq!(lines[3]["content"], json!("Error in workflow"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_query_and_test_url() {
    let s = TestServer::start(false).await;
    let mut wf = webhook_workflow("user/:id", "lastNode", json!({}));
    wf["nodes"][1]["parameters"]["assignments"]["assignments"] = json!([
        {"id": "1", "name": "id", "value": "={{ $json.params.id }}", "type": "string"},
        {"id": "2", "name": "q", "value": "={{ $json.query.q }}", "type": "string"}]);
    s.deploy(wf).await;
    let (status, body) = s.post("/webhook/hook-1/user/42?q=yes", json!({})).await;
    assert_eq!((status, body), (200, json!({"id": "42", "q": "yes"})));

    // An inactive workflow answers on the test URL only, as a manual execution.
    let (_, inactive) = s
        .api(
            Method::POST,
            "/workflows",
            Some(webhook_workflow("draft", "lastNode", json!({}))),
        )
        .await;
    let (status, _) = s.post("/webhook/draft", json!({"amount": 1})).await;
    assert_eq!(status, 404);
    let (status, body) = s.post("/webhook-test/draft", json!({"amount": 7})).await;
    assert_eq!((status, body), (200, json!({"ok": true, "amount": 7})));
    let runs = s
        .wait_executions(
            &format!("workflowId={}", inactive["id"].as_str().unwrap()),
            1,
        )
        .await;
    assert_eq!(runs[0]["mode"], json!("manual"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_accepted_executions() {
    let s = TestServer::start(false).await;
    let mut wf = webhook_workflow("slow", "onReceived", json!({}));
    wf["nodes"].as_array_mut().unwrap().push(json!({"name": "Wait", "type": "n8n-nodes-base.wait",
        "typeVersion": 1.1, "position": [400, 0], "parameters": {"resume": "timeInterval", "amount": 0.3, "unit": "seconds"}}));
    wf["connections"]["Set"] = json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    let id = s.deploy(wf).await;
    for _ in 0..5 {
        let (status, _) = s.post("/webhook/slow", json!({"amount": 1})).await;
        assert_eq!(status, 200);
    }
    let store = s.store.clone();
    let db = s.stop().await.unwrap();
    drop(store);
    let reopened = db.open().await;
    let filter = sluice_store::ExecutionFilter {
        workflow_id: Some(id),
        status: Some("success".into()),
    };
    let all = reopened
        .list_executions(&Default::default(), None, 10, true)
        .await
        .unwrap();
    assert_eq!(
        reopened.count_executions(&filter).await.unwrap(),
        5,
        "{:?}",
        all.data
    );
    reopened.close().await;
}

/// An execution whose items outgrow `SLUICE_EXECUTION_MEMORY_MB` fails, naming the node that
/// took it over; the server goes on, and the next execution of the workflow succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_over_its_memory_budget_fails_alone() {
    let s = TestServer::with(false, |config| config.execution_memory_mb = Some(1)).await;
    let mut wf = webhook_workflow("big", "lastNode", json!({}));
    wf["nodes"][1]["parameters"]["assignments"]["assignments"] = json!([{"id": "1",
        "name": "pad", "value": "={{ 'x'.repeat($json.body.size) }}", "type": "string"}]);
    let id = s.deploy(wf).await;
    let (status, body) = s.post("/webhook/big", json!({"size": 2_000_000})).await;
    assert_eq!(
        (status, body),
        (500, json!({"message": "Error in workflow"}))
    );
    let (status, body) = s.post("/webhook/big", json!({"size": 10})).await;
    assert_eq!((status, body), (200, json!({"pad": "xxxxxxxxxx"})));
    let failed = s
        .wait_executions(&format!("workflowId={id}&status=error&includeData=true"), 1)
        .await;
    let error = &failed[0]["data"]["resultData"]["error"];
    assert_eq!(error["node"], json!("Set"));
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("execution memory budget of 1 MB exceeded (its items take about 2 MB"));
    s.stop().await;
}

/// Past `SLUICE_RUN_DATA_MAX_ITEMS` a stored execution keeps each output's first items and its
/// whole count, while a webhook answering with its last node's items still gets all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_data_keeps_a_sample_but_last_node_answers_are_whole() {
    let s = TestServer::with(false, |config| config.run_data_max_items = Some(3)).await;
    let split = |path: &str, mode: &str, extra: Value| {
        let mut wf = webhook_workflow(path, mode, extra);
        wf["nodes"][1] = json!({"name": "Split", "type": "n8n-nodes-base.splitOut",
            "typeVersion": 1, "position": [200, 0],
            "parameters": {"fieldToSplitOut": "body.list", "options": {}}});
        wf["connections"] =
            json!({"Webhook": {"main": [[{"node": "Split", "type": "main", "index": 0}]]}});
        wf
    };
    let list = json!({"list": [1, 2, 3, 4, 5]});
    s.deploy(split(
        "all",
        "lastNode",
        json!({"responseData": "allEntries"}),
    ))
    .await;
    let (status, body) = s.post("/webhook/all", list.clone()).await;
    let answered: Vec<i64> = body
        .as_array()
        .expect("an array of items")
        .iter()
        .map(|item| item["body"]["list"].as_i64().unwrap())
        .collect();
    assert_eq!((status, answered), (200, vec![1, 2, 3, 4, 5]));

    let sampled = s.deploy(split("sampled", "onReceived", json!({}))).await;
    let (status, _) = s.post("/webhook/sampled", list).await;
    assert_eq!(status, 200);
    let runs = s
        .wait_executions(
            &format!("workflowId={sampled}&status=success&includeData=true"),
            1,
        )
        .await;
    let task = &runs[0]["data"]["resultData"]["runData"]["Split"][0];
    assert_eq!(task["data"]["main"][0].as_array().unwrap().len(), 3);
    assert_eq!(task["profile"]["itemsOut"], json!(5));
    assert_eq!(task["profile"]["sampled"], json!(true));
    s.stop().await;
}
