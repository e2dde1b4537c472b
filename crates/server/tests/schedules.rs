//! Schedules over a real server: ticks run once across servers sharing a store, and "every N
//! weeks" rules skip the weeks in between (on a virtual clock, so no waiting), on SQLite and
//! Postgres.

mod support;

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use sluice_runtime::Clock;
use sluice_store::on_both_backends;
use sluice_store::ExecutionFilter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::TestServer;

/// Every other week on Monday and Wednesday at 9:30, Berlin time, from Sunday March 2, 2025:
/// the runs are in the first, third and fifth weeks (across the change to summer time).
async fn every_two_weeks(postgres: bool) {
    let start = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
    let s = TestServer::with(postgres, |c| c.clock = Clock::virtual_at(start)).await;
    let id = s
        .deploy(json!({"name": "fortnightly", "settings": {"timezone": "Europe/Berlin"}, "nodes": [
            {"name": "Schedule", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
             "position": [0, 0], "parameters": {"rule": {"interval": [{"field": "weeks",
                 "weeksInterval": 2, "triggerAtDay": [1, 3], "triggerAtHour": 9, "triggerAtMinute": 30}]}}}
        ], "connections": {}}))
        .await;
    s.wait_executions(&format!("workflowId={id}"), 6).await;
    // Virtual time runs on until the schedule is gone.
    let (status, _) = s
        .api(Method::POST, &format!("/workflows/{id}/deactivate"), None)
        .await;
    assert_eq!(status, 200);
    let filter = ExecutionFilter {
        workflow_id: Some(id.clone()),
        ..Default::default()
    };
    let (mut runs, mut cursor) = (Vec::new(), None);
    loop {
        let page = s
            .store
            .list_executions(&filter, cursor.as_deref(), 250, true)
            .await
            .unwrap();
        runs.extend(page.data);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    runs.sort_by_key(|r| r.id);
    let ticks: Vec<Value> = runs[..6]
        .iter()
        .map(|r| {
            r.data.as_ref().unwrap()["resultData"]["runData"]["Schedule"][0]["data"]["main"][0][0]
                ["json"]["timestamp"]
                .clone()
        })
        .collect();
    assert_eq!(
        ticks,
        [
            "2025-03-03T09:30:00+01:00",
            "2025-03-05T09:30:00+01:00",
            "2025-03-17T09:30:00+01:00",
            "2025-03-19T09:30:00+01:00",
            "2025-03-31T09:30:00+02:00",
            "2025-04-02T09:30:00+02:00"
        ]
        .map(Value::from)
    );
    let saved = s.store.workflow_static_data(&id).await.unwrap().unwrap();
    assert!(
        saved["node:Schedule"]["recurrenceRules"][0].is_u64(),
        "{saved:?}"
    );
    s.stop().await;
}

/// The legacy Interval trigger every 90 seconds (on the virtual clock): each tick runs the
/// workflow with one empty item. (When the ticks fall is `schedule::tests`.)
async fn interval_every_ninety_seconds(postgres: bool) {
    let start = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 10).unwrap();
    let s = TestServer::with(postgres, |c| c.clock = Clock::virtual_at(start)).await;
    let id = s
        .deploy(json!({"name": "interval", "nodes": [
            {"name": "Interval", "type": "n8n-nodes-base.interval", "typeVersion": 1,
             "position": [0, 0], "parameters": {"interval": 90}}
        ], "connections": {}}))
        .await;
    s.wait_executions(&format!("workflowId={id}&status=success"), 3)
        .await;
    let (status, _) = s
        .api(Method::POST, &format!("/workflows/{id}/deactivate"), None)
        .await;
    assert_eq!(status, 200);
    let filter = ExecutionFilter {
        workflow_id: Some(id.clone()),
        ..Default::default()
    };
    let runs = s
        .store
        .list_executions(&filter, None, 250, true)
        .await
        .unwrap()
        .data;
    // A tick may still be running as the workflow is deactivated.
    let done: Vec<_> = runs.iter().filter(|r| r.status != "running").collect();
    assert!(done.len() >= 3, "{} runs done", done.len());
    for run in done {
        assert_eq!(run.mode, "trigger");
        let task = &run.data.as_ref().unwrap()["resultData"]["runData"]["Interval"][0];
        assert_eq!(task["data"]["main"][0][0]["json"], json!({}));
        assert_eq!(task["data"]["main"][0].as_array().unwrap().len(), 1);
    }
    s.stop().await;
}

/// A feed whose entries were published on March 1 and March 5, 2025 (noon UTC); counts the
/// requests it answers. Returns its URL.
async fn feed_server(requests: Arc<AtomicUsize>) -> String {
    const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>New</title><link>https://example.com/new</link><pubDate>Wed, 05 Mar 2025 12:00:00 GMT</pubDate></item>
<item><title>Old</title><link>https://example.com/old</link><pubDate>Sat, 01 Mar 2025 12:00:00 GMT</pubDate></item>
</channel></rss>"#;
    let router = axum::Router::new().route(
        "/feed",
        axum::routing::get(move || {
            requests.fetch_add(1, Ordering::SeqCst);
            async { FEED }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The RSS Feed Trigger polling every hour on a virtual clock from March 2: the first poll
/// counts from its own time, so only the entry of March 5 starts an execution, once; the polls
/// after it find nothing newer and start none. Its date stays in the node's static data.
async fn rss_feed_trigger_polls(postgres: bool) {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = feed_server(requests.clone()).await;
    let start = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
    let s = TestServer::with(postgres, |c| c.clock = Clock::virtual_at(start)).await;
    let id = s
        .deploy(json!({"name": "feed", "nodes": [
            {"name": "RSS Feed Trigger", "type": "n8n-nodes-base.rssFeedReadTrigger",
             "typeVersion": 1, "position": [0, 0], "parameters": {
                 "pollTimes": {"item": [{"mode": "everyHour"}]}, "feedUrl": url}}
        ], "connections": {}}))
        .await;
    s.wait_executions(&format!("workflowId={id}"), 1).await;
    support::eventually("more polls", || async {
        requests.load(Ordering::SeqCst) >= 5
    })
    .await;
    let (status, _) = s
        .api(Method::POST, &format!("/workflows/{id}/deactivate"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(s.count_executions(&format!("workflowId={id}")).await, 1);
    let runs = s
        .store
        .list_executions(
            &ExecutionFilter {
                workflow_id: Some(id.clone()),
                ..Default::default()
            },
            None,
            10,
            true,
        )
        .await
        .unwrap()
        .data;
    let output = &runs[0].data.as_ref().unwrap()["resultData"]["runData"]["RSS Feed Trigger"][0]
        ["data"]["main"][0];
    let titles: Vec<&str> = output
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["json"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["New"]);
    let saved = s.store.workflow_static_data(&id).await.unwrap().unwrap();
    assert_eq!(
        saved["node:RSS Feed Trigger"]["lastItemDate"],
        "2025-03-05T12:00:00.000Z"
    );
    s.stop().await;
}

on_both_backends!(
    every_two_weeks,
    interval_every_ninety_seconds,
    rss_feed_trigger_polls
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_ticks_run_once_across_two_servers() {
    let db = support::TestDb::new(false, "server_test").await;
    let a = TestServer::on(&db, |_| {}).await;
    let b = TestServer::on(&db, |_| {}).await;
    let wf = json!({"name": "every second", "nodes": [
        {"name": "Schedule", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2, "position": [0, 0],
         "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}}}
    ], "connections": {}});
    let id = a.deploy(wf).await;
    // b would pick the activation up within its sync interval; activating there too makes sure
    // it runs the schedule from the start.
    let (status, _) = b
        .api(Method::POST, &format!("/workflows/{id}/activate"), None)
        .await;
    assert_eq!(status, 200);
    let runs = a
        .wait_executions(&format!("workflowId={id}&includeData=true"), 2)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (_, list) = a
        .api(
            Method::GET,
            &format!("/executions?workflowId={id}&includeData=true"),
            None,
        )
        .await;
    let mut ticks: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["data"]["resultData"]["runData"]["Schedule"][0]["data"]["main"][0][0]["json"]
                ["timestamp"]
                .to_string()
        })
        .collect();
    let total = ticks.len();
    ticks.sort();
    ticks.dedup();
    assert_eq!(ticks.len(), total, "a tick ran twice: {ticks:?}");
    assert!(runs.len() >= 2);
    a.stop().await;
    b.stop().await;
}
