//! Read Binary Files v1 (`n8n-nodes-base.readBinaryFiles`): every file matching the `fileSelector`
//! glob becomes one item whose binary property (`dataPropertyName`, default `data`) holds the
//! file's bytes, MIME type, name, extension, size and directory.

use crate::data::binary;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, JsonObject, NodeDef};
use std::sync::Arc;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.readBinaryFiles",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct ReadBinaryFiles;

fn build(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(ReadBinaryFiles))
}

#[async_trait::async_trait]
impl Node for ReadBinaryFiles {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut out = Vec::new();
        for i in 0..ctx.main_input().len() {
            let result = read_matches(ctx, i);
            match result {
                Ok(items) => out.extend(items),
                Err(e) if ctx.continue_on_fail() => out.push(ctx.error_item(&e, i)),
                Err(e) => return Err(e.with_item(i)),
            }
        }
        Ok(vec![out])
    }
}

fn read_matches(ctx: &ExecuteContext<'_>, i: usize) -> Result<Vec<Item>, NodeError> {
    let pattern = ctx.param_str("fileSelector", i)?.unwrap_or_default();
    let property = ctx
        .param_str("dataPropertyName", i)?
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "data".into());
    let paths = ctx.files().glob(&pattern).map_err(|e| {
        NodeError::new(format!("invalid file selector '{pattern}': {e}"))
            .with_parameter("fileSelector")
    })?;
    let mut items = Vec::new();
    for path in paths {
        let bytes = ctx
            .files()
            .read(&path)
            .map_err(|e| NodeError::new(format!("could not read '{}': {e}", path.display())))?;
        let mime = mime_guess::from_path(&path).first_or_octet_stream();
        let mut binary_data = JsonObject::new();
        binary_data.insert(
            property.clone(),
            binary::entry(&bytes, &path, mime.as_ref()),
        );
        let mut item = Item::new(JsonObject::new()).paired_to(i);
        item.binary = Some(Arc::new(binary_data));
        items.push(item);
    }
    Ok(items)
}
