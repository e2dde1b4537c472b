//! JavaScript regular expressions on top of the `regex` crate.
//!
//! Translates JS flags (`i`, `m`, `s`, `g`) and expands JS replacement patterns (`$1`, `$&`,
//! `$<name>`, `$$`). Look-around and backreferences are not supported by `regex`; such patterns
//! are reported as syntax errors when the expression is parsed.

use crate::lexer::syntax;
use crate::ExprError;

#[derive(Debug)]
pub struct JsRegex {
    pub re: regex::Regex,
    pub global: bool,
    pub source: String,
    pub flags: String,
}

impl JsRegex {
    pub fn new(pattern: &str, flags: &str) -> Result<JsRegex, ExprError> {
        let mut prefix = String::new();
        for (i, f) in flags.char_indices() {
            match f {
                _ if flags[..i].contains(f) => {
                    return Err(syntax(format!("duplicate regular expression flag '{f}'")))
                }
                'i' | 'm' | 's' => prefix.push(f),
                'g' | 'u' | 'y' | 'd' | 'v' => {}
                other => return Err(syntax(format!("invalid regular expression flag '{other}'"))),
            }
        }
        let translated = translate(pattern);
        let full = if prefix.is_empty() {
            translated
        } else {
            format!("(?{prefix}){translated}")
        };
        let re = regex::Regex::new(&full).map_err(|e| {
            syntax(format!(
                "invalid or unsupported regular expression /{pattern}/: {}",
                e.to_string().lines().last().unwrap_or_default()
            ))
        })?;
        Ok(JsRegex {
            re,
            global: flags.contains('g'),
            source: pattern.to_string(),
            // In JavaScript's order, whatever the order written: `/n/mi.flags` is `im`.
            flags: "dgimsuvy".chars().filter(|&f| flags.contains(f)).collect(),
        })
    }

    /// `/source/flags`, as JavaScript prints a regex.
    pub fn display(&self) -> String {
        format!("/{}/{}", self.source, self.flags)
    }
}

/// Rewrites the few JS regex spellings the `regex` crate reads differently.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // JS `\d`, `\w`, `\s`, `\b` are ASCII-only (except `\s`); keep them ASCII.
                Some(e @ ('d' | 'D' | 'w' | 'W')) => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                Some('/') => out.push('/'),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push_str("\\\\"),
            },
            '[' if chars.peek() == Some(&'^') => {
                chars.next();
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("(?s:.)");
                } else {
                    out.push_str("[^");
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Expands a JS replacement string for one match.
pub fn expand_replacement(
    replacement: &str,
    caps: &regex::Captures,
    names: &regex::CaptureNames,
    subject: &str,
) -> String {
    let whole = caps.get(0).expect("match");
    let mut out = String::new();
    let bytes = replacement.as_bytes();
    let mut i = 0;
    while i < replacement.len() {
        let c = replacement[i..].chars().next().unwrap_or_default();
        if c != '$' || i + 1 >= bytes.len() {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        match bytes[i + 1] {
            b'$' => {
                out.push('$');
                i += 2;
            }
            b'&' => {
                out.push_str(whole.as_str());
                i += 2;
            }
            b'`' => {
                out.push_str(&subject[..whole.start()]);
                i += 2;
            }
            b'\'' => {
                out.push_str(&subject[whole.end()..]);
                i += 2;
            }
            b'<' => match replacement[i..].find('>') {
                Some(end)
                    if names
                        .clone()
                        .flatten()
                        .any(|n| n == &replacement[i + 2..i + end]) =>
                {
                    if let Some(m) = caps.name(&replacement[i + 2..i + end]) {
                        out.push_str(m.as_str());
                    }
                    i += end + 1;
                }
                _ => {
                    out.push('$');
                    i += 1;
                }
            },
            d if d.is_ascii_digit() => {
                // Two-digit group numbers win when that group exists.
                let two = bytes
                    .get(i + 2)
                    .filter(|b| b.is_ascii_digit())
                    .map(|b| ((d - b'0') * 10 + (b - b'0')) as usize)
                    .filter(|&n| n >= 1 && n < caps.len());
                let one = (d - b'0') as usize;
                if let Some(n) = two {
                    if let Some(m) = caps.get(n) {
                        out.push_str(m.as_str());
                    }
                    i += 3;
                } else if one >= 1 && one < caps.len() {
                    if let Some(m) = caps.get(one) {
                        out.push_str(m.as_str());
                    }
                    i += 2;
                } else {
                    out.push('$');
                    i += 1;
                }
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}
