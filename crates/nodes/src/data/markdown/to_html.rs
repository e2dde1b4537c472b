//! Markdown to HTML, shaped like showdown's output: CommonMark parsing (pulldown-cmark) plus
//! showdown's header ids (`exampledomain`), its `...` to `…` ellipsis, and its document wrapper.

use super::config::ToHtml;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub fn convert(markdown: &str, options: &ToHtml) -> String {
    let mut flags = Options::empty();
    flags.set(Options::ENABLE_TABLES, options.tables);
    flags.set(Options::ENABLE_STRIKETHROUGH, options.strikethrough);
    flags.set(Options::ENABLE_TASKLISTS, options.tasklists);
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, flags).collect();
    let mut out_events = Vec::with_capacity(events.len());
    let mut in_code = false;
    let mut i = 0;
    while i < events.len() {
        let event = events[i].clone();
        i += 1;
        match event {
            Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) => {
                let end = events[i..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let title: String = events[i..end]
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let level = shift(level, options.header_level_start);
                let id = options
                    .header_ids
                    .then(|| CowStr::from(header_id(&title, options)));
                out_events.push(Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                }));
                for inner in &events[i..end] {
                    out_events.push(ellipsis(inner.clone()));
                }
                out_events.push(Event::End(TagEnd::Heading(level)));
                i = end + 1;
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                out_events.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                out_events.push(event);
            }
            Event::SoftBreak if options.simple_line_breaks => out_events.push(Event::HardBreak),
            Event::Start(Tag::Link {
                dest_url, title, ..
            }) if options.links_in_new_window => {
                let title = if title.is_empty() {
                    String::new()
                } else {
                    format!(" title=\"{}\"", escape(&title))
                };
                out_events.push(Event::InlineHtml(CowStr::from(format!(
                    "<a href=\"{}\"{title} rel=\"noopener noreferrer\" target=\"_blank\">",
                    escape(&dest_url)
                ))));
            }
            Event::End(TagEnd::Link) if options.links_in_new_window => {
                out_events.push(Event::InlineHtml(CowStr::from("</a>")));
            }
            other if !in_code => out_events.push(ellipsis(other)),
            other => out_events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, out_events.into_iter());
    let body = html.trim_end();
    if options.complete_document {
        format!("<!DOCTYPE HTML>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n{body}\n</body>\n</html>")
    } else {
        body.to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn shift(level: HeadingLevel, start: u8) -> HeadingLevel {
    let n = (level as u8 + start.saturating_sub(1)).min(6);
    HeadingLevel::try_from(n as usize).unwrap_or(HeadingLevel::H6)
}

/// showdown's `...` to `…` in running text.
fn ellipsis(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Text(text) if text.contains("...") => {
            Event::Text(CowStr::from(text.replace("...", "…")))
        }
        other => other,
    }
}

/// showdown's header id: word characters only, lower case (`Example Domain` -> `exampledomain`);
/// GitHub style keeps words apart with dashes (`example-domain`).
fn header_id(title: &str, options: &ToHtml) -> String {
    let id: String = if options.gh_header_ids {
        title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    } else {
        title
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_lowercase()
    };
    if options.header_id_prefix.is_empty() {
        id
    } else {
        format!("{}{id}", options.header_id_prefix)
    }
}
