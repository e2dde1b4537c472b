//! What a run's JavaScript reads (the prelude's payload) and what a Code run returns.
//!
//! The caller fills a [`Payload`] with shared references to its items; it becomes a QuickJS
//! object through [`crate::convert`]. The input items are converted only when the code first
//! reads them (`$input.all()`, `items`, `$json`, ...), so code that never looks at its input
//! (a generator, an expression reading only `$now`) does not pay for it.

use crate::convert::{object_to_js, to_js, ConvertError, Reader};
use rquickjs::{Atom, Ctx, Exception, Function, Object};
use serde_json::{Map, Value as Json};
use sluice_model::ItemJson;
use std::rc::Rc;
use std::sync::Arc;

/// One item as code sees it: `{json, binary?}`, shared with the caller.
#[derive(Clone, Debug, Default)]
pub struct PayloadItem {
    pub json: Arc<ItemJson>,
    pub binary: Option<Arc<Map<String, Json>>>,
}

/// What `$('Node')` reads of a node the code names literally.
#[derive(Clone, Debug, Default)]
pub struct NodeData {
    pub executed: bool,
    /// The node's output items (`.all()`, `.first()`, `.last()`).
    pub all: Vec<PayloadItem>,
    /// For each input item, the node's item it is paired with, or why there is none.
    pub paired: Vec<Result<PayloadItem, String>>,
    pub params: Json,
    pub context: Option<Map<String, Json>>,
}

/// The variables of one run: `$input`, `$('Node')`, `$workflow`, ...
#[derive(Clone, Debug, Default)]
pub struct Payload {
    /// The input items the code sees, converted when first read.
    pub items: Vec<PayloadItem>,
    /// The input index of `items[0]` (an expression may get only its own item).
    pub item_offset: usize,
    /// The nodes the code names literally, by name.
    pub nodes: Vec<(String, NodeData)>,
    /// Everything else the prelude reads, by its name there: `workflow`, `execution`,
    /// `runIndex`, `prevNode`, `vars`, `now`, `tz`, `params`, `itemIsJson`.
    pub metadata: Map<String, Json>,
    /// `{global?, node?}`, what `$getWorkflowStaticData` returns; the Code node reads the changed
    /// objects back from [`CodeOutput::static_data`].
    pub static_data: Option<Map<String, Json>>,
}

impl Payload {
    /// The prelude's payload object. `inputItem(i)` converts input item `i` on demand.
    pub(crate) fn into_js<'js>(self, ctx: &Ctx<'js>) -> Result<Object<'js>, ConvertError> {
        let object = object_to_js(ctx, &self.metadata)?;
        let nodes = Object::new(ctx.clone())?;
        for (name, data) in &self.nodes {
            nodes.set(name.as_str(), node_to_js(ctx, data)?)?;
        }
        object.set("nodes", nodes)?;
        object.set("itemOffset", self.item_offset)?;
        if let Some(static_data) = &self.static_data {
            object.set("staticData", object_to_js(ctx, static_data)?)?;
        }
        object.set("itemCount", self.items.len())?;
        let items = Rc::new(self.items);
        let input_item = Function::new(ctx.clone(), move |ctx: Ctx<'js>, index: usize| {
            let item = items
                .get(index)
                .ok_or_else(|| Exception::throw_range(&ctx, &format!("no input item {index}")))?;
            item_to_js(&ctx, item).map_err(|e| match e {
                ConvertError::Js(e) => e,
                other => Exception::throw_message(&ctx, &other.to_string()),
            })
        })?;
        object.set("inputItem", input_item)?;
        Ok(object)
    }
}

fn item_to_js<'js>(ctx: &Ctx<'js>, item: &PayloadItem) -> Result<Object<'js>, ConvertError> {
    let object = Object::new(ctx.clone())?;
    object.set("json", object_to_js(ctx, &*item.json)?)?;
    if let Some(binary) = &item.binary {
        object.set("binary", object_to_js(ctx, &**binary)?)?;
    }
    Ok(object)
}

fn node_to_js<'js>(ctx: &Ctx<'js>, data: &NodeData) -> Result<Object<'js>, ConvertError> {
    let object = Object::new(ctx.clone())?;
    object.set("executed", data.executed)?;
    let all = rquickjs::Array::new(ctx.clone())?;
    for (i, item) in data.all.iter().enumerate() {
        all.set(i, item_to_js(ctx, item)?)?;
    }
    object.set("all", all)?;
    let paired = rquickjs::Array::new(ctx.clone())?;
    for (i, item) in data.paired.iter().enumerate() {
        let value = match item {
            Ok(item) => item_to_js(ctx, item)?,
            Err(error) => {
                let object = Object::new(ctx.clone())?;
                object.set("error", error.as_str())?;
                object
            }
        };
        paired.set(i, value)?;
    }
    object.set("paired", paired)?;
    object.set("params", to_js(ctx, &data.params)?)?;
    if let Some(context) = &data.context {
        object.set("context", object_to_js(ctx, context)?)?;
    }
    Ok(object)
}

/// One item a Code run returned, in n8n's `{json, binary?, pairedItem?}` shape. The JSON is
/// shared, as items hold it (an input item returned unchanged keeps its input's); the rare parts
/// are boxed: a run's items are all held at once before they become the node's output.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct OutputItem {
    pub json: Arc<ItemJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<Box<Map<String, Json>>>,
    /// As the code gave it (an index, `{item, input?}` or a list of them).
    #[serde(rename = "pairedItem", skip_serializing_if = "Option::is_none")]
    pub paired_item: Option<Box<Json>>,
}

/// What a Code run returned: its items and its logs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CodeOutput {
    pub items: Vec<OutputItem>,
    pub logs: Vec<String>,
    /// The payload's `staticData` (`{global?, node?}`) after the code ran, with the changes
    /// made through `$getWorkflowStaticData`; `None` when the payload carried none.
    pub static_data: Option<Map<String, Json>>,
}

/// Why an output could not be read: a conversion failure, or a shape the prelude should not
/// have let through.
pub(crate) enum OutputError {
    Convert(ConvertError),
    Shape(String),
}

impl From<ConvertError> for OutputError {
    fn from(e: ConvertError) -> Self {
        OutputError::Convert(e)
    }
}

impl From<rquickjs::Error> for OutputError {
    fn from(e: rquickjs::Error) -> Self {
        OutputError::Convert(e.into())
    }
}

impl CodeOutput {
    /// Read the prelude's `{items, logs, staticData}`. Only an item's `json`, `binary` and
    /// `pairedItem` are read; its other keys are ignored, as n8n does.
    pub(crate) fn from_js<'js>(result: Object<'js>) -> Result<CodeOutput, OutputError> {
        let ctx = result.ctx();
        let mut reader = Reader::new(ctx)?;
        let [json, binary, paired_item] =
            ["json", "binary", "pairedItem"].map(|key| Atom::from_str(ctx.clone(), key));
        let (json, binary, paired_item) = (json?, binary?, paired_item?);
        let returned: rquickjs::Array = result.get("items")?;
        let mut items = Vec::with_capacity(returned.len());
        for (index, item) in returned.iter::<Object>().enumerate() {
            let item = item?;
            let mut object_at = |key: &Atom<'js>| -> Result<_, OutputError> {
                match reader.read_value(item.get(key.clone())?)? {
                    None | Some(Json::Null) => Ok(None),
                    Some(Json::Object(map)) => Ok(Some(map)),
                    Some(_) => Err(OutputError::Shape(format!(
                        "item {index}: `{}` must be an object",
                        key.to_string()?
                    ))),
                }
            };
            let json = object_at(&json)?.unwrap_or_default();
            let binary = object_at(&binary)?.map(Box::new);
            let paired_item = match reader.read_value(item.get(paired_item.clone())?)? {
                None | Some(Json::Null) => None,
                Some(paired) => Some(Box::new(paired)),
            };
            items.push(OutputItem {
                json: Arc::new(json.into()),
                binary,
                paired_item,
            });
        }
        let logs: Vec<String> = result.get("logs")?;
        let static_data = match reader.read_value(result.get("staticData")?)? {
            Some(Json::Object(map)) => Some(map),
            _ => None,
        };
        Ok(CodeOutput {
            items,
            logs,
            static_data,
        })
    }
}
