//! JSON to XML text with xml2js's builder rules: a single top-level key names the root element
//! (otherwise `rootName`), `$` holds attributes, `_` holds text, arrays repeat their element;
//! pretty-printed with two spaces.

use super::config::BuildOptions;
use crate::util::values::as_text;
use sluice_model::{JsonObject, Value};

pub fn build(json: &JsonObject, options: &BuildOptions) -> String {
    let mut out = String::new();
    if !options.headless {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    }
    let wrapped;
    let (root, value) = match (&options.root_name, json.len()) {
        (None, 1) => {
            let (k, v) = json.iter().next().expect("one key");
            (k.as_str(), v)
        }
        (name, _) => {
            wrapped = Value::Object(json.clone());
            (name.as_deref().unwrap_or("root"), &wrapped)
        }
    };
    let mut writer = Writer { out, options };
    writer.element(root, value, 0);
    writer.out.truncate(writer.out.trim_end().len());
    writer.out
}

struct Writer<'o> {
    out: String,
    options: &'o BuildOptions,
}

impl Writer<'_> {
    fn indent(&mut self, depth: usize) {
        self.out.push_str(&"  ".repeat(depth));
    }

    fn element(&mut self, name: &str, value: &Value, depth: usize) {
        match value {
            Value::Array(list) => {
                for entry in list {
                    self.element(name, entry, depth);
                }
            }
            Value::Object(map) => self.object(name, map, depth),
            Value::Null => {
                self.indent(depth);
                self.out.push_str(&format!("<{name}/>\n"));
            }
            scalar => {
                self.indent(depth);
                let text = self.text(&as_text(scalar));
                if text.is_empty() {
                    self.out.push_str(&format!("<{name}/>\n"));
                } else {
                    self.out.push_str(&format!("<{name}>{text}</{name}>\n"));
                }
            }
        }
    }

    fn object(&mut self, name: &str, map: &JsonObject, depth: usize) {
        let o = self.options;
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(name);
        if let Some(Value::Object(attrs)) = map.get(&o.attr_key) {
            for (key, value) in attrs {
                self.out
                    .push_str(&format!(" {key}=\"{}\"", escape_attr(&as_text(value))));
            }
        }
        let text = map.get(&o.char_key).map(as_text);
        let children: Vec<_> = map
            .iter()
            .filter(|(k, _)| **k != o.attr_key && **k != o.char_key)
            .collect();
        match (text, children.is_empty()) {
            (None, true) => self.out.push_str("/>\n"),
            (Some(t), true) => {
                let t = self.text(&t);
                self.out.push_str(&format!(">{t}</{name}>\n"));
            }
            (text, false) => {
                self.out.push_str(">\n");
                if let Some(t) = text {
                    self.indent(depth + 1);
                    let t = self.text(&t);
                    self.out.push_str(&t);
                    self.out.push('\n');
                }
                for (key, value) in children {
                    self.element(key, value, depth + 1);
                }
                self.indent(depth);
                self.out.push_str(&format!("</{name}>\n"));
            }
        }
    }

    /// Escaped text, or a CDATA section when the `cdata` option is on and escaping is needed.
    fn text(&self, text: &str) -> String {
        let text = if self.options.allow_surrogate_chars {
            text.to_string()
        } else {
            text.chars().filter(|c| !is_invalid_xml_char(*c)).collect()
        };
        if self.options.cdata && text.contains(['&', '<', '>']) {
            return format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"));
        }
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\r', "&#xD;")
    }
}

fn is_invalid_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('\t', "&#x9;")
        .replace('\n', "&#xA;")
        .replace('\r', "&#xD;")
}
