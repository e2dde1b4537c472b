//! Send Email v1 / v2 / v2.1 (`n8n-nodes-base.emailSend`): one email per input item through the
//! SMTP server of an `smtp` credential, as text, HTML or both, with Cc, Bcc, Reply-To and
//! attachments from binary properties. The item becomes what the server did:
//! `{accepted, rejected, envelope: {from, to}, messageId, response}`. n8n's "sent automatically
//! with n8n" line (`appendAttribution`) is not added; "send and wait for a response" is not
//! supported.

mod message;
mod smtp;

use crate::util::binary;
use crate::util::params::Reader;
use crate::util::per_item;
use message::{Attachment, Message};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.emailSend",
    versions: &[1.0, 2.0, 2.1],
    kind: NodeKind::Regular,
    factory: build,
};

/// Which bodies an email has (`emailFormat`; v1 sends whichever of text and HTML is set).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Html,
    Both,
    /// v1: the non-empty ones.
    Given,
}

struct EmailSend {
    format: Format,
    /// Where v1 and v2 keep the options that v1 has at the top level.
    options: &'static str,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    if def.version() < 2.0 {
        return Ok(Box::new(EmailSend {
            format: Format::Given,
            options: "",
        }));
    }
    if r.str_or("operation", "send")? != "send" {
        return Err(NodeError::new(
            "only the 'send' operation is supported (not 'send and wait for a response')",
        )
        .with_parameter("operation"));
    }
    let default_format = if def.version() >= 2.1 { "html" } else { "text" };
    let format = r.choice("emailFormat", default_format, |f| match f {
        "text" => Some(Format::Text),
        "html" => Some(Format::Html),
        "both" => Some(Format::Both),
        _ => None,
    })?;
    Ok(Box::new(EmailSend {
        format,
        options: "options.",
    }))
}

#[async_trait::async_trait]
impl Node for EmailSend {
    fn credential_types(&self) -> Vec<&str> {
        vec!["smtp"]
    }

    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let server = server(&ctx.node_credential("smtp")?)?;
        let items = ctx.main_input();
        let out = per_item::in_turn(ctx, items.len(), |index| {
            let (server, item) = (&server, &items[index]);
            async move {
                let json = self.send(ctx, server, item, index).await?;
                Ok(vec![json.into()])
            }
        })
        .await?;
        Ok(vec![out])
    }
}

impl EmailSend {
    async fn send(
        &self,
        ctx: &ExecuteContext<'_>,
        server: &smtp::Server,
        item: &Item,
        index: usize,
    ) -> Result<JsonObject, NodeError> {
        let text = |path: &str| -> Result<String, NodeError> {
            Ok(ctx.param_str(path, index)?.unwrap_or_default())
        };
        let option = |name: &str| text(&format!("{}{name}", self.options));
        let from = text("fromEmail")?;
        let list = |path: &str, parameter: &str| -> Result<Vec<String>, NodeError> {
            let entries = message::addresses(&text(path)?);
            match entries.iter().find(|e| message::address(e).is_none()) {
                Some(bad) => Err(NodeError::new(format!("'{bad}' is not an email address"))
                    .with_parameter(parameter)),
                None => Ok(entries),
            }
        };
        let to = list("toEmail", "toEmail")?;
        let cc = list(&format!("{}ccEmail", self.options), "ccEmail")?;
        let bcc = list(&format!("{}bccEmail", self.options), "bccEmail")?;
        let reply_to = text("options.replyTo")?;
        let (body_text, body_html) = match self.format {
            Format::Text => (Some(text("text")?), None),
            Format::Html => (None, Some(text("html")?)),
            Format::Both => (Some(text("text")?), Some(text("html")?)),
            Format::Given => {
                let given = |s: String| (!s.is_empty()).then_some(s);
                (given(text("text")?), given(text("html")?))
            }
        };
        let from_address = message::address(&from).ok_or_else(|| {
            NodeError::new(format!("'{from}' is not an email address")).with_parameter("fromEmail")
        })?;
        if to.is_empty() && cc.is_empty() && bcc.is_empty() {
            return Err(NodeError::new("no recipient: set To Email").with_parameter("toEmail"));
        }
        let attachments_path = format!("{}attachments", self.options);
        let attachments = attachments(ctx, item, &option("attachments")?, &attachments_path)?;
        let message = Message {
            from: &from,
            to: &to,
            cc: &cc,
            reply_to: (!reply_to.is_empty()).then_some(reply_to.as_str()),
            subject: &text("subject")?,
            text: body_text.as_deref(),
            html: body_html.as_deref(),
            attachments: &attachments,
            date: ctx.now(),
        };
        let (message_id, bytes) = message.render(&from_address);
        let recipients: Vec<String> = to
            .iter()
            .chain(&cc)
            .chain(&bcc)
            .filter_map(|a| message::address(a))
            .collect();
        let server = smtp::Server {
            accept_invalid_certs: matches!(
                ctx.param("options.allowUnauthorizedCerts", index)?,
                Value::Bool(true)
            ),
            ..server.clone()
        };
        let sent = smtp::send(&server, &from_address, &recipients, &bytes)
            .await
            .map_err(NodeError::new)?;
        let strings =
            |list: Vec<String>| Value::Array(list.into_iter().map(Value::String).collect());
        let mut json = JsonObject::new();
        json.insert("accepted".into(), strings(sent.accepted));
        json.insert("rejected".into(), strings(sent.rejected));
        let mut envelope = JsonObject::new();
        envelope.insert("from".into(), Value::String(from_address));
        envelope.insert("to".into(), strings(recipients));
        json.insert("envelope".into(), Value::Object(envelope));
        json.insert("messageId".into(), Value::String(message_id));
        json.insert("response".into(), Value::String(sent.response));
        Ok(json)
    }
}

/// The `smtp` credential (`host`, `port`, `secure`, `disableStartTls`, `user`, `password`,
/// `hostName`); certificates are checked unless an item's options say otherwise.
fn server(credential: &Value) -> Result<smtp::Server, NodeError> {
    let r = Reader::new(credential);
    let host = r.str_or("host", "")?.trim().to_string();
    if host.is_empty() {
        return Err(NodeError::new("the SMTP credential has no host"));
    }
    let hello_name = r.str_or("hostName", "")?.trim();
    Ok(smtp::Server {
        host,
        port: r.number_or("port", 465.0)? as u16,
        secure: r.bool_or("secure", true)?,
        disable_starttls: r.bool_or("disableStartTls", false)?,
        user: r.str_or("user", "")?.to_string(),
        password: r.str_or("password", "")?.to_string(),
        hello_name: match hello_name {
            "" => "localhost".to_string(),
            name => name.to_string(),
        },
        accept_invalid_certs: false,
    })
}

/// The binary properties named in `names` (`data,file`), as attachments.
fn attachments(
    ctx: &ExecuteContext<'_>,
    item: &Item,
    names: &str,
    parameter: &str,
) -> Result<Vec<Attachment>, NodeError> {
    names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            let entry = binary::property(item, name, parameter)?;
            let meta = |key: &str| entry.get(key).and_then(Value::as_str).map(String::from);
            Ok(Attachment {
                file_name: meta("fileName").unwrap_or_else(|| name.to_string()),
                mime_type: meta("mimeType").unwrap_or_else(|| "application/octet-stream".into()),
                data: binary::read(ctx, item, name, parameter)?,
            })
        })
        .collect()
}
