//! Markdown v1 (`n8n-nodes-base.markdown`): converts Markdown to HTML or HTML to Markdown and
//! writes the result to `destinationKey` (default `data`) of a copy of each item.

mod config;
mod to_html;
mod to_markdown;

use crate::util::path::set_dotted;
use config::Mode;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.markdown",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct Markdown {
    mode: Mode,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Markdown {
        mode: Mode::parse(params)?,
    }))
}

#[async_trait::async_trait]
impl Node for Markdown {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, item| {
            let converted = match &self.mode {
                Mode::ToHtml(options) => {
                    to_html::convert(&ctx.param_str("markdown", i)?.unwrap_or_default(), options)
                }
                Mode::ToMarkdown(options) => {
                    to_markdown::convert(&ctx.param_str("html", i)?.unwrap_or_default(), options)
                }
            };
            let key = ctx
                .param_str("destinationKey", i)?
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "data".into());
            let mut out = item.clone();
            set_dotted(out.json_mut(), &key, Value::String(converted));
            Ok(Some(out))
        })?;
        Ok(vec![items])
    }
}
