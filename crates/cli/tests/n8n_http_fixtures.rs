//! n8n's 11 HTTP Request fixtures (`../shared/n8n-http-fixtures`, beside the repository) run by
//! `sluice test` against a local server that answers what each fixture's `.mocks.json` says. The
//! workflows keep their URLs (`https://dummyjson.com/...`): `SLUICE_HTTP_CONNECT_TO` sends those
//! origins to the local server, which answers with exactly the listed headers and closes the
//! connection (so no `Content-Length` or `Date` is added).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// One interceptor of a mocks file, with the answers it has left (`None`: any number).
struct Interceptor {
    spec: Value,
    left: Option<u64>,
}

struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let method = words.next()?.to_string();
    let target = words.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target, None),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn matches(spec: &Value, request: &Request) -> bool {
    let url = spec["url"].as_str().unwrap_or_default();
    let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}"));
    if spec["method"] != request.method.as_str() || path.as_deref() != Some(&request.path) {
        return false;
    }
    let query_ok = match &spec["query"] {
        Value::Null => request.query.as_deref().is_none_or(str::is_empty),
        Value::String(s) if s == "*" => true,
        Value::Object(expected) => {
            let got = query_pairs(request.query.as_deref().unwrap_or_default());
            got.len() == expected.len()
                && got
                    .iter()
                    .all(|(k, v)| expected.get(k).and_then(Value::as_str) == Some(v))
        }
        _ => false,
    };
    let body_ok = match &spec["request_body"] {
        Value::Null => true,
        Value::String(s) => request.body == s.as_bytes(),
        expected => serde_json::from_slice::<Value>(&request.body).ok().as_ref() == Some(expected),
    };
    let headers_ok = spec["request_headers"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(name, value)| {
            request
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && Some(v.as_str()) == value.as_str())
        });
    query_ok && body_ok && headers_ok
}

/// The leading decimal integer of a value.
fn leading_number(text: &str) -> Option<i64> {
    let digits: String = text
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A body field of a JSON or multipart/form-data body.
fn body_field(request: &Request, name: &str) -> Option<i64> {
    if let Ok(json) = serde_json::from_slice::<Value>(&request.body) {
        return match &json[name] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => leading_number(s),
            _ => None,
        };
    }
    let text = String::from_utf8_lossy(&request.body);
    let marker = format!("name=\"{name}\"\r\n\r\n");
    let start = text.find(&marker)? + marker.len();
    leading_number(&text[start..])
}

/// The computed answer of the pagination fixture's dynamic interceptors.
fn dynamic(request: &Request) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let from_query = |name: &str| {
        query_pairs(request.query.as_deref().unwrap_or_default())
            .into_iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| leading_number(&v))
    };
    let field = |name: &str| {
        if request.method == "GET" {
            from_query(name)
        } else {
            body_field(request, name)
        }
    };
    let limit = field("limit").unwrap_or(10);
    let skip = field("skip").unwrap_or(0);
    let ids: Vec<Value> = (skip..skip + limit)
        .filter(|i| *i <= 14)
        .map(|i| json!({ "id": i }))
        .collect();
    let status = if ids.is_empty() { 404 } else { 200 };
    let content_type = request
        .headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map_or("application/json".to_string(), |(_, v)| v.clone());
    let headers = vec![
        (
            "next-url".to_string(),
            format!(
                "https://dummyjson.com/users?skip={}&limit={limit}",
                skip + limit
            ),
        ),
        ("content-type".to_string(), content_type),
    ];
    (status, headers, Value::Array(ids).to_string().into_bytes())
}

fn answer(stream: &mut TcpStream, interceptors: &Mutex<Vec<Interceptor>>) {
    let Some(request) = read_request(stream) else {
        return;
    };
    let reply = {
        let mut interceptors = interceptors.lock().unwrap();
        interceptors
            .iter_mut()
            .find(|i| i.left != Some(0) && matches(&i.spec, &request))
            .map(|i| {
                if let Some(left) = &mut i.left {
                    *left -= 1;
                }
                i.spec.clone()
            })
    };
    // No interceptor: refuse like nock does (the connection drops without an answer).
    let Some(spec) = reply else {
        eprintln!(
            "mock: no interceptor for {} {}?{:?}",
            request.method, request.path, request.query
        );
        return;
    };
    let (status, headers, body) = if spec["dynamic_response"].is_object() {
        dynamic(&request)
    } else {
        let headers = spec["response_headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let body = match (&spec["response_body_base64"], &spec["response_body"]) {
            (Value::String(b64), _) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap()
            }
            (_, Value::String(text)) => text.clone().into_bytes(),
            (_, Value::Null) => Vec::new(),
            (_, json) => json.to_string().into_bytes(),
        };
        (spec["status"].as_u64().unwrap_or(200) as u16, headers, body)
    };
    let reason = match status {
        200 => "OK",
        201 => "Created",
        302 => "Found",
        404 => "Not Found",
        _ => "",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    let _ = stream.write_all(&out);
}

/// Serve `mocks` on a free port of 127.0.0.1 until the test process ends.
fn serve(mocks: Vec<Value>) -> u16 {
    let interceptors = Arc::new(Mutex::new(
        mocks
            .into_iter()
            .map(|spec| Interceptor {
                left: spec["times"].as_u64(),
                spec,
            })
            .collect::<Vec<_>>(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let interceptors = interceptors.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                answer(&mut stream, &interceptors);
            });
        }
    });
    port
}

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && !path.to_string_lossy().ends_with(".mocks.json")
        {
            out.push(path);
        }
    }
}

#[test]
fn n8n_http_request_fixtures_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/n8n-http-fixtures");
    assert!(dir.is_dir(), "{} does not exist", dir.display());
    let mut files = Vec::new();
    fixtures(&dir, &mut files);
    assert_eq!(files.len(), 11);
    let mut failed = Vec::new();
    for file in &files {
        let stem = file.to_string_lossy().trim_end_matches(".json").to_string();
        let mocks: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(format!("{stem}.mocks.json")).unwrap())
                .unwrap();
        let port = serve(mocks);
        let local = format!("http://127.0.0.1:{port}");
        let connect_to = [
            "https://dummyjson.com",
            "https://ua.example.com",
            "https://dummy.domain",
        ]
        .map(|origin| format!("{origin}={local}"))
        .join(",");
        let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("test")
            .arg(file)
            .env("SLUICE_HTTP_CONNECT_TO", connect_to)
            .output()
            .expect("sluice test runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() || !text.contains("1 passed, 0 failed") {
            failed.push(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 11 fixture(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
