//! The XML node's parameters, parsed once at build time. Option names and defaults follow the
//! xml2js parser and builder options n8n exposes.

use crate::util::params::Reader;
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

impl ParseOptions {
    /// xml2js's own defaults (not the XML node's, which merges attributes and keeps single
    /// children unwrapped).
    pub fn xml2js_defaults() -> ParseOptions {
        ParseOptions {
            attr_key: "$".into(),
            char_key: "_".into(),
            explicit_array: true,
            explicit_charkey: false,
            explicit_root: true,
            ignore_attrs: false,
            merge_attrs: false,
            normalize: false,
            normalize_tags: false,
            trim: false,
        }
    }
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

impl BuildOptions {
    /// Markup without an XML declaration, under a `root` element.
    pub fn headless_root(root: &str) -> BuildOptions {
        BuildOptions {
            attr_key: "$".into(),
            char_key: "_".into(),
            headless: true,
            root_name: Some(root.into()),
            allow_surrogate_chars: false,
            cdata: false,
        }
    }
}

pub enum Mode {
    ToJson(ParseOptions),
    ToXml(BuildOptions),
}

impl Mode {
    pub fn parse(params: &Param) -> Result<Mode, NodeError> {
        let r = Reader::fixed(params);
        let to_xml = r.choice("mode", "xmlToJson", |m| match m {
            "xmlToJson" => Some(false),
            "jsonToxml" => Some(true),
            _ => None,
        })?;
        let o = |name: &str| format!("options.{name}");
        Ok(if to_xml {
            let root = r.str_or(&o("rootName"), "root")?.to_string();
            Mode::ToXml(BuildOptions {
                attr_key: r.str_or(&o("attrkey"), "$")?.to_string(),
                char_key: r.str_or(&o("charkey"), "_")?.to_string(),
                headless: r.bool_or(&o("headless"), false)?,
                root_name: (root != "root").then_some(root),
                allow_surrogate_chars: r.bool_or(&o("allowSurrogateChars"), false)?,
                cdata: r.bool_or(&o("cdata"), false)?,
            })
        } else {
            Mode::ToJson(ParseOptions {
                attr_key: r.str_or(&o("attrkey"), "$")?.to_string(),
                char_key: r.str_or(&o("charkey"), "_")?.to_string(),
                explicit_array: r.bool_or(&o("explicitArray"), false)?,
                explicit_charkey: r.bool_or(&o("explicitCharkey"), false)?,
                explicit_root: r.bool_or(&o("explicitRoot"), true)?,
                ignore_attrs: r.bool_or(&o("ignoreAttrs"), false)?,
                merge_attrs: r.bool_or(&o("mergeAttrs"), true)?,
                normalize: r.bool_or(&o("normalize"), false)?,
                normalize_tags: r.bool_or(&o("normalizeTags"), false)?,
                trim: r.bool_or(&o("trim"), false)?,
            })
        })
    }
}
