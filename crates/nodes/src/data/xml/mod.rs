//! XML v1 (`n8n-nodes-base.xml`): converts the XML text in `dataPropertyName` to JSON (the item
//! becomes the parsed object), or the whole item JSON to XML text (the item becomes
//! `{dataPropertyName: xml}`), following xml2js's conventions.

mod config;
mod to_json;
mod to_xml;

pub(super) use config::BuildOptions;
use config::{Mode, ParseOptions};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, JsonObject, NodeDef, Value};
pub(super) use to_xml::build as markup;

/// XML text as xml2js parses it with its own defaults (every child an array, attributes under
/// `$`), as feed readers built on it see a document.
pub(super) fn xml2js_tree(xml: &str) -> Result<Value, String> {
    to_json::parse(xml, &ParseOptions::xml2js_defaults())
}

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.xml",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct Xml {
    mode: Mode,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Xml {
        mode: Mode::parse(params)?,
    }))
}

#[async_trait::async_trait]
impl Node for Xml {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, item| {
            let field = ctx
                .param_str("dataPropertyName", i)?
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "data".into());
            let json = match &self.mode {
                Mode::ToXml(options) => {
                    let mut json = JsonObject::new();
                    json.insert(
                        field,
                        Value::String(to_xml::build(&item.json.to_map(), options)),
                    );
                    json
                }
                Mode::ToJson(options) => {
                    let Some(Value::String(text)) = item.json.get(&field) else {
                        return Err(NodeError::new(format!(
                            "Item has no JSON property called '{field}' holding XML text"
                        ))
                        .with_parameter("dataPropertyName"));
                    };
                    match to_json::parse(text, options).map_err(NodeError::new)? {
                        Value::Object(map) => map,
                        other => {
                            let mut json = JsonObject::new();
                            json.insert(field, other);
                            json
                        }
                    }
                }
            };
            Ok(Some(Item::new(json).paired_to(i)))
        })?;
        Ok(vec![items])
    }
}
