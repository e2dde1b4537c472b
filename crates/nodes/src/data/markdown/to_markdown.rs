//! HTML to Markdown, shaped like node-html-markdown's output (which n8n uses): `#` headings,
//! `**strong**`, `_em_`, inline links, `*` bullets, fenced code, Markdown characters in text
//! escaped, whitespace collapsed, at most `maxConsecutiveNewlines` line breaks in a row.

use super::config::ToMarkdown;
use ego_tree::NodeRef;
use scraper::node::Node;
use scraper::Html;

pub fn convert(html: &str, options: &ToMarkdown) -> String {
    let document = Html::parse_document(html);
    let mut writer = Writer {
        options,
        out: String::new(),
        lists: Vec::new(),
        pre: 0,
    };
    writer.children(document.tree.root());
    let limit = "\n".repeat(options.max_newlines + 1);
    let mut out = writer.out;
    while out.contains(&limit) {
        out = out.replace(&limit, &limit[1..]);
    }
    out.trim_end().to_string()
}

struct Writer<'o> {
    options: &'o ToMarkdown,
    out: String,
    /// Open lists: `None` for bullets, `Some(n)` for the next number.
    lists: Vec<Option<usize>>,
    /// Depth of `<pre>` elements (whitespace kept, no escaping).
    pre: usize,
}

const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

impl Writer<'_> {
    fn ends_with_space(&self) -> bool {
        self.out.ends_with(char::is_whitespace)
    }

    /// End the current block: output ends with a blank line (unless nothing was written).
    fn block(&mut self) {
        let trimmed = self.out.trim_end_matches(' ');
        if !trimmed.is_empty() {
            self.out.truncate(trimmed.len());
        }
        if self.out.is_empty() {
            return;
        }
        while !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn line_break(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn text(&mut self, text: &str) {
        if self.pre > 0 {
            self.out.push_str(text);
            return;
        }
        let mut replaced = text.to_string();
        for (pattern, replacement) in &self.options.text_replace {
            replaced = pattern
                .replace_all(&replaced, replacement.as_str())
                .into_owned();
        }
        if replaced.starts_with(char::is_whitespace) && !self.ends_with_space() {
            self.out.push(' ');
        }
        let words: Vec<&str> = replaced.split_whitespace().collect();
        let line_start = self.out.is_empty() || self.out.ends_with('\n');
        let body = escape(&words.join(" "), line_start);
        self.out.push_str(&body);
        if !words.is_empty() && replaced.ends_with(char::is_whitespace) {
            self.out.push(' ');
        }
    }

    fn children(&mut self, node: NodeRef<'_, Node>) {
        for child in node.children() {
            self.node(child);
        }
    }

    /// The Markdown of `node`'s children on their own (for wrapping in delimiters).
    fn inline(&mut self, node: NodeRef<'_, Node>) -> String {
        let start = self.out.len();
        self.children(node);
        let inner = self.out.split_off(start);
        let trimmed = inner.trim();
        if inner.starts_with(' ') && !self.ends_with_space() {
            self.out.push(' ');
        }
        trimmed.to_string()
    }

    fn wrap(&mut self, node: NodeRef<'_, Node>, delimiter: &str) {
        let inner = self.inline(node);
        if !inner.is_empty() {
            self.out.push_str(&format!("{delimiter}{inner}{delimiter}"));
        }
    }

    fn node(&mut self, node: NodeRef<'_, Node>) {
        let element = match node.value() {
            Node::Text(text) => return self.text(text),
            Node::Element(element) => element,
            _ => return,
        };
        let name = element.name();
        if self.options.ignore.iter().any(|i| i == name) {
            return;
        }
        match name {
            "head" | "script" | "style" | "title" | "meta" | "link" | "noscript" | "template" => {}
            "br" => self.out.push_str("  \n"),
            "hr" => {
                self.block();
                self.out.push_str("---");
                self.block();
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.block();
                let level = usize::from(name.as_bytes()[1] - b'0');
                let inner = self.inline(node);
                self.out.push_str(&format!("{} {inner}", "#".repeat(level)));
                self.block();
            }
            "strong" | "b" => {
                let d = self.options.strong_delimiter.clone();
                self.wrap(node, &d);
            }
            "em" | "i" => {
                let d = self.options.em_delimiter.clone();
                self.wrap(node, &d);
            }
            "del" | "s" | "strike" => self.wrap(node, "~~"),
            "code" if self.pre == 0 => {
                let code: String = scraper::ElementRef::wrap(node)
                    .map(|e| e.text().collect())
                    .unwrap_or_default();
                let fence = if code.contains('`') { "``" } else { "`" };
                self.out.push_str(&format!("{fence}{code}{fence}"));
            }
            "pre" => {
                self.block();
                let code: String = scraper::ElementRef::wrap(node)
                    .map(|e| e.text().collect())
                    .unwrap_or_default();
                let code = code.trim_end_matches('\n');
                if self.options.fenced_code {
                    let fence = &self.options.code_fence;
                    self.out.push_str(&format!("{fence}\n{code}\n{fence}"));
                } else {
                    let indented: Vec<String> = code.lines().map(|l| format!("    {l}")).collect();
                    self.out.push_str(&indented.join("\n"));
                }
                self.block();
            }
            "a" => {
                let inner = self.inline(node);
                match element.attr("href").filter(|h| !h.is_empty()) {
                    Some(href) => {
                        let title = element
                            .attr("title")
                            .map(|t| format!(" \"{t}\""))
                            .unwrap_or_default();
                        self.out
                            .push_str(&format!("[{inner}]({}{title})", href.replace(' ', "%20")));
                    }
                    None => self.out.push_str(&inner),
                }
            }
            "img" => {
                let src = element.attr("src").unwrap_or_default();
                if src.is_empty() || (src.starts_with("data:") && !self.options.keep_data_images) {
                    return;
                }
                let alt = element.attr("alt").unwrap_or_default();
                let title = element
                    .attr("title")
                    .map(|t| format!(" \"{t}\""))
                    .unwrap_or_default();
                self.out.push_str(&format!("![{alt}]({src}{title})"));
            }
            "ul" | "ol" => {
                if self.lists.is_empty() {
                    self.block();
                } else {
                    self.line_break();
                }
                let start = element
                    .attr("start")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1);
                self.lists.push((name == "ol").then_some(start));
                self.children(node);
                self.lists.pop();
                if self.lists.is_empty() {
                    self.block();
                }
            }
            "li" => {
                self.line_break();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}.", *n - 1)
                    }
                    _ => self.options.bullet_marker.clone(),
                };
                self.out
                    .push_str(&format!("{}{marker} ", "  ".repeat(depth)));
                let inner = self.inline(node);
                self.out.push_str(&inner);
            }
            "blockquote" => {
                self.block();
                let inner = self.inline(node);
                let quoted: Vec<String> = inner
                    .lines()
                    .map(|l| format!("> {l}").trim_end().to_string())
                    .collect();
                self.out.push_str(&quoted.join("\n"));
                self.block();
            }
            _ if BLOCKS.contains(&name) => {
                self.block();
                self.children(node);
                self.block();
            }
            _ => self.children(node),
        }
    }
}

/// Escape Markdown syntax in text: `\ * _ ~ [ ] `` ` everywhere, and at a line start `#`
/// headings, `>` quotes, `-`/`+`/`=` markers and `1.` numbering.
fn escape(text: &str, line_start: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '[' | ']' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    if !line_start {
        return out;
    }
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && out[digits..].starts_with(". ") {
        return format!("{}\\{}", &out[..digits], &out[digits..]);
    }
    let heading = out.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&heading) && out[heading..].starts_with(' ')
        || out.starts_with(['>', '-', '='])
        || out.starts_with("+ ")
    {
        return format!("\\{out}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_syntax() {
        assert_eq!(escape("a*b_c [x]", false), "a\\*b\\_c \\[x\\]");
        assert_eq!(escape("# not a heading", true), "\\# not a heading");
        assert_eq!(escape("1. first", true), "1\\. first");
        assert_eq!(escape("- item", true), "\\- item");
    }
}
