//! The n8n Form node (v1) as a Form Ending (`operation` `completion`): what the person who
//! submitted a Form Trigger's form sees once the workflow reaches this node. It answers the
//! form's request through the host, as Respond to Webhook does (the server waits for that
//! answer whenever a form's workflow holds a Form Ending, see `FormConfig::answered_by_ending`),
//! and passes its input on. It shows a completion page (`completionTitle`,
//! `completionMessage`), redirects (`redirectUrl`), shows `responseText` as the page, or
//! returns a binary file (`inputDataFieldName`). The Form node's further pages (`operation`
//! `page`) need an execution that waits for the next submission, which Sluice does not have:
//! they are refused when the workflow loads.

use super::form_trigger::completion_page;
use super::respond_to_webhook::binary_body;
use crate::util::params::Reader;
use sluice_engine::{
    ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param, ResponseBody,
    WebhookResponse,
};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.form",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

enum RespondWith {
    CompletionPage,
    Redirect,
    Text,
    Binary,
}

struct FormEnding {
    with: RespondWith,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    if r.str_or("operation", "page")? != "completion" {
        return Err(NodeError::new(
            "the n8n Form node's pages are not supported (they need an execution that waits \
             for the next submission); a Form Ending (operation 'completion') is",
        )
        .with_parameter("operation"));
    }
    let with = r.choice("respondWith", "text", |with| match with {
        "text" => Some(RespondWith::CompletionPage),
        "redirect" => Some(RespondWith::Redirect),
        "showText" => Some(RespondWith::Text),
        "returnBinary" => Some(RespondWith::Binary),
        _ => None,
    })?;
    Ok(Box::new(FormEnding { with }))
}

#[async_trait::async_trait]
impl Node for FormEnding {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        if let Some(host) = ctx.host() {
            let text = |name: &str| -> Result<String, NodeError> {
                Ok(ctx.param_str(name, 0)?.unwrap_or_default())
            };
            let html = |body: String| WebhookResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                body: ResponseBody::Text(body),
            };
            let response = match self.with {
                RespondWith::CompletionPage => {
                    let heading = text("completionTitle")?;
                    let title = Some(text("options.formTitle")?)
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| heading.clone());
                    html(completion_page(
                        &title,
                        &heading,
                        &text("completionMessage")?,
                    ))
                }
                RespondWith::Redirect => WebhookResponse {
                    status: 302,
                    headers: vec![("location".into(), text("redirectUrl")?)],
                    body: ResponseBody::Empty,
                },
                RespondWith::Text => html(text("responseText")?),
                RespondWith::Binary => WebhookResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: binary_body(ctx, items, "inputDataFieldName")?,
                },
            };
            host.respond(response);
        }
        Ok(vec![items.to_vec()])
    }
}
