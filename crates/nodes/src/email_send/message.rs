//! An email as MIME text: headers (non-ASCII ones as RFC 2047 encoded words), a text and/or HTML
//! body (`multipart/alternative` for both), attachments (`multipart/mixed`), everything base64
//! so any content travels over any server.

use base64::Engine;
use chrono::{DateTime, Utc};

pub(crate) struct Attachment {
    pub file_name: String,
    pub mime_type: String,
    pub data: Vec<u8>,
}

pub(crate) struct Message<'a> {
    /// As written: `a@b.c` or `Name <a@b.c>`.
    pub from: &'a str,
    pub to: &'a [String],
    pub cc: &'a [String],
    pub reply_to: Option<&'a str>,
    pub subject: &'a str,
    pub text: Option<&'a str>,
    pub html: Option<&'a str>,
    pub attachments: &'a [Attachment],
    pub date: DateTime<Utc>,
}

/// The entries of a comma-separated list of addresses (`a@b.c, Name <d@e.f>`).
pub(crate) fn addresses(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(String::from)
        .collect()
}

/// The bare address of an entry (`Name <a@b.c>` -> `a@b.c`); `None` without an `@`.
pub(crate) fn address(entry: &str) -> Option<String> {
    let bare = match (entry.rfind('<'), entry.rfind('>')) {
        (Some(start), Some(end)) if start < end => &entry[start + 1..end],
        _ => entry,
    }
    .trim();
    (bare.contains('@') && !bare.contains(char::is_whitespace)).then(|| bare.to_string())
}

impl Message<'_> {
    /// The message's `Message-ID` and its text, sent from `from_address`.
    pub fn render(&self, from_address: &str) -> (String, Vec<u8>) {
        let domain = from_address.rsplit('@').next().unwrap_or("localhost");
        let message_id = format!("<{}@{domain}>", uuid::Uuid::new_v4());
        let mut out = String::new();
        let mut header = |name: &str, value: &str| {
            out.push_str(&format!("{name}: {value}\r\n"));
        };
        header("From", &encode_header(self.from));
        if !self.to.is_empty() {
            header("To", &encode_list(self.to));
        }
        if !self.cc.is_empty() {
            header("Cc", &encode_list(self.cc));
        }
        if let Some(reply_to) = self.reply_to {
            header("Reply-To", &encode_header(reply_to));
        }
        header("Subject", &encode_header(self.subject));
        header("Date", &self.date.to_rfc2822());
        header("Message-ID", &message_id);
        header("MIME-Version", "1.0");
        let body = self.body();
        let content = match self.attachments.is_empty() {
            true => body,
            false => {
                let mut parts = vec![body];
                parts.extend(self.attachments.iter().map(|a| {
                    let name = encode_header(&a.file_name);
                    Part::base64(
                        format!("{}; name=\"{name}\"", a.mime_type),
                        Some(format!("attachment; filename=\"{name}\"")),
                        &a.data,
                    )
                }));
                Part::multipart("mixed", parts)
            }
        };
        out.push_str(&content.text());
        (message_id, out.into_bytes())
    }

    fn body(&self) -> Part {
        let text = |t: &str| Part::base64("text/plain; charset=utf-8".into(), None, t.as_bytes());
        let html = |h: &str| Part::base64("text/html; charset=utf-8".into(), None, h.as_bytes());
        match (self.text, self.html) {
            (Some(t), Some(h)) => Part::multipart("alternative", vec![text(t), html(h)]),
            (None, Some(h)) => html(h),
            (Some(t), None) => text(t),
            (None, None) => text(""),
        }
    }
}

/// A MIME entity: its headers and body lines.
struct Part {
    headers: Vec<(String, String)>,
    body: String,
}

impl Part {
    fn base64(content_type: String, disposition: Option<String>, data: &[u8]) -> Part {
        let mut headers = vec![
            ("Content-Type".to_string(), content_type),
            (
                "Content-Transfer-Encoding".to_string(),
                "base64".to_string(),
            ),
        ];
        if let Some(disposition) = disposition {
            headers.push(("Content-Disposition".to_string(), disposition));
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        let body = encoded
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", String::from_utf8_lossy(line)))
            .collect();
        Part { headers, body }
    }

    fn multipart(kind: &str, parts: Vec<Part>) -> Part {
        let boundary = format!("----sluice-{}", uuid::Uuid::new_v4().simple());
        let mut body = String::new();
        for part in parts {
            body.push_str(&format!("--{boundary}\r\n{}", part.text()));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        Part {
            headers: vec![(
                "Content-Type".to_string(),
                format!("multipart/{kind}; boundary=\"{boundary}\""),
            )],
            body,
        }
    }

    fn text(&self) -> String {
        let mut out: String = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        out.push_str("\r\n");
        out.push_str(&self.body);
        out
    }
}

/// A header value as is when it is ASCII, else as one UTF-8 encoded word per 45 bytes.
fn encode_header(value: &str) -> String {
    let value = value.replace(['\r', '\n'], " ");
    if value.is_ascii() {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn encode_list(entries: &[String]) -> String {
    entries
        .iter()
        .map(|e| encode_header(e))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_encoded_headers() {
        assert_eq!(
            addresses(" a@b.c, Ann <ann@x.org>,, "),
            ["a@b.c", "Ann <ann@x.org>"]
        );
        assert_eq!(address("Ann <ann@x.org>").as_deref(), Some("ann@x.org"));
        assert_eq!(address("not an address"), None);
        assert_eq!(encode_header("Plain"), "Plain");
        assert_eq!(encode_header("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
        assert_eq!(encode_header("a\r\nBcc: x"), "a  Bcc: x");
    }
}
