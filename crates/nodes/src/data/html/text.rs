//! HTML to readable plain text, the way the `html-to-text` library renders it for n8n's HTML
//! node: block elements separated by blank lines, headings in capitals, whitespace collapsed,
//! links as `text [href]` and images as `alt [src]`. Elements in `skip` are left out.

use ego_tree::NodeRef;
use scraper::node::Node;
use scraper::ElementRef;
use std::collections::HashSet;

/// Convert `root` (its descendants, and itself when it is a block) to text.
pub fn to_text(root: ElementRef<'_>, skip: &HashSet<ego_tree::NodeId>) -> String {
    let mut writer = Writer {
        out: String::new(),
        pending_breaks: 0,
        pending_space: false,
        uppercase: 0,
        skip,
        lists: Vec::new(),
    };
    // Like html-to-text, convert only the body when the fragment has one.
    let body = root
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "body");
    writer.node(*body.unwrap_or(root));
    writer.out.trim_end().to_string()
}

struct Writer<'s> {
    out: String,
    pending_breaks: usize,
    pending_space: bool,
    uppercase: usize,
    skip: &'s HashSet<ego_tree::NodeId>,
    /// Item counters of the open lists (`None` for unordered).
    lists: Vec<Option<usize>>,
}

/// Line breaks an element asks for before and after itself; `None` for inline elements.
fn block_breaks(name: &str) -> Option<usize> {
    Some(match name {
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table" | "blockquote"
        | "pre" | "hr" => 2,
        "div" | "section" | "article" | "header" | "footer" | "main" | "nav" | "aside" | "form"
        | "figure" | "figcaption" | "address" | "fieldset" | "li" | "tr" | "dl" | "dt" | "dd"
        | "body" | "html" => 1,
        _ => return None,
    })
}

impl Writer<'_> {
    fn block(&mut self, breaks: usize) {
        self.pending_breaks = self.pending_breaks.max(breaks);
        self.pending_space = false;
    }

    /// Write a word (no whitespace inside), flushing pending breaks or a pending space first.
    fn word(&mut self, word: &str) {
        if !self.out.is_empty() {
            if self.pending_breaks > 0 {
                let trimmed = self.out.trim_end_matches(' ').len();
                self.out.truncate(trimmed);
                let have = self.out.len() - self.out.trim_end_matches('\n').len();
                self.out
                    .push_str(&"\n".repeat(self.pending_breaks.saturating_sub(have)));
            } else if self.pending_space && !self.out.ends_with(['\n', ' ']) {
                self.out.push(' ');
            }
        }
        self.pending_breaks = 0;
        self.pending_space = false;
        if self.uppercase > 0 {
            self.out.push_str(&word.to_uppercase());
        } else {
            self.out.push_str(word);
        }
    }

    fn text(&mut self, text: &str) {
        if text.starts_with(char::is_whitespace) {
            self.pending_space = true;
        }
        let mut words = text.split_whitespace().peekable();
        while let Some(word) = words.next() {
            self.word(word);
            if words.peek().is_some() {
                self.pending_space = true;
            }
        }
        if text.ends_with(char::is_whitespace) && !text.trim().is_empty() {
            self.pending_space = true;
        }
    }

    fn children(&mut self, node: NodeRef<'_, Node>) {
        for child in node.children() {
            self.node(child);
        }
    }

    fn node(&mut self, node: NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(text) => self.text(text),
            Node::Element(element) => {
                if self.skip.contains(&node.id()) {
                    return;
                }
                let name = element.name();
                match name {
                    "head" | "script" | "style" | "title" | "noscript" | "template" => {}
                    "br" => {
                        self.out.push('\n');
                        self.pending_space = false;
                    }
                    "a" => {
                        self.children(node);
                        match element.attr("href") {
                            Some(href) if !href.is_empty() && !href.starts_with('#') => {
                                self.pending_space = true;
                                self.word(&format!("[{href}]"));
                            }
                            _ => {}
                        }
                    }
                    "img" => {
                        let alt = element.attr("alt").unwrap_or_default();
                        self.text(alt);
                        if let Some(src) = element.attr("src").filter(|s| !s.is_empty()) {
                            self.pending_space = !alt.is_empty() || self.pending_space;
                            self.word(&format!("[{src}]"));
                        }
                    }
                    _ => {
                        let breaks = block_breaks(name);
                        if let Some(n) = breaks {
                            self.block(n);
                        }
                        let heading = matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
                        self.uppercase += usize::from(heading);
                        match name {
                            "ul" => self.lists.push(None),
                            "ol" => self.lists.push(Some(0)),
                            "li" => {
                                let prefix = match self.lists.last_mut() {
                                    Some(Some(n)) => {
                                        *n += 1;
                                        Some(format!("{n}."))
                                    }
                                    Some(None) => Some(" *".to_string()),
                                    None => None,
                                };
                                if let Some(prefix) = prefix {
                                    self.word(&prefix);
                                    self.pending_space = true;
                                }
                            }
                            _ => {}
                        }
                        self.children(node);
                        if matches!(name, "ul" | "ol") {
                            self.lists.pop();
                        }
                        self.uppercase -= usize::from(heading);
                        if let Some(n) = breaks {
                            self.block(n);
                        }
                    }
                }
            }
            Node::Document | Node::Fragment => self.children(node),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn convert(html: &str) -> String {
        let doc = Html::parse_document(html);
        to_text(doc.root_element(), &HashSet::new())
    }

    #[test]
    fn blocks_headings_links_and_lists() {
        assert_eq!(
            convert("<h2>Title</h2><p>One  two\n three</p><div>x<a href='http://a'>link</a></div>"),
            "TITLE\n\nOne two three\n\nxlink [http://a]"
        );
        assert_eq!(
            convert("<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>"),
            " * a\n * b\n\n1. c"
        );
        assert_eq!(convert("<p>a<br>b</p><img src='s.png'>"), "a\nb\n\n[s.png]");
    }
}
