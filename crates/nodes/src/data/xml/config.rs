//! The XML node's parameters, parsed once at build time. Option names and defaults follow the
//! xml2js parser and builder options n8n exposes.

use crate::data::params::{choice, flag};
use sluice_engine::{NodeError, Param};

/// How XML text becomes JSON (xml2js parser options).
#[derive(Clone, Debug)]
pub struct ParseOptions {
    pub attr_key: String,
    pub char_key: String,
    pub explicit_array: bool,
    pub explicit_charkey: bool,
    pub explicit_root: bool,
    pub ignore_attrs: bool,
    pub merge_attrs: bool,
    pub normalize: bool,
    pub normalize_tags: bool,
    pub trim: bool,
}

/// How JSON becomes XML text (xml2js builder options).
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub attr_key: String,
    pub char_key: String,
    pub headless: bool,
    /// `None` when the option was left at its default (`root`): a single top-level key then
    /// names the root element.
    pub root_name: Option<String>,
    pub allow_surrogate_chars: bool,
    pub cdata: bool,
}

pub enum Mode {
    ToJson(ParseOptions),
    ToXml(BuildOptions),
}

fn text(params: &Param, path: &str, default: &str) -> Result<String, NodeError> {
    choice(params, path, default, |s| Some(s.to_string()))
}

impl Mode {
    pub fn parse(params: &Param) -> Result<Mode, NodeError> {
        let to_xml = choice(params, "mode", "xmlToJson", |m| match m {
            "xmlToJson" => Some(false),
            "jsonToxml" => Some(true),
            _ => None,
        })?;
        let o = |name: &str| format!("options.{name}");
        Ok(if to_xml {
            let root = text(params, &o("rootName"), "root")?;
            Mode::ToXml(BuildOptions {
                attr_key: text(params, &o("attrkey"), "$")?,
                char_key: text(params, &o("charkey"), "_")?,
                headless: flag(params, &o("headless"), false)?,
                root_name: (root != "root").then_some(root),
                allow_surrogate_chars: flag(params, &o("allowSurrogateChars"), false)?,
                cdata: flag(params, &o("cdata"), false)?,
            })
        } else {
            Mode::ToJson(ParseOptions {
                attr_key: text(params, &o("attrkey"), "$")?,
                char_key: text(params, &o("charkey"), "_")?,
                explicit_array: flag(params, &o("explicitArray"), false)?,
                explicit_charkey: flag(params, &o("explicitCharkey"), false)?,
                explicit_root: flag(params, &o("explicitRoot"), true)?,
                ignore_attrs: flag(params, &o("ignoreAttrs"), false)?,
                merge_attrs: flag(params, &o("mergeAttrs"), true)?,
                normalize: flag(params, &o("normalize"), false)?,
                normalize_tags: flag(params, &o("normalizeTags"), false)?,
                trim: flag(params, &o("trim"), false)?,
            })
        })
    }
}
