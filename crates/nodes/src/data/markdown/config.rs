//! The Markdown node's parameters, parsed once at build time. Option names follow the libraries
//! n8n configures: showdown (Markdown to HTML) and node-html-markdown (HTML to Markdown).

use crate::util::params::{as_bool, Reader};
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

impl Mode {
    pub fn parse(params: &Param) -> Result<Mode, NodeError> {
        let r = Reader::fixed(params);
        let to_html = r.choice("mode", "htmlToMarkdown", |m| match m {
            "htmlToMarkdown" => Some(false),
            "markdownToHtml" => Some(true),
            _ => None,
        })?;
        let o = |name: &str| format!("options.{name}");
        Ok(if to_html {
            // `prefixHeaderId` is either a prefix or `true` (meaning "section").
            let prefix = match r.get(&o("prefixHeaderId"))? {
                Some(Value::String(p)) => p.clone(),
                Some(v) if as_bool(v) == Some(true) => "section".into(),
                _ => String::new(),
            };
            Mode::ToHtml(ToHtml {
                complete_document: r.bool_or(&o("completeHTMLDocument"), false)?,
                header_ids: !r.bool_or(&o("noHeaderId"), false)?,
                header_id_prefix: prefix,
                gh_header_ids: r.bool_or(&o("ghCompatibleHeaderId"), false)?,
                header_level_start: r.number_or(&o("headerLevelStart"), 1.0)?.clamp(1.0, 6.0) as u8,
                tables: r.bool_or(&o("tables"), true)?,
                strikethrough: r.bool_or(&o("strikethrough"), true)?,
                tasklists: r.bool_or(&o("tasklists"), true)?,
                simple_line_breaks: r.bool_or(&o("simpleLineBreaks"), false)?,
                links_in_new_window: r.bool_or(&o("openLinksInNewWindow"), false)?,
            })
        } else {
            Mode::ToMarkdown(ToMarkdown {
                bullet_marker: r.str_or(&o("bulletMarker"), "*")?.to_string(),
                em_delimiter: r.str_or(&o("emDelimiter"), "_")?.to_string(),
                strong_delimiter: r.str_or(&o("strongDelimiter"), "**")?.to_string(),
                code_fence: r.str_or(&o("codeFence"), "```")?.to_string(),
                fenced_code: r.str_or(&o("codeBlockStyle"), "fenced")? == "fenced",
                max_newlines: r.number_or(&o("maxConsecutiveNewlines"), 3.0)?.max(1.0) as usize,
                keep_data_images: r.bool_or(&o("keepDataImages"), false)?,
                // n8n hands this option to node-html-markdown as a string, which the library
                // walks character by character: only one-letter element names (p, a, b, i ...)
                // ever match. The fixtures pin that behaviour (`ignore: "h1"` ignores nothing).
                ignore: r
                    .str_or(&o("ignore"), "")?
                    .to_string()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase().to_string())
                    .collect(),
                text_replace: text_replace(&r)?,
            })
        })
    }
}

fn text_replace(r: &Reader<'_>) -> Result<Vec<(Regex, String)>, NodeError> {
    r.list("options.textReplace.values")?
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let path = format!("options.textReplace.values[{i}].pattern");
            let entry = Reader::new(entry);
            let pattern = entry.str_or("pattern", "")?;
            let regex = Regex::new(pattern).map_err(|e| {
                NodeError::new(format!("invalid pattern '{pattern}': {e}")).with_parameter(&path)
            })?;
            let replacement = entry.str_or("replacement", "")?;
            Ok((regex, replacement.replace("$&", "${0}")))
        })
        .collect()
}
