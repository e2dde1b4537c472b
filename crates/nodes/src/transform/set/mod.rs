//! Edit Fields (Set), `n8n-nodes-base.set` v1–v3.4: adds, overwrites or removes item fields.
//! Each output item starts from the input fields the node keeps (all, none, selected, all
//! except) and gets the configured fields written into it, through dot notation by default.
//! v3+ converts every value to its declared type with n8n's rules and error messages.

mod config;

use crate::util::fields::split_field_list;
use crate::util::path::{self, FieldPath};
use sluice_expr::json_js;

use config::{Base, Content, Field, FieldList, FieldName, SetConfig};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, Value};
use std::borrow::Cow;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.set",
    versions: &[1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4],
    kind: NodeKind::Regular,
    factory: build,
};

struct Set {
    config: SetConfig,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Set {
        config: SetConfig::parse(def.version(), params)?,
    }))
}

#[async_trait::async_trait]
impl Node for Set {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, item| self.edit(ctx, i, item).map(Some))?;
        // Duplicating items is a testing aid n8n applies to manual runs only.
        if self.config.duplicates == 0 || ctx.mode() != "manual" {
            return Ok(vec![items]);
        }
        let copies = self.config.duplicates + 1;
        Ok(vec![items
            .into_iter()
            .flat_map(|item| std::iter::repeat_n(item, copies))
            .collect()])
    }
}

impl Set {
    fn edit(&self, ctx: &ExecuteContext<'_>, i: usize, item: &Item) -> Result<Item, NodeError> {
        let config = &self.config;
        let mut json = self.base(ctx, i, &item.json)?;
        match &config.content {
            Content::Fields(fields) => {
                for field in fields {
                    let resolved_name;
                    let name = match &field.name {
                        FieldName::Fixed(path) => path,
                        FieldName::PerItem(param) => {
                            let name = json_js::to_js_string(&ctx.resolve(param, i)?);
                            resolved_name = FieldPath::new(&name, config.dot_notation);
                            &resolved_name
                        }
                    };
                    let value = match &field.converted_value {
                        Some(value) => value.clone(),
                        None => self.convert(field, name, ctx.resolve(&field.value, i)?, i)?,
                    };
                    name.write(&mut json, value);
                }
            }
            Content::Json(param) => {
                for (key, value) in json_output(ctx.resolve(param, i)?, i)? {
                    path::write(&mut json, &key, value, config.dot_notation);
                }
            }
        }
        let mut out = Item::new(json).paired_to(i);
        if config.keep_binary {
            out.binary = item.binary.clone();
        }
        Ok(out)
    }

    /// The input fields the output item starts from.
    fn base(
        &self,
        ctx: &ExecuteContext<'_>,
        i: usize,
        input: &ItemJson,
    ) -> Result<ItemJson, NodeError> {
        // Room for the fields the node adds: an object grown by one insert would double its room.
        let added = match &self.config.content {
            Content::Fields(fields) => fields.len(),
            Content::Json(_) => 0,
        };
        let copy = || input.clone_with_room(added);
        Ok(match &self.config.base {
            Base::Nothing => ItemJson::with_capacity(added),
            Base::Everything => copy(),
            Base::Selected(fields) => {
                let mut json = ItemJson::new();
                for name in self.field_list(ctx, i, fields)?.iter() {
                    if let Some(value) = name.read(input) {
                        name.write(&mut json, value.clone());
                    }
                }
                json
            }
            Base::Except(fields) => {
                let mut json = copy();
                for name in self.field_list(ctx, i, fields)?.iter() {
                    name.unset(&mut json);
                }
                json
            }
        })
    }

    /// The names of a field list, for item `i`.
    fn field_list<'a>(
        &self,
        ctx: &ExecuteContext<'_>,
        i: usize,
        fields: &'a FieldList,
    ) -> Result<Cow<'a, [FieldPath]>, NodeError> {
        Ok(match fields {
            FieldList::Fixed(names) => Cow::Borrowed(names),
            FieldList::PerItem(param) => Cow::Owned(
                split_field_list(&ctx.resolve(param, i)?)
                    .iter()
                    .map(|name| FieldPath::new(name, self.config.dot_notation))
                    .collect(),
            ),
        })
    }

    fn convert(
        &self,
        field: &Field,
        name: &FieldPath,
        value: Value,
        i: usize,
    ) -> Result<Value, NodeError> {
        field
            .kind
            .convert(value, self.config.ignore_conversion_errors)
            .map_err(|e| {
                NodeError::new(format!(
                    "'{}' expects a {} but we got '{}' [item {i}]",
                    name.name(),
                    e.expected.name(),
                    json_js::to_js_string(&e.original)
                ))
                .with_parameter(field.value_path.clone())
                .with_item(i)
            })
    }
}

/// Raw mode's `jsonOutput`: a JSON object, given as text or as an expression's object.
fn json_output(value: Value, i: usize) -> Result<JsonObject, NodeError> {
    let parsed = match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            NodeError::new(format!(
                "The 'JSON Output' in item {i} contains invalid JSON: {e}"
            ))
            .with_parameter("jsonOutput")
            .with_item(i)
        })?,
        other => other,
    };
    match parsed {
        Value::Object(map) => Ok(map),
        _ => Err(NodeError::new(format!(
            "The 'JSON Output' in item {i} is not a JSON object"
        ))
        .with_parameter("jsonOutput")
        .with_item(i)),
    }
}
