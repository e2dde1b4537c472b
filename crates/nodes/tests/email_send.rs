//! Send Email against a local SMTP sink that records what it receives: plain, STARTTLS and TLS
//! from the start (a self-signed certificate made with `openssl`, accepted through
//! `allowUnauthorizedCerts`), `AUTH PLAIN`, the envelope (Bcc only there), a refused recipient,
//! text / HTML / both bodies, an attachment from a binary property, and a refused login whose
//! error shows no secret.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, ExecutionOptions, RunOutcome};
use sluice_model::Workflow;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsAcceptor;

/// One SMTP session as the sink saw it.
#[derive(Clone, Debug, Default)]
struct Session {
    tls: bool,
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Security {
    Plain,
    StartTls,
    Tls,
}

type Sessions = Arc<Mutex<Vec<Session>>>;

/// A client's connection, plain or TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}
type Io = BufReader<Box<dyn Stream>>;

/// A self-signed certificate for 127.0.0.1, as a TLS acceptor.
fn acceptor(dir: &Path) -> TlsAcceptor {
    let (cert, key) = self_signed_certificate(dir);
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// The sink on a free port: its port and what it records.
async fn sink(security: Security, dir: &Path) -> (u16, Sessions) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions = Sessions::default();
    let acceptor = (security != Security::Plain).then(|| acceptor(dir));
    let recorded = sessions.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, recorded) = (acceptor.clone(), recorded.clone());
            tokio::spawn(async move {
                let session = match security {
                    Security::Tls => {
                        let tls = acceptor.unwrap().accept(tcp).await.unwrap();
                        converse(BufReader::new(Box::new(tls)), true, None, true).await
                    }
                    Security::StartTls => {
                        converse(BufReader::new(Box::new(tcp)), false, acceptor, true).await
                    }
                    Security::Plain => {
                        converse(BufReader::new(Box::new(tcp)), false, None, true).await
                    }
                };
                recorded.lock().unwrap().push(session);
            });
        }
    });
    (port, sessions)
}

/// Answer one client; with `starttls`, offer it and go on over TLS when asked.
/// `greet` is off after STARTTLS: the client says EHLO again without a new greeting.
async fn converse(mut io: Io, tls: bool, starttls: Option<TlsAcceptor>, greet: bool) -> Session {
    let mut session = Session {
        tls,
        ..Session::default()
    };
    if greet {
        io.get_mut().write_all(b"220 sink ESMTP\r\n").await.unwrap();
    }
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await.unwrap() == 0 {
            return session;
        }
        let line = line.trim_end().to_string();
        let answer = match line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_uppercase()
            .as_str()
        {
            "EHLO" => match &starttls {
                Some(_) if !session.tls => {
                    "250-sink\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN".to_string()
                }
                _ => "250-sink\r\n250 AUTH PLAIN LOGIN".to_string(),
            },
            "STARTTLS" => {
                io.get_mut().write_all(b"220 ready\r\n").await.unwrap();
                let acceptor = starttls.clone().unwrap();
                let tls = acceptor.accept(io.into_inner()).await.unwrap();
                let io: Io = BufReader::new(Box::new(tls));
                return Box::pin(converse(io, true, None, false)).await;
            }
            "AUTH" => {
                let token = line.split_whitespace().nth(2).unwrap_or("");
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(token)
                    .unwrap();
                let text = String::from_utf8(decoded).unwrap().replace('\0', "|");
                let ok = text == "|mailer|s3cret";
                session.auth = Some(text);
                if ok { "235 ok" } else { "535 no" }.to_string()
            }
            "MAIL" => {
                session.from = line[10..].trim_matches(['<', '>']).to_string();
                "250 ok".into()
            }
            "RCPT" => {
                let to = line[8..].trim_matches(['<', '>']).to_string();
                let refused = to.starts_with("nobody");
                session.to.push(to);
                if refused {
                    "550 no such user"
                } else {
                    "250 ok"
                }
                .to_string()
            }
            "DATA" => {
                io.get_mut().write_all(b"354 go on\r\n").await.unwrap();
                loop {
                    let mut data = String::new();
                    io.read_line(&mut data).await.unwrap();
                    if data == ".\r\n" {
                        break;
                    }
                    session.data.push_str(&data);
                }
                "250 2.0.0 Ok: queued as 7E1".into()
            }
            "QUIT" => {
                io.get_mut().write_all(b"221 bye\r\n").await.unwrap();
                return session;
            }
            _ => "500 what".into(),
        };
        io.get_mut()
            .write_all(format!("{answer}\r\n").as_bytes())
            .await
            .unwrap();
    }
}

async fn run(
    version: f64,
    parameters: Value,
    port: u16,
    secure: bool,
    password: &str,
) -> RunOutcome {
    let mut workflow = single_node_workflow(
        "n8n-nodes-base.emailSend",
        version,
        parameters,
        json!([{"name": "Ann", "note": "first"}, {"name": "Bob", "note": "second"}]),
    );
    workflow["nodes"][2]["credentials"] = json!({"smtp": {"id": "1", "name": "mail"}});
    let workflow: Workflow = serde_json::from_value(workflow).unwrap();
    CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .expect("builds")
        .run(smtp_credential(port, secure, password))
        .await
        .expect("runs")
}

/// The `smtp` credential `1` for the sink on `port`, user `mailer`.
fn smtp_credential(port: u16, secure: bool, password: &str) -> ExecutionOptions {
    with_credentials(
        json!([{"id": "1", "name": "mail", "type": "smtp", "data": {"host": "127.0.0.1",
        "port": port, "secure": secure, "user": "mailer", "password": password}}]),
    )
}

/// The decoded body of the part with `content_type` in `data`.
fn part(data: &str, content_type: &str) -> String {
    let start = data
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("{content_type} in {data}"));
    let body = data[start..].split("\r\n\r\n").nth(1).unwrap();
    let encoded: String = body
        .lines()
        .take_while(|l| !l.is_empty() && !l.starts_with("--"))
        .collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn html_emails_per_item_with_cc_bcc_and_a_refused_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let (port, sessions) = sink(Security::Plain, dir.path()).await;
    let params = json!({"fromEmail": "Shop <shop@example.com>", "toEmail": "={{ $json.name.toLowerCase() }}@example.com, nobody@example.com",
        "subject": "=Hello {{ $json.name }} – Grüße", "html": "=<p>{{ $json.note }}</p>",
        "options": {"ccEmail": "boss@example.com", "bccEmail": "audit@example.com", "replyTo": "help@example.com"}});
    let outcome = run(2.1, params, port, false, "s3cret").await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let items = output(&outcome, "Node");
    let first = &items[0]["json"];
    assert_eq!(
        first["accepted"],
        json!(["ann@example.com", "boss@example.com", "audit@example.com"])
    );
    assert_eq!(first["rejected"], json!(["nobody@example.com"]));
    assert_eq!(first["envelope"]["from"], "shop@example.com");
    assert_eq!(first["response"], "250 2.0.0 Ok: queued as 7E1");
    assert!(first["messageId"]
        .as_str()
        .unwrap()
        .ends_with("@example.com>"));
    let sessions = sessions.lock().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let ann = &sessions[0];
    assert_eq!(ann.auth.as_deref(), Some("|mailer|s3cret"));
    assert!(!ann.tls);
    assert_eq!(ann.from, "shop@example.com");
    assert_eq!(
        ann.to,
        [
            "ann@example.com",
            "nobody@example.com",
            "boss@example.com",
            "audit@example.com"
        ]
    );
    assert!(
        ann.data.contains("From: Shop <shop@example.com>\r\n"),
        "{}",
        ann.data
    );
    assert!(ann.data.contains("To: ann@example.com, nobody@example.com\r\nCc: boss@example.com\r\nReply-To: help@example.com\r\n"), "{}", ann.data);
    assert!(!ann.data.contains("audit@"), "Bcc stays in the envelope");
    assert!(ann.data.contains("Subject: =?UTF-8?B?"), "{}", ann.data);
    assert_eq!(part(&ann.data, "text/html"), "<p>first</p>");
    assert_eq!(part(&sessions[1].data, "text/html"), "<p>second</p>");

    // A recipient that is no address fails the item before anything is sent.
    let bad = json!({"fromEmail": "shop@example.com", "toEmail": "ann@example.com",
        "subject": "s", "html": "h", "options": {"ccEmail": "the boss"}});
    let error = run(2.1, bad, port, false, "s3cret")
        .await
        .error
        .expect("a bad Cc");
    assert_eq!(error.message, "'the boss' is not an email address");
    assert_eq!(error.parameter.as_deref(), Some("ccEmail"));
}

#[tokio::test]
async fn starttls_and_tls_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    for (security, secure) in [(Security::StartTls, false), (Security::Tls, true)] {
        let (port, sessions) = sink(security, dir.path()).await;
        let params = json!({"fromEmail": "shop@example.com", "toEmail": "ann@example.com", "subject": "s",
            "emailFormat": "text", "text": "hi", "options": {"allowUnauthorizedCerts": true}});
        let outcome = run(2.1, params.clone(), port, secure, "s3cret").await;
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let sessions = sessions.lock().unwrap().clone();
        assert!(
            sessions.iter().all(|s| s.tls && s.auth.is_some()),
            "{sessions:?}"
        );
        assert_eq!(part(&sessions[0].data, "text/plain"), "hi");

        // The self-signed certificate is refused unless allowed.
        let mut strict = params;
        strict["options"] = json!({});
        let refused = run(2.1, strict, port, secure, "s3cret").await;
        let error = refused.error.expect("an untrusted certificate fails");
        assert!(
            error.message.starts_with("TLS with 127.0.0.1 failed"),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn v1_text_and_html_with_an_attachment_and_a_refused_login() {
    let dir = tempfile::tempdir().unwrap();
    let (port, sessions) = sink(Security::Plain, dir.path()).await;
    let mut workflow = single_node_workflow(
        "n8n-nodes-base.convertToFile",
        1.1,
        json!({"operation": "toText", "sourceProperty": "note", "options": {"fileName": "note.txt"}}),
        json!([{"note": "attached words"}]),
    );
    workflow["nodes"][2]["name"] = json!("File");
    workflow["nodes"].as_array_mut().unwrap().push(json!({"name": "Node", "type": "n8n-nodes-base.emailSend",
        "typeVersion": 1, "position": [600, 0], "credentials": {"smtp": {"id": "1", "name": "mail"}},
        "parameters": {"fromEmail": "shop@example.com", "toEmail": "ann@example.com", "subject": "files",
            "text": "plain words", "html": "<b>bold words</b>", "attachments": "data"}}));
    workflow["connections"]["Input"] =
        json!({"main": [[{"node": "File", "type": "main", "index": 0}]]});
    workflow["connections"]["File"] =
        json!({"main": [[{"node": "Node", "type": "main", "index": 0}]]});
    let workflow: Workflow = serde_json::from_value(workflow).unwrap();
    let compiled = CompiledWorkflow::build(workflow, &sluice_nodes::registry()).expect("builds");
    let options = |password: &str| smtp_credential(port, false, password);
    let outcome = compiled.run(options("s3cret")).await.unwrap();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let data = sessions.lock().unwrap()[0].data.clone();
    assert!(data.contains("Content-Type: multipart/mixed"), "{data}");
    assert!(
        data.contains("Content-Type: multipart/alternative"),
        "{data}"
    );
    assert_eq!(part(&data, "text/plain; charset"), "plain words");
    assert_eq!(part(&data, "text/html"), "<b>bold words</b>");
    assert!(
        data.contains("Content-Disposition: attachment; filename=\"note.txt\""),
        "{data}"
    );
    assert_eq!(part(&data, "text/plain; name"), "attached words");

    let refused = compiled.run(options("wrong-secret")).await.unwrap();
    let error = refused.error.expect("a refused login fails the node");
    assert_eq!(
        error.message,
        "the server refused the credential's user and password (535)"
    );
    assert!(!format!("{error:?}").contains("wrong-secret"));
}
