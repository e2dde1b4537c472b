//! The baseline for `bench/webhook.sh`: a bare axum handler that parses the same JSON body and
//! answers `{ok, amount}`, with no engine and no store (the HTTP ceiling on this machine).

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "5699".into());
    let app = Router::new().route(
        "/webhook/bench",
        post(|Json(body): Json<Value>| async move {
            Json(json!({"ok": true, "amount": body["amount"]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
