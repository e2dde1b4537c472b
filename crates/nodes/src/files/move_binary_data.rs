//! Move Binary Data (`moveBinaryData` v1, legacy): `binaryToJson` reads a binary property into
//! the item's JSON (all of it as parsed JSON, or as text / base64 under `destinationKey`);
//! `jsonToBinary` writes the item's JSON (all of it, or one field) into a binary property.

use crate::files::encoding;
use crate::files::{flag_param, per_item};
use crate::util::binary;
use crate::util::params::text_param;
use crate::util::params::Reader;
use crate::util::path;
use base64::Engine;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, Value};
use std::sync::Arc;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.moveBinaryData",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

struct MoveBinaryData {
    to_json: bool,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let to_json = Reader::fixed(params).choice("mode", "binaryToJson", |mode| match mode {
        "binaryToJson" => Some(true),
        "jsonToBinary" => Some(false),
        _ => None,
    })?;
    Ok(Box::new(MoveBinaryData { to_json }))
}

#[async_trait::async_trait]
impl Node for MoveBinaryData {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let out = per_item(ctx, |i, item| {
            let moved = if self.to_json {
                binary_to_json(ctx, i, item)
            } else {
                json_to_binary(ctx, i, item)
            };
            moved.map(|item| vec![item.paired_to(i)])
        })?;
        Ok(vec![out])
    }
}

fn binary_to_json(ctx: &ExecuteContext<'_>, i: usize, item: &Item) -> Result<Item, NodeError> {
    let source = text_param(ctx, "sourceKey", i, "data")?;
    let bytes = binary::read(ctx, item, &source, "sourceKey")?;
    let encoding_name = text_param(ctx, "options.encoding", i, "utf8")?;
    let text = if flag_param(ctx, "options.keepAsBase64", i, false)? || encoding_name == "base64" {
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    } else {
        let encoding = encoding::by_name(&encoding_name, "options.encoding")?;
        encoding::decode(
            &bytes,
            encoding,
            flag_param(ctx, "options.stripBOM", i, true)?,
        )
    };
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| {
            NodeError::new(format!("binary property '{source}' is not JSON: {e}"))
                .with_parameter("sourceKey")
        })
    };
    let json = if flag_param(ctx, "setAllData", i, true)? {
        match parse(&text)? {
            Value::Object(object) => ItemJson::from(object),
            _ => {
                return Err(NodeError::new(format!(
                    "binary property '{source}' does not hold a JSON object, so it cannot become all of the item's data"
                ))
                .with_parameter("setAllData"))
            }
        }
    } else {
        let value = if flag_param(ctx, "options.jsonParse", i, false)? {
            parse(&text)?
        } else {
            Value::String(text)
        };
        let mut json = (*item.json).clone();
        path::set(
            &mut json,
            &text_param(ctx, "destinationKey", i, "data")?,
            value,
        );
        json
    };
    let mut out = Item::new(json);
    out.binary = item.binary.clone();
    if !flag_param(ctx, "options.keepSource", i, false)? {
        out.binary = without(&item.binary, &source);
    }
    Ok(out)
}

fn json_to_binary(ctx: &ExecuteContext<'_>, i: usize, item: &Item) -> Result<Item, NodeError> {
    let keep_source = flag_param(ctx, "options.keepSource", i, false)?;
    let (text, json) = if flag_param(ctx, "convertAllData", i, true)? {
        let json = if keep_source {
            (*item.json).clone()
        } else {
            ItemJson::new()
        };
        (item.json.to_value().to_string(), json)
    } else {
        let source = text_param(ctx, "sourceKey", i, "data")?;
        let value = path::get(&item.json, &source).ok_or_else(|| {
            NodeError::new(format!("the item has no field '{source}'")).with_parameter("sourceKey")
        })?;
        let text = match value {
            Value::String(s) if flag_param(ctx, "options.useRawData", i, false)? => s.clone(),
            other => other.to_string(),
        };
        let mut json = (*item.json).clone();
        if !keep_source {
            path::unset(&mut json, &source);
        }
        (text, json)
    };
    let encoding = encoding::by_name(
        &text_param(ctx, "options.encoding", i, "utf8")?,
        "options.encoding",
    )?;
    let bytes = encoding::encode(
        &text,
        encoding,
        flag_param(ctx, "options.addBOM", i, false)?,
    );
    let file_name = ctx
        .param_str("options.fileName", i)?
        .filter(|n| !n.is_empty());
    let mime_type = text_param(ctx, "options.mimeType", i, "application/json")?;
    let entry = binary::store(
        ctx,
        &bytes,
        binary::metadata(file_name.as_deref(), &mime_type),
    )?;
    let mut binary_map = item.binary.as_deref().cloned().unwrap_or_default();
    binary_map.insert(
        text_param(ctx, "destinationKey", i, "data")?,
        Value::Object(entry),
    );
    let mut out = Item::new(json);
    out.binary = Some(Arc::new(binary_map));
    Ok(out)
}

/// The binary map without `property` (`None` when nothing is left).
fn without(binary_map: &Option<Arc<JsonObject>>, property: &str) -> Option<Arc<JsonObject>> {
    let mut rest = binary_map.as_deref().cloned()?;
    rest.shift_remove(property);
    (!rest.is_empty()).then(|| Arc::new(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_binary_properties_keep_their_order() {
        let map = serde_json::json!({"a": {}, "data": {}, "b": {}, "c": {}});
        let binary = map.as_object().cloned().map(Arc::new);
        let rest = without(&binary, "data").unwrap();
        assert_eq!(rest.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
