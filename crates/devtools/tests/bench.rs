//! `sluice bench` against a tiny in-process server that fails every 4th request number: the
//! counts in the JSON report (and the generator's own CPU), both loops, `--check`, the queue
//! gauges of its `/metrics` and bad input (never speeds).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::Value;
use sluice_devtools::{bench, BenchArgs};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Numbers (`{"n": ...}`) the server received.
type Received = Arc<Mutex<Vec<u64>>>;

async fn hook(State(received): State<Received>, Json(body): Json<Value>) -> StatusCode {
    let n = body["n"].as_u64().expect("a request number");
    received.lock().unwrap().push(n);
    match n % 4 {
        0 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

/// Queue gauges as a Sluice process in queue mode renders them: the queue deepens by 10 jobs and
/// its lag by half a second at each read.
async fn metrics(State(received): State<Received>) -> String {
    static READS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let reads = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    format!(
        "# TYPE sluice_queue_waiting gauge\n\
         sluice_queue_waiting{{priority=\"high\"}} {reads}\n\
         sluice_queue_waiting{{priority=\"normal\"}} {}\n\
         sluice_queue_delayed 0\n\
         sluice_queue_in_flight {}\n\
         sluice_queue_oldest_waiting_seconds {}\n",
        9 * reads,
        received.lock().unwrap().len().min(4),
        0.5 * reads as f64
    )
}

/// Start the server on its own thread; returns its webhook URL and what it receives.
fn start_server() -> (String, Received) {
    let received = Received::default();
    let router = Router::new()
        .route("/hook", post(hook))
        .route("/metrics", get(metrics))
        .with_state(received.clone());
    let (bound, address) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    (format!("http://{}/hook", address.recv().unwrap()), received)
}

fn run(args: &[&str]) -> u8 {
    bench(BenchArgs::try_parse_from(["bench"].iter().chain(args)).unwrap())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.sum()
}

const TEMPLATE: &str = r#"{"n": {{n}}, "id": "{{uuid}}"}"#;

#[test]
fn closed_loop_counts_every_request() {
    let (url, received) = start_server();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let pid = std::process::id().to_string();
    let json_arg = json.to_str().unwrap();
    let args = [
        "--connections",
        "2",
        "--duration",
        "2s",
        "--body-template",
        TEMPLATE,
        "--json",
        json_arg,
        "--pid",
        &pid,
    ];
    assert_eq!(run(&[&[url.as_str()][..], &args[..]].concat()), 0);

    let report = read_json(&json);
    let requests = report["requests"].as_u64().unwrap();
    let mut numbers = received.lock().unwrap().clone();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=requests).collect::<Vec<_>>(),
        "each request numbered once"
    );
    let failed = numbers.iter().filter(|&&n| n % 4 == 0).count() as u64;
    assert_eq!(report["mode"], "closed");
    assert_eq!(report["connections"], 2);
    assert_eq!(report["errors"], failed);
    assert_eq!(report["statusCodes"]["500"], failed);
    assert_eq!(report["statusCodes"]["200"], requests - failed);
    let per_second = report["perSecond"].as_array().unwrap();
    assert_eq!(
        sum(per_second.iter().map(|s| s["requests"].as_u64().unwrap())),
        requests
    );
    assert_eq!(
        sum(per_second.iter().map(|s| s["errors"].as_u64().unwrap())),
        failed
    );
    let process = &report["processes"][0];
    assert_eq!(process["pid"], std::process::id());
    assert!(!process["samples"].as_array().unwrap().is_empty());
    // The generator's own CPU (here with the in-process server's): some, the two figures agree.
    let generator = &report["generator"];
    let percent = generator["cpuPercent"].as_f64().unwrap();
    let per_request = generator["cpuUsPerRequest"].as_f64().unwrap();
    assert!(percent > 0.0 && per_request > 0.0, "{generator}");
    let cpu_secs = per_request * requests as f64 / 1e6;
    let elapsed = report["elapsedSecs"].as_f64().unwrap();
    assert!(
        (cpu_secs - percent / 100.0 * elapsed).abs() < 1e-6,
        "{generator}"
    );
}

#[test]
fn open_loop_sends_rate_times_duration() {
    let (url, received) = start_server();
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let args = [
        url.as_str(),
        "--rate",
        "50",
        "--duration",
        "2s",
        "--body-template",
        TEMPLATE,
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    assert_eq!(run(&args), 0);

    assert_eq!(received.lock().unwrap().len(), 100);
    let report = read_json(&json);
    assert_eq!(report["mode"], "open");
    assert_eq!(report["requests"], 100);
    assert_eq!(
        report["statusCodes"],
        serde_json::json!({"200": 75, "500": 25})
    );
    assert_eq!(report["errorRate"], 0.25);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("<svg") && html.contains("Throughput") && html.contains("Error rate"));
    assert!(!html.contains("<script"), "self-contained, no script");
}

#[test]
fn queue_metrics_are_read_every_second() {
    let (url, _) = start_server();
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let metrics = url.replace("/hook", "/metrics");
    let args = [
        url.as_str(),
        "--rate",
        "20",
        "--duration",
        "3s",
        "--body-template",
        TEMPLATE,
        "--queue-metrics",
        &metrics,
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    assert_eq!(run(&args), 0);

    let queue = &read_json(&json)["queue"];
    let samples = queue["samples"].as_array().unwrap();
    assert!((2..=4).contains(&samples.len()), "{queue}");
    let seconds: Vec<u64> = samples
        .iter()
        .map(|s| s["second"].as_u64().unwrap())
        .collect();
    assert!(seconds.windows(2).all(|w| w[0] < w[1]), "{seconds:?}");
    // Every priority summed; the first read (the check before the load) is not a sample.
    for (index, sample) in samples.iter().enumerate() {
        let reads = index as u64 + 2;
        assert_eq!(sample["waiting"], 10 * reads, "{sample}");
        assert_eq!(sample["lagSeconds"], 0.5 * reads as f64, "{sample}");
    }
    let last = samples.last().unwrap();
    assert_eq!(queue["peakWaiting"], last["waiting"]);
    assert_eq!(queue["peakLagSeconds"], last["lagSeconds"]);
    assert_eq!(queue["peakInFlight"], 4);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("Queue depth") && html.contains("Queue lag"));

    // A page without the queue's gauges is refused before any load is sent.
    let not_metrics = url.replace("/hook", "/nothing");
    assert_eq!(run(&[url.as_str(), "--queue-metrics", &not_metrics]), 2);
}

#[test]
fn check_names_each_missed_target() {
    let (url, _) = start_server();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let base = [
        url.as_str(),
        "--rate",
        "20",
        "--duration",
        "1s",
        "--body-template",
        TEMPLATE,
    ];
    let missing = [
        "--check",
        "--target-error-rate",
        "0.1%",
        "--target-throughput",
        "1000000",
        "--json",
        json.to_str().unwrap(),
    ];
    assert_eq!(run(&[&base[..], &missing[..]].concat()), 1);
    let missed = read_json(&json)["check"]["missed"].clone();
    let missed: Vec<&str> = missed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(missed.len(), 2, "{missed:?}");
    assert!(missed[0].starts_with("throughput"), "{missed:?}");
    assert!(missed[1].starts_with("error rate 25.000%"), "{missed:?}");

    // 5 of 20 fail: a 30% error budget is met.
    assert_eq!(
        run(&[&base[..], &["--check", "--target-error-rate", "30%"][..]].concat()),
        0
    );
}

#[test]
fn bad_input_is_refused_before_sending() {
    assert_eq!(run(&["not a url"]), 2);
    assert_eq!(run(&["ftp://127.0.0.1:1/hook"]), 2);
    assert_eq!(
        run(&[
            "http://127.0.0.1:1/hook",
            "--body",
            "/nonexistent/body.json"
        ]),
        2
    );
    assert_eq!(
        run(&["http://127.0.0.1:1/hook", "--body-template", "{{what}}"]),
        2
    );
    assert_eq!(run(&["http://127.0.0.1:1/hook", "--header", "no colon"]), 2);
    assert_eq!(
        run(&[
            "http://127.0.0.1:1/hook",
            "--queue-metrics",
            "http://127.0.0.1:1/metrics"
        ]),
        2
    );
    assert_eq!(run(&["http://127.0.0.1:1/hook", "--check"]), 2);
    assert_eq!(run(&["http://127.0.0.1:1/hook", "--target-p99-ms", "5"]), 2);
    assert_eq!(
        run(&["http://127.0.0.1:1/hook", "--check", "--target-rss-mb", "5"]),
        2
    );
    assert!(
        BenchArgs::try_parse_from(["bench", "http://127.0.0.1:1/", "--duration", "10x"]).is_err()
    );
}
