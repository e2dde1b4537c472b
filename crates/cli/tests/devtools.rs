//! `sluice dev upstream` and `sluice bench` as processes: the upstream prints its URL, bench
//! loads its notifications sink, and `--check` exits 1 naming the missed target; the sink's
//! counts say every request arrived. Bench also loads an https server (`openssl s_server`),
//! trusting its certificate only through the system's roots.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use support::{free_port, http, Server};

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

/// A test CA and a server certificate for `localhost` it signed, in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> [String; 3] {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let made = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    std::fs::write(
        path("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test CA",
        "-keyout",
        &path("ca.key"),
        "-out",
        &path("ca.pem"),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &path("key.pem"),
        "-out",
        &path("leaf.csr"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("leaf.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        &path("leaf.ext"),
        "-out",
        &path("cert.pem"),
    ]);
    [path("ca.pem"), path("cert.pem"), path("key.pem")]
}

#[test]
fn bench_loads_an_https_server_it_trusts_and_refuses_one_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let [ca, cert, key] = certificates(dir.path());
    let port = free_port();
    let server = Server(
        Command::new("openssl")
            .args(["s_server", "-www", "-quiet", "-accept", &port.to_string()])
            .args(["-cert", &cert, "-key", &key])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts"),
    );
    let url = format!("https://localhost:{port}/");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let bench = |ca_file: &str| {
        let report = dir.path().join("report.json");
        let run = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["bench", &url, "--method", "GET", "--connections", "1"])
            .args(["--duration", "500ms", "--json", report.to_str().unwrap()])
            .env("SSL_CERT_FILE", ca_file)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        report["statusCodes"].clone()
    };
    let trusted = bench(&ca);
    assert!(trusted["200"].as_u64().unwrap() > 0, "{trusted}");
    assert_eq!(
        trusted.as_object().unwrap().len(),
        1,
        "only 200s: {trusted}"
    );
    // The server's own certificate is no root: nothing gets through.
    let untrusted = bench(&cert);
    assert!(
        untrusted["connect error"].as_u64().unwrap() > 0,
        "{untrusted}"
    );
    assert_eq!(untrusted.as_object().unwrap().len(), 1, "{untrusted}");
    drop(server);
}
