//! `sluice dev upstream` and `sluice bench` as processes: the upstream prints its URL, bench
//! loads its notifications sink, and `--check` exits 1 naming the missed target; the sink's
//! counts say every request arrived.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{http, Server};

#[test]
fn bench_loads_the_stand_in_upstream() {
    let mut upstream = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["dev", "upstream", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = upstream.stdout.take().unwrap();
    let upstream = Server(upstream);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    let (status, _) = http(port, "POST", "/notifications", "", r#"{"order": 0}"#).unwrap();
    assert_eq!(status, 202);

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let bench = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "bench",
            &format!("{url}/notifications"),
            "--rate",
            "20",
            "--duration",
            "1s",
        ])
        .args([
            "--body-template",
            r#"[{"order": {{n}}}, {"order": "{{uuid}}"}]"#,
        ])
        .args(["--json", report.to_str().unwrap()])
        .args(["--check", "--target-throughput", "1000000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bench.stderr);
    assert_eq!(bench.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missed target: throughput"), "{stderr}");
    let stdout = String::from_utf8_lossy(&bench.stdout);
    assert!(stdout.contains("requests     20"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["statusCodes"], serde_json::json!({"202": 20}));

    let (_, stats) = http(port, "GET", "/stats", "", "").unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["notificationRequests"], 21);
    assert_eq!(stats["notificationsReceived"], 41);

    // More sending threads than the default one, and none, which is refused.
    let bench_with_threads = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "bench",
                &format!("{url}/notifications"),
                "--threads",
                threads,
            ])
            .args(["--connections", "2", "--duration", "300ms"])
            .args(["--body-template", r#"[{"order": {{n}}}]"#])
            .output()
            .unwrap()
    };
    let two = bench_with_threads("2");
    let stdout = String::from_utf8_lossy(&two.stdout);
    assert_eq!(two.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("errors       0 "), "{stdout}");
    let none = bench_with_threads("0");
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--threads"));
    drop(upstream);
}
