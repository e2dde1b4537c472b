//! The HTML node's parameters, parsed once at build time.

use crate::util::params::Reader;
use scraper::Selector;
use sluice_engine::{NodeError, Param};

/// What to take from each matched element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnValue {
    Text,
    Html,
    Attribute,
    Value,
}

/// One `extractionValues.values` entry. The selector is compiled here when it is literal.
pub struct Extraction {
    pub key: Param,
    pub selector: SelectorParam,
    pub return_value: ReturnValue,
    pub attribute: Param,
    pub return_array: bool,
    /// Elements left out of text (v1.2 `skipSelectors`).
    pub skip: SelectorParam,
}

/// A CSS selector parameter: compiled once when literal, per item when an expression.
pub enum SelectorParam {
    None,
    Fixed(Box<Selector>),
    Dynamic(Param),
}

impl SelectorParam {
    fn new(param: &Param, path: &str) -> Result<SelectorParam, NodeError> {
        match param.literal() {
            Some(v) if v.is_null() || v.as_str() == Some("") => Ok(SelectorParam::None),
            Some(v) => Ok(SelectorParam::Fixed(Box::new(compile_selector(
                v.as_str().unwrap_or_default(),
                path,
            )?))),
            None => Ok(SelectorParam::Dynamic(param.clone())),
        }
    }
}

pub fn compile_selector(css: &str, path: &str) -> Result<Selector, NodeError> {
    Selector::parse(css).map_err(|e| {
        NodeError::new(format!("invalid CSS selector '{css}': {e}")).with_parameter(path)
    })
}

pub struct Extract {
    /// Read the HTML from a binary property instead of a JSON field.
    pub binary: bool,
    /// The parameter naming that binary property: `binaryPropertyName` (HTML), or
    /// `dataPropertyName` (the legacy HTML Extract names the field and the property alike).
    pub binary_property: &'static str,
    pub extractions: Vec<Extraction>,
    pub trim_values: bool,
    pub clean_up_text: bool,
    /// v1.2 renders text like a browser would show it; older versions use raw text content.
    pub readable_text: bool,
}

pub struct Table {
    pub capitalize: bool,
}

pub enum Operation {
    GenerateHtmlTemplate,
    ExtractHtmlContent(Extract),
    ConvertToHtmlTable(Table),
}

impl Operation {
    pub fn parse(params: &Param, version: f64) -> Result<Operation, NodeError> {
        let r = Reader::fixed(params);
        let op = r.choice("operation", "generateHtmlTemplate", |o| {
            matches!(
                o,
                "generateHtmlTemplate" | "extractHtmlContent" | "convertToHtmlTable"
            )
            .then(|| o.to_string())
        })?;
        Ok(match op.as_str() {
            "generateHtmlTemplate" => Operation::GenerateHtmlTemplate,
            "convertToHtmlTable" => Operation::ConvertToHtmlTable(Table {
                capitalize: r.bool_or("options.capitalize", false)?,
            }),
            _ => Operation::ExtractHtmlContent(Extract::parse(
                params,
                "binaryPropertyName",
                version >= 1.2,
            )?),
        })
    }
}

impl Extract {
    /// The extraction parameters the HTML node (extractHtmlContent) and the legacy HTML Extract
    /// share.
    pub fn parse(
        params: &Param,
        binary_property: &'static str,
        readable_text: bool,
    ) -> Result<Extract, NodeError> {
        let r = Reader::fixed(params);
        Ok(Extract {
            binary: r.choice("sourceData", "json", |s| match s {
                "json" => Some(false),
                "binary" => Some(true),
                _ => None,
            })?,
            binary_property,
            extractions: params
                .at("extractionValues.values")
                .elements()
                .iter()
                .enumerate()
                .map(|(i, entry)| extraction(entry, i))
                .collect::<Result<_, _>>()?,
            trim_values: r.bool_or("options.trimValues", false)?,
            clean_up_text: r.bool_or("options.cleanUpText", false)?,
            readable_text,
        })
    }
}

fn extraction(entry: &Param, i: usize) -> Result<Extraction, NodeError> {
    let path = |name: &str| format!("extractionValues.values[{i}].{name}");
    Ok(Extraction {
        key: entry.at("key").clone(),
        selector: SelectorParam::new(entry.at("cssSelector"), &path("cssSelector"))?,
        return_value: Reader::fixed(entry)
            .choice("returnValue", "text", |r| {
                Some(match r {
                    "text" => ReturnValue::Text,
                    "html" => ReturnValue::Html,
                    "attribute" => ReturnValue::Attribute,
                    "value" => ReturnValue::Value,
                    _ => return None,
                })
            })
            .map_err(|e| e.with_parameter(path("returnValue")))?,
        attribute: entry.at("attribute").clone(),
        return_array: Reader::fixed(entry).bool_or("returnArray", false)?,
        skip: SelectorParam::new(entry.at("skipSelectors"), &path("skipSelectors"))?,
    })
}
