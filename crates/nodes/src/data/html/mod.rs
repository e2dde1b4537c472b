//! HTML (`n8n-nodes-base.html`, v1-1.2): extract content from HTML with CSS selectors (text,
//! inner HTML, attributes or form values, from a JSON field or a binary file), render an HTML
//! template, or turn all items into one HTML table. The legacy HTML Extract
//! (`n8n-nodes-base.htmlExtract`, v1) is the extraction alone, with the same parameters.

mod config;
mod text;

use crate::util::binary;
use crate::util::html::escape;
use crate::util::values::as_text;
use config::{compile_selector, Extract, Extraction, Operation, ReturnValue, SelectorParam, Table};
use scraper::{ElementRef, Html, Selector};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, JsonObject, NodeDef, Value};
use std::borrow::Cow;
use std::collections::HashSet;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.html",
    versions: &[1.0, 1.1, 1.2],
    kind: NodeKind::Regular,
    factory: build,
};

/// The legacy HTML Extract: HTML v1's extraction, its binary property named `dataPropertyName`.
pub const EXTRACT_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.htmlExtract",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: |_, params| {
        Ok(Box::new(HtmlNode {
            operation: Operation::ExtractHtmlContent(Extract::parse(
                params,
                "dataPropertyName",
                false,
            )?),
        }))
    },
};

struct HtmlNode {
    operation: Operation,
}

fn build(node: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(HtmlNode {
        operation: Operation::parse(params, node.version())?,
    }))
}

#[async_trait::async_trait]
impl Node for HtmlNode {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = match &self.operation {
            Operation::GenerateHtmlTemplate => ctx.map_items(|i, _| {
                let mut json = JsonObject::new();
                let html = ctx.param_str("html", i)?.unwrap_or_default();
                json.insert("html".into(), Value::String(html));
                Ok(Some(Item::new(json).paired_to(i)))
            })?,
            Operation::ExtractHtmlContent(extract) => {
                ctx.map_items(|i, item| extract_item(ctx, extract, i, item).map(Some))?
            }
            Operation::ConvertToHtmlTable(table) => table_item(ctx, table)?.into_iter().collect(),
        };
        Ok(vec![items])
    }
}

/// Resolve a selector parameter for item `i`.
fn selector<'s>(
    ctx: &ExecuteContext<'_>,
    param: &'s SelectorParam,
    i: usize,
) -> Result<Option<Cow<'s, Selector>>, NodeError> {
    Ok(match param {
        SelectorParam::None => None,
        SelectorParam::Fixed(s) => Some(Cow::Borrowed(s)),
        SelectorParam::Dynamic(p) => {
            let css = as_text(&ctx.resolve(p, i)?);
            if css.trim().is_empty() {
                None
            } else {
                Some(Cow::Owned(compile_selector(&css, "cssSelector")?))
            }
        }
    })
}

fn source_html(
    ctx: &ExecuteContext<'_>,
    extract: &Extract,
    i: usize,
    item: &Item,
) -> Result<String, NodeError> {
    if extract.binary {
        let property = ctx
            .param_str(extract.binary_property, i)?
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "data".into());
        let bytes = binary::read(ctx, item, &property, extract.binary_property)?;
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    let field = ctx
        .param_str("dataPropertyName", i)?
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "data".into());
    match item.json.get(&field) {
        Some(Value::String(html)) => Ok(html.clone()),
        Some(other) if !other.is_null() => Ok(as_text(other)),
        _ => Err(
            NodeError::new(format!("No property named '{field}' exists!"))
                .with_parameter("dataPropertyName"),
        ),
    }
}

fn extract_item(
    ctx: &ExecuteContext<'_>,
    extract: &Extract,
    i: usize,
    item: &Item,
) -> Result<Item, NodeError> {
    let document = Html::parse_document(&source_html(ctx, extract, i, item)?);
    let mut json = JsonObject::new();
    for extraction in &extract.extractions {
        let key = as_text(&ctx.resolve(&extraction.key, i)?);
        let Some(css) = selector(ctx, &extraction.selector, i)? else {
            continue;
        };
        let skip: HashSet<_> = match selector(ctx, &extraction.skip, i)? {
            Some(s) => document.select(&s).map(|e| e.id()).collect(),
            None => HashSet::new(),
        };
        let attribute = as_text(&ctx.resolve(&extraction.attribute, i)?);
        let value_of = |element: ElementRef<'_>| {
            element_value(element, extraction, extract, &attribute, &skip)
        };
        let mut matches = document.select(&css);
        let value = if extraction.return_array {
            Some(Value::Array(matches.filter_map(value_of).collect()))
        } else if extraction.return_value == ReturnValue::Text && !extract.readable_text {
            // Older versions: the text of every match, joined (cheerio's `.text()`).
            let text: String = matches.map(|e| e.text().collect::<String>()).collect();
            Some(Value::String(finish_text(text, extract)))
        } else {
            match matches.next() {
                Some(element) => value_of(element),
                None if extraction.return_value == ReturnValue::Text => {
                    Some(Value::String(String::new()))
                }
                None => None,
            }
        };
        if let Some(value) = value {
            json.insert(key, value);
        }
    }
    Ok(Item::new(json).paired_to(i))
}

fn finish_text(mut text: String, extract: &Extract) -> String {
    if extract.trim_values {
        text = text.trim().to_string();
    }
    if extract.clean_up_text {
        let joined: String = text.trim().split(['\r', '\n']).collect();
        text = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    text
}

/// What one matched element yields; `None` when it has no such attribute or value.
fn element_value(
    element: ElementRef<'_>,
    extraction: &Extraction,
    extract: &Extract,
    attribute: &str,
    skip: &HashSet<ego_tree::NodeId>,
) -> Option<Value> {
    let trim = |s: String| {
        if extract.trim_values {
            s.trim().to_string()
        } else {
            s
        }
    };
    Some(match extraction.return_value {
        ReturnValue::Text => {
            let text = if extract.readable_text {
                text::to_text(element, skip)
            } else {
                element.text().collect()
            };
            Value::String(finish_text(text, extract))
        }
        ReturnValue::Html => Value::String(trim(element.inner_html())),
        ReturnValue::Attribute if attribute.is_empty() => Value::Object(
            element
                .value()
                .attrs()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        ),
        ReturnValue::Attribute => Value::String(trim(element.value().attr(attribute)?.to_string())),
        ReturnValue::Value => Value::String(trim(form_value(element)?)),
    })
}

/// A form control's value, like jQuery's `.val()`.
fn form_value(element: ElementRef<'_>) -> Option<String> {
    match element.value().name() {
        "textarea" => Some(element.text().collect()),
        "select" => {
            let options = Selector::parse("option").ok()?;
            let mut all = element.select(&options);
            let chosen = element
                .select(&options)
                .find(|o| o.value().attr("selected").is_some())
                .or_else(|| all.next())?;
            Some(
                chosen
                    .value()
                    .attr("value")
                    .map(str::to_string)
                    .unwrap_or_else(|| chosen.text().collect()),
            )
        }
        _ => element.value().attr("value").map(str::to_string),
    }
}

fn attributes(ctx: &ExecuteContext<'_>, path: &str) -> Result<String, NodeError> {
    Ok(ctx
        .param_str(path, 0)?
        .filter(|a| !a.trim().is_empty())
        .map(|a| format!(" {}", a.trim()))
        .unwrap_or_default())
}

/// All items as one table: a header row of the first item's keys, one row per item.
fn table_item(ctx: &ExecuteContext<'_>, table: &Table) -> Result<Option<Item>, NodeError> {
    let items = ctx.main_input();
    let Some(first) = items.first() else {
        return Ok(None);
    };
    let cell = attributes(ctx, "options.cellAttributes")?;
    let mut html = format!("<table{}>", attributes(ctx, "options.tableAttributes")?);
    if let Some(caption) = ctx
        .param_str("options.caption", 0)?
        .filter(|c| !c.is_empty())
    {
        html.push_str(&format!("<caption>{}</caption>", escape(&caption)));
    }
    html.push_str(&format!(
        "<thead><tr{}>",
        attributes(ctx, "options.headerAttributes")?
    ));
    for key in first.json.keys() {
        let label = if table.capitalize {
            let mut chars = key.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        } else {
            key.clone()
        };
        html.push_str(&format!("<th>{}</th>", escape(&label)));
    }
    html.push_str("</tr></thead><tbody>");
    let row = attributes(ctx, "options.rowAttributes")?;
    for item in items {
        html.push_str(&format!("<tr{row}>"));
        for key in first.json.keys() {
            let value = item.json.get(key).map(|v| match v {
                Value::Object(_) | Value::Array(_) => v.to_string(),
                other => as_text(other),
            });
            html.push_str(&format!(
                "<td{cell}>{}</td>",
                escape(&value.unwrap_or_default())
            ));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    let mut json = JsonObject::new();
    json.insert("table".into(), Value::String(html));
    let mut out = Item::new(json);
    out.paired_item = (0..items.len())
        .map(sluice_model::PairedItem::new)
        .collect();
    Ok(Some(out))
}
