//! The Markdown node's parameters, parsed once at build time. Option names follow the libraries
//! n8n configures: showdown (Markdown to HTML) and node-html-markdown (HTML to Markdown).

use crate::data::params::{as_bool, as_number, choice, flag};
use regex::Regex;
use sluice_engine::{NodeError, Param};
use sluice_model::Value;

/// Markdown to HTML (showdown options).
pub struct ToHtml {
    pub complete_document: bool,
    pub header_ids: bool,
    /// Prepended to header ids (`prefixHeaderId`).
    pub header_id_prefix: String,
    /// GitHub-style ids (`my-title`) instead of showdown's (`mytitle`).
    pub gh_header_ids: bool,
    pub header_level_start: u8,
    pub tables: bool,
    pub strikethrough: bool,
    pub tasklists: bool,
    pub simple_line_breaks: bool,
    pub links_in_new_window: bool,
}

/// HTML to Markdown (node-html-markdown options).
pub struct ToMarkdown {
    pub bullet_marker: String,
    pub em_delimiter: String,
    pub strong_delimiter: String,
    pub code_fence: String,
    pub fenced_code: bool,
    pub max_newlines: usize,
    pub keep_data_images: bool,
    /// Element names left out entirely.
    pub ignore: Vec<String>,
    pub text_replace: Vec<(Regex, String)>,
}

pub enum Mode {
    ToHtml(ToHtml),
    ToMarkdown(ToMarkdown),
}

fn text(params: &Param, path: &str, default: &str) -> Result<String, NodeError> {
    choice(params, path, default, |s| Some(s.to_string()))
}

fn number(params: &Param, path: &str, default: f64) -> Result<f64, NodeError> {
    match params.path(path).and_then(Param::literal) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => as_number(v).ok_or_else(|| {
            NodeError::new(format!("'{path}' must be a number")).with_parameter(path)
        }),
    }
}

impl Mode {
    pub fn parse(params: &Param) -> Result<Mode, NodeError> {
        let to_html = choice(params, "mode", "htmlToMarkdown", |m| match m {
            "htmlToMarkdown" => Some(false),
            "markdownToHtml" => Some(true),
            _ => None,
        })?;
        let o = |name: &str| format!("options.{name}");
        Ok(if to_html {
            // `prefixHeaderId` is either a prefix or `true` (meaning "section").
            let prefix = match params.path(&o("prefixHeaderId")).and_then(Param::literal) {
                Some(Value::String(p)) => p.clone(),
                Some(v) if as_bool(v) == Some(true) => "section".into(),
                _ => String::new(),
            };
            Mode::ToHtml(ToHtml {
                complete_document: flag(params, &o("completeHTMLDocument"), false)?,
                header_ids: !flag(params, &o("noHeaderId"), false)?,
                header_id_prefix: prefix,
                gh_header_ids: flag(params, &o("ghCompatibleHeaderId"), false)?,
                header_level_start: number(params, &o("headerLevelStart"), 1.0)?.clamp(1.0, 6.0)
                    as u8,
                tables: flag(params, &o("tables"), true)?,
                strikethrough: flag(params, &o("strikethrough"), true)?,
                tasklists: flag(params, &o("tasklists"), true)?,
                simple_line_breaks: flag(params, &o("simpleLineBreaks"), false)?,
                links_in_new_window: flag(params, &o("openLinksInNewWindow"), false)?,
            })
        } else {
            Mode::ToMarkdown(ToMarkdown {
                bullet_marker: text(params, &o("bulletMarker"), "*")?,
                em_delimiter: text(params, &o("emDelimiter"), "_")?,
                strong_delimiter: text(params, &o("strongDelimiter"), "**")?,
                code_fence: text(params, &o("codeFence"), "```")?,
                fenced_code: text(params, &o("codeBlockStyle"), "fenced")? == "fenced",
                max_newlines: number(params, &o("maxConsecutiveNewlines"), 3.0)?.max(1.0) as usize,
                keep_data_images: flag(params, &o("keepDataImages"), false)?,
                // n8n hands this option to node-html-markdown as a string, which the library
                // walks character by character: only one-letter element names (p, a, b, i ...)
                // ever match. The fixtures pin that behaviour (`ignore: "h1"` ignores nothing).
                ignore: text(params, &o("ignore"), "")?
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase().to_string())
                    .collect(),
                text_replace: text_replace(params)?,
            })
        })
    }
}

fn text_replace(params: &Param) -> Result<Vec<(Regex, String)>, NodeError> {
    params
        .at("options.textReplace.values")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let path = format!("options.textReplace.values[{i}].pattern");
            let pattern = entry.at("pattern").literal_str().unwrap_or_default();
            let regex = Regex::new(pattern).map_err(|e| {
                NodeError::new(format!("invalid pattern '{pattern}': {e}")).with_parameter(&path)
            })?;
            let replacement = entry.at("replacement").literal_str().unwrap_or_default();
            Ok((regex, replacement.replace("$&", "${0}")))
        })
        .collect()
}
