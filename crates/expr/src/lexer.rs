//! Tokenizer for the JavaScript subset used inside `{{ }}` chunks.
//!
//! It exists separately from the parser because the template splitter needs it too: finding the
//! `}}` that closes a chunk requires knowing where strings, template literals, regex literals and
//! object-literal braces begin and end.

use crate::{nests_too_deep, ExprError, MAX_NESTING};
use std::sync::Arc;

/// One token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Num(f64),
    Str(Arc<str>),
    /// A template literal: cooked text parts and the source text of each `${}` expression.
    Template {
        quasis: Vec<Arc<str>>,
        exprs: Vec<String>,
    },
    Regex {
        pattern: String,
        flags: String,
    },
    /// Identifiers and keywords (the parser tells them apart).
    Ident(Arc<str>),
    Punct(&'static str),
    Eof,
}

/// A token with its byte span in the source.
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

const PUNCTS: &[&str] = &[
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "**", "++", "--", "+=", "-=", "*=", "/=", "%=", "<<", ">>",
    "&=", "|=", "^=", "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%",
    "&", "|", "^", "!", "~", "?", ":", "=", ".",
];

/// Keywords after which a `/` starts a regex literal rather than a division.
const REGEX_AFTER_KEYWORDS: &[&str] = &[
    "return",
    "typeof",
    "in",
    "of",
    "instanceof",
    "new",
    "delete",
    "void",
    "case",
    "do",
    "else",
];

/// Streaming tokenizer over one source string.
pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    regex_allowed: bool,
    /// Template literals open around the current position (`${` inside `${`...).
    templates: usize,
}

pub fn syntax(msg: impl Into<String>) -> ExprError {
    ExprError::Syntax(msg.into())
}

/// JavaScript's legacy octal literal, which n8n's expressions (sloppy mode) still read: a `0`
/// followed by octal digits only (`040` is 32) gives its value and length; with an 8 or 9 among
/// the digits (`089`) it is an ordinary decimal number, `None` here. It has no fraction or
/// exponent, so a `.` after it is a member access (`010.toString()`).
fn legacy_octal(rest: &str) -> Option<(f64, usize)> {
    let after_zero = rest.strip_prefix('0')?;
    let digits = after_zero.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let octal = &rest[1..=digits];
    if octal.bytes().any(|b| b > b'7') {
        return None;
    }
    let value = octal
        .bytes()
        .fold(0.0, |n: f64, b| n * 8.0 + f64::from(b - b'0'));
    Some((value, digits + 1))
}

fn is_ident_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic()
}

fn is_ident_part(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphanumeric() || c == '\u{200c}' || c == '\u{200d}'
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str, pos: usize) -> Self {
        Lexer {
            src,
            pos,
            regex_allowed: true,
            templates: 0,
        }
    }

    fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) -> Result<(), ExprError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                let end = body
                    .find("*/")
                    .ok_or_else(|| syntax("unterminated comment"))?;
                self.pos += end + 4;
            } else {
                return Ok(());
            }
        }
    }

    /// The next token; `Eof` at the end of the source.
    pub fn next_token(&mut self) -> Result<Token, ExprError> {
        self.skip_space()?;
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let tok = if c.is_ascii_digit()
            || (c == '.' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            self.number()?
        } else if c == '"' || c == '\'' {
            self.string(c)?
        } else if c == '`' {
            self.template()?
        } else if is_ident_start(c) || c == '\\' {
            let len = self
                .rest()
                .char_indices()
                .find(|&(_, ch)| !is_ident_part(ch))
                .map_or(self.rest().len(), |(i, _)| i);
            if len == 0 {
                // A backslash that starts no identifier (`\:`) would otherwise never be consumed.
                return Err(syntax(format!("unexpected character '{c}'")));
            }
            let name = &self.rest()[..len];
            self.pos += len;
            Tok::Ident(Arc::from(name))
        } else if c == '/' && self.regex_allowed {
            self.regex()?
        } else {
            let rest = self.rest();
            let p = PUNCTS
                .iter()
                .find(|p| {
                    rest.starts_with(**p)
                        && !(**p == "?." && rest[2..].starts_with(|d: char| d.is_ascii_digit()))
                })
                .ok_or_else(|| syntax(format!("unexpected character '{c}'")))?;
            self.pos += p.len();
            Tok::Punct(p)
        };
        self.regex_allowed = match &tok {
            Tok::Punct(p) => !matches!(*p, ")" | "]" | "}"),
            Tok::Ident(name) => REGEX_AFTER_KEYWORDS.contains(&&**name),
            _ => false,
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn number(&mut self) -> Result<Tok, ExprError> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let radix = match (bytes.first(), bytes.get(1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            _ => 10,
        };
        if radix != 10 {
            let len = 2 + rest[2..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len() - 2);
            let digits: String = rest[2..len]
                .chars()
                .filter(|&c| c != '_' && c != 'n')
                .collect();
            let n = u64::from_str_radix(&digits, radix)
                .map_err(|_| syntax(format!("invalid number '{}'", &rest[..len])))?;
            self.pos += len;
            return Ok(Tok::Num(n as f64));
        }
        if let Some((value, len)) = legacy_octal(rest) {
            self.pos += len;
            return self.number_end(value, len);
        }
        let mut len = 0;
        let mut seen_dot = false;
        let mut seen_exp = false;
        while len < bytes.len() {
            let b = bytes[len];
            if b.is_ascii_digit() || b == b'_' {
                len += 1;
            } else if b == b'.' && !seen_dot && !seen_exp {
                seen_dot = true;
                len += 1;
            } else if (b == b'e' || b == b'E') && !seen_exp {
                seen_exp = true;
                len += 1;
                if matches!(bytes.get(len), Some(b'+' | b'-')) {
                    len += 1;
                }
            } else {
                break;
            }
        }
        let text: String = rest[..len].chars().filter(|&c| c != '_').collect();
        let n = text
            .parse::<f64>()
            .map_err(|_| syntax(format!("invalid number '{}'", &rest[..len])))?;
        self.pos += len;
        self.number_end(n, len)
    }

    /// After a number of `len` bytes: a BigInt suffix (read as a plain number) or an error when
    /// an identifier follows at once (`3in`).
    fn number_end(&mut self, n: f64, len: usize) -> Result<Tok, ExprError> {
        if self.rest().starts_with('n') {
            self.pos += 1;
        }
        if let Some(c) = self.peek().filter(|&c| is_ident_start(c)) {
            return Err(syntax(format!(
                "invalid number '{}'",
                &self.src[self.pos - len..self.pos + c.len_utf8()]
            )));
        }
        Ok(Tok::Num(n))
    }

    /// Reads one escape sequence after a backslash and appends what it denotes.
    fn escape(&mut self, out: &mut String) -> Result<(), ExprError> {
        let c = self
            .peek()
            .ok_or_else(|| syntax("unterminated string literal"))?;
        self.pos += c.len_utf8();
        let hex = |lex: &mut Self, n: usize| -> Result<u32, ExprError> {
            let digits = lex
                .rest()
                .get(..n)
                .ok_or_else(|| syntax("invalid escape sequence"))?;
            let v = u32::from_str_radix(digits, 16)
                .map_err(|_| syntax(format!("invalid escape sequence '\\{c}{digits}'")))?;
            lex.pos += n;
            Ok(v)
        };
        match c {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => out.push('\0'),
            'x' => {
                let v = hex(self, 2)?;
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'u' => {
                let v = if self.rest().starts_with('{') {
                    let end = self
                        .rest()
                        .find('}')
                        .ok_or_else(|| syntax("invalid unicode escape"))?;
                    self.pos += 1;
                    let v = hex(self, end - 1)?;
                    self.pos += 1;
                    v
                } else {
                    let v = hex(self, 4)?;
                    if (0xd800..0xdc00).contains(&v) && self.rest().starts_with("\\u") {
                        let save = self.pos;
                        self.pos += 2;
                        let lo = hex(self, 4)?;
                        if (0xdc00..0xe000).contains(&lo) {
                            0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00)
                        } else {
                            self.pos = save;
                            v
                        }
                    } else {
                        v
                    }
                };
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            '\r' => {
                if self.rest().starts_with('\n') {
                    self.pos += 1;
                }
            }
            '\n' | '\u{2028}' | '\u{2029}' => {}
            other => out.push(other),
        }
        Ok(())
    }

    fn string(&mut self, quote: char) -> Result<Tok, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or_else(|| {
                syntax(format!(
                    "unterminated string literal {}",
                    &self.src[start..]
                ))
            })?;
            self.pos += c.len_utf8();
            match c {
                '\\' => self.escape(&mut out)?,
                '\n' => {
                    return Err(syntax(format!(
                        "unterminated string literal {}",
                        &self.src[start..self.pos - 1]
                    )))
                }
                c if c == quote => return Ok(Tok::Str(Arc::from(out))),
                c => out.push(c),
            }
        }
    }

    fn template(&mut self) -> Result<Tok, ExprError> {
        if self.templates >= MAX_NESTING {
            return Err(nests_too_deep());
        }
        self.templates += 1;
        let result = self.template_at_level();
        self.templates -= 1;
        result
    }

    fn template_at_level(&mut self) -> Result<Tok, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut quasis = Vec::new();
        let mut exprs = Vec::new();
        let mut cur = String::new();
        loop {
            let c = self.peek().ok_or_else(|| {
                syntax(format!(
                    "unterminated template literal {}",
                    &self.src[start..]
                ))
            })?;
            if self.rest().starts_with("${") {
                self.pos += 2;
                let expr_start = self.pos;
                let expr_end = self.skip_to_closing_brace()?;
                exprs.push(self.src[expr_start..expr_end].to_string());
                quasis.push(Arc::from(std::mem::take(&mut cur)));
                continue;
            }
            self.pos += c.len_utf8();
            match c {
                '\\' => self.escape(&mut cur)?,
                '`' => {
                    quasis.push(Arc::from(cur));
                    return Ok(Tok::Template { quasis, exprs });
                }
                // A template's line ends read as `\n`, whichever the source has.
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.pos += 1;
                    }
                    cur.push('\n');
                }
                c => cur.push(c),
            }
        }
    }

    /// Advances past the `}` that closes the current brace level; returns its position.
    fn skip_to_closing_brace(&mut self) -> Result<usize, ExprError> {
        let mut depth = 0usize;
        self.regex_allowed = true;
        loop {
            let t = self.next_token()?;
            match t.tok {
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") if depth == 0 => return Ok(t.start),
                Tok::Punct("}") => depth -= 1,
                Tok::Eof => return Err(syntax("unterminated template literal")),
                _ => {}
            }
        }
    }

    fn regex(&mut self) -> Result<Tok, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut in_class = false;
        let mut pattern = String::new();
        loop {
            let c = self
                .peek()
                .filter(|&c| c != '\n')
                .ok_or_else(|| syntax(format!("unterminated regex {}", &self.src[start..])))?;
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    pattern.push('\\');
                    let n = self.peek().ok_or_else(|| syntax("unterminated regex"))?;
                    self.pos += n.len_utf8();
                    pattern.push(n);
                }
                '[' => {
                    in_class = true;
                    pattern.push(c);
                }
                ']' => {
                    in_class = false;
                    pattern.push(c);
                }
                '/' if !in_class => break,
                c => pattern.push(c),
            }
        }
        let flags_len = self
            .rest()
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(self.rest().len());
        let flags = self.rest()[..flags_len].to_string();
        self.pos += flags_len;
        Ok(Tok::Regex { pattern, flags })
    }
}

/// All tokens of `src` (ending with `Eof`).
pub fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let mut lexer = Lexer::new(src, 0);
    let mut out = Vec::new();
    loop {
        let t = lexer.next_token()?;
        let eof = t.tok == Tok::Eof;
        out.push(t);
        if eof {
            return Ok(out);
        }
    }
}

/// Position of the `}}` closing a chunk whose code starts at `start`, or `None` when the chunk is
/// not closed. Code that cannot be tokenized ends at the next `}}` (and fails to parse).
pub fn find_chunk_end(src: &str, start: usize) -> Option<usize> {
    let mut lexer = Lexer::new(src, start);
    let mut depth = 0usize;
    loop {
        let Ok(t) = lexer.next_token() else {
            return src[start..].find("}}").map(|i| start + i);
        };
        match t.tok {
            Tok::Punct("{") => depth += 1,
            Tok::Punct("}") if depth == 0 => {
                return src[t.end..].starts_with('}').then_some(t.start);
            }
            Tok::Punct("}") => depth -= 1,
            Tok::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_end_skips_strings_and_objects() {
        let s = " $json['a}}'] + {a:{b:1}}.a }} tail";
        let end = find_chunk_end(s, 0).unwrap();
        assert_eq!(&s[end..], "}} tail");
    }

    #[test]
    fn regex_versus_division() {
        let toks = tokenize("a / b").unwrap();
        assert_eq!(toks[1].tok, Tok::Punct("/"));
        let toks = tokenize("x.replace(/a\\/b/g, '')").unwrap();
        assert!(
            matches!(&toks[4].tok, Tok::Regex { pattern, flags } if pattern == "a\\/b" && flags == "g")
        );
    }

    #[test]
    fn numbers_and_templates() {
        let toks = tokenize("0x1F 1e3 .5 `a${ {x:1}.x }b`").unwrap();
        assert_eq!(toks[0].tok, Tok::Num(31.0));
        assert_eq!(toks[1].tok, Tok::Num(1000.0));
        assert_eq!(toks[2].tok, Tok::Num(0.5));
        assert!(matches!(&toks[3].tok, Tok::Template { exprs, .. } if exprs[0] == " {x:1}.x "));
    }
}
