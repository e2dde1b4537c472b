//! A small SMTP client for Send Email: TLS from the start (`secure`, port 465) or upgraded with
//! STARTTLS when the server offers it, `AUTH PLAIN` (or `LOGIN`) when the credential has a user,
//! one message to its recipients, then `QUIT`. TLS is rustls on the ring provider, verified
//! against the system's roots unless the node allows unauthorized certificates.

use base64::Engine;
use rustls::pki_types::ServerName;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long one exchange with the server may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// The `smtp` credential and the node's certificate switch.
#[derive(Clone, Debug)]
pub(crate) struct Server {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte; otherwise STARTTLS when offered.
    pub secure: bool,
    pub disable_starttls: bool,
    pub user: String,
    pub password: String,
    /// The name this client gives in `EHLO`.
    pub hello_name: String,
    pub accept_invalid_certs: bool,
}

/// What the server did with a message.
#[derive(Debug)]
pub(crate) struct Sent {
    pub accepted: Vec<String>,
    pub rejected: Vec<String>,
    /// The server's answer to the message (`250 ...`).
    pub response: String,
}

/// A stream after TLS, or plain when the server offers none.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Send `message` from `from` to `recipients` (addresses only).
pub(crate) async fn send(
    server: &Server,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Sent, String> {
    let address = format!("{}:{}", server.host, server.port);
    let tcp = tokio::time::timeout(EXCHANGE_TIMEOUT, TcpStream::connect(&address))
        .await
        .map_err(|_| format!("connecting to {address} timed out"))?
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let (mut session, features) = if server.secure {
        let mut session = BufReader::new(tls(server, tcp).await?);
        expect(&mut session, 220).await?;
        let features = hello(&mut session, server).await?;
        (session, features)
    } else {
        let mut plain = BufReader::new(tcp);
        expect(&mut plain, 220).await?;
        let features = hello(&mut plain, server).await?;
        if server.disable_starttls || !offers(&features, "STARTTLS") {
            (
                BufReader::new(Box::new(plain.into_inner()) as Box<dyn Stream>),
                features,
            )
        } else {
            command(&mut plain, "STARTTLS", 220).await?;
            let mut session = BufReader::new(tls(server, plain.into_inner()).await?);
            let features = hello(&mut session, server).await?;
            (session, features)
        }
    };
    if !server.user.is_empty() {
        authenticate(&mut session, server, &features).await?;
    }
    command(&mut session, &format!("MAIL FROM:<{from}>"), 250).await?;
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for to in recipients {
        match exchange(&mut session, &format!("RCPT TO:<{to}>")).await? {
            (250 | 251, _) => accepted.push(to.clone()),
            _ => rejected.push(to.clone()),
        }
    }
    if accepted.is_empty() {
        return Err(format!(
            "no recipient was accepted: {}",
            rejected.join(", ")
        ));
    }
    command(&mut session, "DATA", 354).await?;
    let mut data = dot_stuffed(message);
    data.extend_from_slice(b".\r\n");
    write(&mut session, &data).await?;
    let response = expect(&mut session, 250).await?;
    // The message is accepted: a failed goodbye changes nothing.
    let _ = exchange(&mut session, "QUIT").await;
    Ok(Sent {
        accepted,
        rejected,
        response,
    })
}

async fn tls(server: &Server, tcp: TcpStream) -> Result<Box<dyn Stream>, String> {
    let config = sluice_runtime::tls::shared_client_config(server.accept_invalid_certs)?;
    let name = ServerName::try_from(server.host.clone())
        .map_err(|_| format!("'{}' is not a host name", server.host))?;
    let stream = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {} failed: {e}", server.host))?;
    Ok(Box::new(stream))
}

/// `EHLO`: the extensions the server lists.
async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    server: &Server,
) -> Result<Vec<String>, String> {
    let (code, lines) = exchange(session, &format!("EHLO {}", server.hello_name)).await?;
    if code != 250 {
        return Err(format!(
            "the server refused EHLO: {code} {}",
            lines.join(" ")
        ));
    }
    Ok(lines.into_iter().skip(1).collect())
}

fn offers(features: &[String], name: &str) -> bool {
    features.iter().any(|f| {
        f.split_whitespace()
            .next()
            .is_some_and(|word| word.eq_ignore_ascii_case(name))
    })
}

async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    server: &Server,
    features: &[String],
) -> Result<(), String> {
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mechanisms: Vec<String> = features
        .iter()
        .filter_map(|f| f.strip_prefix("AUTH ").or_else(|| f.strip_prefix("AUTH=")))
        .flat_map(|list| list.split_whitespace().map(str::to_ascii_uppercase))
        .collect();
    let login = mechanisms.iter().any(|m| m == "LOGIN") && !mechanisms.iter().any(|m| m == "PLAIN");
    // The lines carry the secrets: only codes go into errors.
    let steps = if login {
        vec![
            ("AUTH LOGIN".to_string(), 334),
            (encode(&server.user), 334),
            (encode(&server.password), 235),
        ]
    } else {
        let token = encode(&format!("\0{}\0{}", server.user, server.password));
        vec![(format!("AUTH PLAIN {token}"), 235)]
    };
    for (line, want) in steps {
        let (code, _) = exchange(session, &line).await?;
        if code != want {
            return Err(format!(
                "the server refused the credential's user and password ({code})"
            ));
        }
    }
    Ok(())
}

/// Send `line` and require the reply `code`; the reply's text.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    line: &str,
    code: u16,
) -> Result<String, String> {
    let (got, lines) = exchange(session, line).await?;
    if got != code {
        let verb = line.split_whitespace().next().unwrap_or(line);
        return Err(format!(
            "{verb}: the server answered {got} {}",
            lines.join(" ")
        ));
    }
    Ok(format!("{got} {}", lines.join(" ")))
}

/// Send `line`; the reply's code and text lines.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    line: &str,
) -> Result<(u16, Vec<String>), String> {
    write(session, format!("{line}\r\n").as_bytes()).await?;
    reply(session).await
}

/// Read a reply and require `code`; its text.
async fn expect<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    code: u16,
) -> Result<String, String> {
    match reply(session).await? {
        (got, lines) if got == code => Ok(format!("{got} {}", lines.join(" "))),
        (got, lines) => Err(format!("the server answered {got} {}", lines.join(" "))),
    }
}

async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut BufReader<S>,
    bytes: &[u8],
) -> Result<(), String> {
    let stream = session.get_mut();
    tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| "the SMTP server stopped answering".to_string())?
    .map_err(|e| format!("the connection to the SMTP server failed: {e}"))
}

/// One reply: `250-first`, `250-second`, `250 last`.
async fn reply<S: AsyncRead + Unpin>(
    session: &mut BufReader<S>,
) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = tokio::time::timeout(EXCHANGE_TIMEOUT, session.read_line(&mut line))
            .await
            .map_err(|_| "the SMTP server stopped answering".to_string())?
            .map_err(|e| format!("the connection to the SMTP server failed: {e}"))?;
        if read == 0 {
            return Err("the SMTP server closed the connection".into());
        }
        let line = line.trim_end();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("not an SMTP reply: {line}"))?;
        lines.push(line.get(4..).unwrap_or_default().to_string());
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, lines));
        }
    }
}

/// The message with CRLF line ends and every line starting with `.` given another.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    // `split` gives an empty last line after a final newline: drop its CRLF.
    if message.ends_with(b"\n") {
        out.truncate(out.len() - 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_stuffed_and_lines_end_in_crlf() {
        assert_eq!(dot_stuffed(b"a\n.b\r\n..c\n"), b"a\r\n..b\r\n...c\r\n");
        assert_eq!(dot_stuffed(b"end"), b"end\r\n");
    }
}
