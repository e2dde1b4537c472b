//! `sluice dev upstream` in-process on a free port: pagination, the rate limit, injected errors
//! and the notifications sink, checked by counts (never by timing).

use clap::Parser;
use serde_json::{json, Value};
use sluice_devtools::{UpstreamArgs, UpstreamServer};

async fn start(flags: &[&str]) -> String {
    // The test's reqwest client, like Sluice's, needs the ring provider.
    sluice_runtime::tls::use_ring_provider();
    let argv = ["upstream", "--port", "0"].iter().chain(flags);
    let server = UpstreamServer::bind(UpstreamArgs::try_parse_from(argv).unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    tokio::spawn(server.serve());
    base
}

async fn stats(base: &str) -> Value {
    reqwest::get(format!("{base}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_link_to_the_next_until_the_last() {
    let base = start(&["--customers", "250", "--page-size", "100"]).await;
    let mut url = format!("{base}/customers");
    let mut ids = Vec::new();
    let mut page_sizes = Vec::new();
    loop {
        let page: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let data = page["data"].as_array().unwrap();
        page_sizes.push(data.len());
        ids.extend(data.iter().map(|c| c["id"].as_u64().unwrap()));
        assert_eq!(page["total"], 250);
        assert_eq!(page["totalPages"], 3);
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => {
                assert_eq!(page["nextPage"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(page_sizes, [100, 100, 50]);
    assert_eq!(ids, (1..=250).collect::<Vec<u64>>());

    let past_the_end: Value = reqwest::get(format!("{base}/customers?page=9"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(past_the_end["data"], json!([]));
    let page_zero = reqwest::get(format!("{base}/customers?page=0"))
        .await
        .unwrap();
    assert_eq!(page_zero.status(), 400);
}

#[tokio::test]
async fn customers_by_id() {
    let base = start(&["--customers", "10"]).await;
    let customer: Value = reqwest::get(format!("{base}/customers/7"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customer["id"], 7);
    assert_eq!(customer["email"], "customer7@example.com");
    let missing = reqwest::get(format!("{base}/customers/11")).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn past_the_rate_limit_answers_429_with_retry_after() {
    let base = start(&["--rate-limit", "2/s"]).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = client
            .get(format!("{base}/customers/1"))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry_after >= 1);
        }
        statuses.push(response.status().as_u16());
    }
    // The bucket starts full (one second's worth), so the first two pass.
    assert_eq!(statuses[..2], [200, 200]);
    let limited = statuses.iter().filter(|&&s| s == 429).count() as u64;
    assert!(limited > 0, "{statuses:?}");
    assert!(statuses.iter().all(|s| [200, 429].contains(s)));
    let stats = stats(&base).await;
    assert_eq!(stats["rateLimited"], limited);
    assert_eq!(stats["requests"], 20);
}

async fn statuses_of(base: &str, requests: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..requests {
        let response = client
            .get(format!("{base}/customers/1"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn injected_errors_follow_the_rate_and_the_seed() {
    let flags = ["--error-rate", "20%", "--seed", "7"];
    let base = start(&flags).await;
    let statuses = statuses_of(&base, 400).await;
    let errors = statuses.iter().filter(|&&s| s >= 500).count();
    // 80 expected; the bounds are five standard deviations away.
    assert!((40..=120).contains(&errors), "{errors} errors in 400");
    assert!(statuses.iter().all(|s| [200, 500, 503].contains(s)));
    assert!(statuses.contains(&500) && statuses.contains(&503));
    assert_eq!(stats(&base).await["errorsInjected"], errors as u64);

    let same_seed = start(&flags).await;
    assert_eq!(statuses_of(&same_seed, 400).await, statuses);
}

#[tokio::test]
async fn the_sink_counts_notifications_and_batches() {
    let base = start(&[]).await;
    let client = reqwest::Client::new();
    let post = |body: Value| {
        client
            .post(format!("{base}/notifications"))
            .json(&body)
            .send()
    };
    let one = post(json!({"order": 1})).await.unwrap();
    assert_eq!(one.status(), 202);
    assert_eq!(one.json::<Value>().await.unwrap(), json!({"received": 1}));
    let batch = post(json!([{"order": 2}, {"order": 3}, {"order": 4}]))
        .await
        .unwrap();
    assert_eq!(batch.json::<Value>().await.unwrap(), json!({"received": 3}));
    assert_eq!(post(json!(5)).await.unwrap().status(), 400);
    let stats = stats(&base).await;
    assert_eq!(stats["notificationsReceived"], 4);
    assert_eq!(stats["notificationRequests"], 2);
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["errorsInjected"], 0);
}
