//! String properties and methods: JavaScript's (`slice`, `replace`, `split`, ...) with UTF-16
//! index semantics, and n8n's string extensions (`hash`, `toSnakeCase`, `extractEmail`, ...).

use super::{arg, int_arg, rel_index};
use crate::eval::Ctx;
use crate::jsregex::{expand_replacement, JsRegex};
use crate::luxon;
use crate::numfmt::{js_number_to_string, parse_float, parse_int, string_to_number};
use crate::value::*;
use crate::ExprError;
use base64::Engine;
use std::rc::Rc;
use std::sync::Arc;

/// UTF-16 code units of a string (JavaScript string indices count these).
fn units(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_units(u: &[u16]) -> String {
    String::from_utf16_lossy(u)
}

/// `s[start..end]` in UTF-16 indices.
fn substr_units(s: &str, start: usize, end: usize) -> String {
    if s.is_ascii() {
        let end = end.min(s.len());
        return s.get(start.min(end)..end).unwrap_or_default().to_string();
    }
    let u = units(s);
    let end = end.min(u.len());
    from_units(&u[start.min(end)..end])
}

/// Byte offset -> UTF-16 index.
fn utf16_index(s: &str, byte: usize) -> usize {
    utf16_len(&s[..byte])
}

/// UTF-16 index -> byte offset (clamped).
fn byte_index(s: &str, idx: usize) -> usize {
    if s.is_ascii() {
        return idx.min(s.len());
    }
    let mut count = 0;
    for (b, c) in s.char_indices() {
        if count >= idx {
            return b;
        }
        count += c.len_utf16();
    }
    s.len()
}

pub fn property<'a>(s: &JsStr<'a>, key: &str) -> Val<'a> {
    if key == "length" {
        return Val::Num(utf16_len(s) as f64);
    }
    match key.parse::<usize>() {
        Ok(i) if i < utf16_len(s) => str_val(substr_units(s, i, i + 1)),
        _ => Val::Undefined,
    }
}

fn str_arg<'a>(args: &[Val<'a>], i: usize) -> JsStr<'a> {
    arg(args, i).to_str()
}

/// `encodeURIComponent` (`keep_reserved` false) or `encodeURI` (true).
pub fn uri_encode(s: &str, keep_reserved: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        let unreserved = c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c);
        let reserved = keep_reserved && ";,/?:@&=+$#".contains(c);
        if unreserved || reserved {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `decodeURIComponent` / `decodeURI` (which keeps escapes of reserved characters).
pub fn uri_decode(s: &str, keep_reserved: bool) -> Result<String, ExprError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ExprError::eval("URI malformed"))?;
            if keep_reserved && ";,/?:@&=+$#".contains(hex as char) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(hex);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ExprError::eval("URI malformed"))
}

fn regex(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("built-in regex")
}

fn email_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"))
}

fn url_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex(r"(?i)\b(?:https?|ftp)://[^\s/$.?#][^\s]*"))
}

fn domain_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex(r"(?i)^(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$"))
}

/// Host and path of an absolute URL.
fn split_url(s: &str) -> Option<(&str, &str)> {
    let m = url_re().find(s.trim())?;
    let rest = &m.as_str()[m.as_str().find("://")? + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    Some((host, &rest[end..]))
}

/// Letters with diacritics and their closest ASCII spelling.
const SPECIAL_CHARS: &[(char, &str)] = &[
    ('à', "a"),
    ('á', "a"),
    ('â', "a"),
    ('ã', "a"),
    ('ä', "a"),
    ('å', "a"),
    ('ā', "a"),
    ('ă', "a"),
    ('ą', "a"),
    ('æ', "ae"),
    ('ç', "c"),
    ('ć', "c"),
    ('č', "c"),
    ('ď', "d"),
    ('đ', "d"),
    ('è', "e"),
    ('é', "e"),
    ('ê', "e"),
    ('ë', "e"),
    ('ē', "e"),
    ('ė', "e"),
    ('ę', "e"),
    ('ě', "e"),
    ('ğ', "g"),
    ('ì', "i"),
    ('í', "i"),
    ('î', "i"),
    ('ï', "i"),
    ('ī', "i"),
    ('į', "i"),
    ('ı', "i"),
    ('ł', "l"),
    ('ľ', "l"),
    ('ñ', "n"),
    ('ń', "n"),
    ('ň', "n"),
    ('ò', "o"),
    ('ó', "o"),
    ('ô', "o"),
    ('õ', "o"),
    ('ö', "o"),
    ('ø', "o"),
    ('ō', "o"),
    ('ő', "o"),
    ('œ', "oe"),
    ('ŕ', "r"),
    ('ř', "r"),
    ('ś', "s"),
    ('š', "s"),
    ('ş', "s"),
    ('ș', "s"),
    ('ß', "ss"),
    ('ť', "t"),
    ('ţ', "t"),
    ('ț', "t"),
    ('ù', "u"),
    ('ú', "u"),
    ('û', "u"),
    ('ü', "u"),
    ('ū', "u"),
    ('ů', "u"),
    ('ű', "u"),
    ('ų', "u"),
    ('ý', "y"),
    ('ÿ', "y"),
    ('ź', "z"),
    ('ż', "z"),
    ('ž', "z"),
    ('þ', "th"),
    ('ð', "d"),
];

fn replace_special_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        match SPECIAL_CHARS.iter().find(|(k, _)| *k == lower) {
            Some((_, r)) if c.is_uppercase() => {
                let mut chars = r.chars();
                if let Some(first) = chars.next() {
                    out.push(first.to_ascii_uppercase());
                    out.push_str(chars.as_str());
                }
            }
            Some((_, r)) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

fn remove_markdown(s: &str) -> String {
    static RES: std::sync::OnceLock<Vec<(regex::Regex, &'static str)>> = std::sync::OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            (r"(?s)```[^\n]*\n(.*?)```", "$1"),
            (r"<[^>]*>", ""),
            (r"!\[([^\]]*)\]\([^)]*\)", "$1"),
            (r"\[([^\]]*)\]\([^)]*\)", "$1"),
            (r"(?m)^\s{0,3}#{1,6}\s*", ""),
            (r"(?m)^\s{0,3}>\s?", ""),
            (r"(?m)^\s*[-*+]\s+", ""),
            (r"(?m)^\s*\d+\.\s+", ""),
            (r"(?m)^\s*([-*_]\s*){3,}\s*$", ""),
            (r"(\*\*|__)(.*?)(\*\*|__)", "$2"),
            (r"(\*|_)(.*?)(\*|_)", "$2"),
            (r"~~(.*?)~~", "$1"),
            (r"`([^`]*)`", "$1"),
        ]
        .into_iter()
        .map(|(p, r)| (regex(p), r))
        .collect()
    });
    let mut out = s.to_string();
    for (re, rep) in res {
        out = re.replace_all(&out, *rep).into_owned();
    }
    out.trim().to_string()
}

/// Words that `toTitleCase` leaves in lower case unless they start the text.
const MINOR_WORDS: &[&str] = &[
    "a", "an", "the", "and", "but", "or", "for", "nor", "at", "by", "in", "of", "on", "to", "up",
    "as", "so", "yet", "via",
];

fn to_title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut first_word = true;
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_empty() {
            continue;
        }
        if !first_word && MINOR_WORDS.contains(&word.to_lowercase().as_str()) {
            out.push_str(&word.to_lowercase());
        } else {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
        first_word = false;
    }
    out
}

fn to_sentence_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut capitalize = true;
    for c in s.chars() {
        if c.is_alphabetic() {
            if capitalize {
                out.extend(c.to_uppercase());
                capitalize = false;
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            if matches!(c, '.' | '!' | '?') {
                capitalize = true;
            }
            out.push(c);
        }
    }
    out
}

fn to_snake_case(s: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase() || c.is_numeric();
            cur.extend(c.to_lowercase());
        } else {
            if (c.is_whitespace() || c == '-' || c == '_') && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words.join("_")
}

fn hash(s: &str, algo: &str) -> Result<String, ExprError> {
    use md5::Digest;
    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
    Ok(match algo.to_ascii_lowercase().as_str() {
        "md5" => hex(&md5::Md5::digest(s.as_bytes())),
        "sha1" => hex(&sha1::Sha1::digest(s.as_bytes())),
        "sha224" => hex(&sha2::Sha224::digest(s.as_bytes())),
        "sha256" => hex(&sha2::Sha256::digest(s.as_bytes())),
        "sha384" => hex(&sha2::Sha384::digest(s.as_bytes())),
        "sha512" => hex(&sha2::Sha512::digest(s.as_bytes())),
        "base64" => base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        other => {
            return Err(ExprError::eval(format!(
                "hash(): unsupported algorithm '{other}' (use md5, sha1, sha224, sha256, sha384, sha512 or base64)"
            )))
        }
    })
}

/// Replaces the first (or every) match of `pattern` in `s`; `replacement` is a string with
/// `$` patterns or a function called with the match, groups, offset and whole string.
fn replace<'a>(
    ctx: &mut Ctx<'a>,
    s: &str,
    pattern: &Val<'a>,
    replacement: &Val<'a>,
    all: bool,
) -> Result<String, ExprError> {
    let re = match pattern {
        Val::Regex(r) => {
            if all && !r.global {
                return Err(ExprError::eval(
                    "replaceAll must be called with a global RegExp",
                ));
            }
            r.clone()
        }
        other => {
            let lit = regex::escape(&other.to_str());
            Arc::new(JsRegex::new(&lit, if all { "g" } else { "" })?)
        }
    };
    let global = re.global;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.re.captures_iter(s) {
        let m = caps.get(0).expect("match");
        out.push_str(&s[last..m.start()]);
        match replacement {
            Val::Func(_) | Val::Global(_) => {
                let mut args: Vec<Val<'a>> = caps
                    .iter()
                    .map(|g| g.map_or(Val::Undefined, |g| str_val(g.as_str())))
                    .collect();
                args.push(Val::Num(utf16_index(s, m.start()) as f64));
                args.push(str_val(s));
                let r = ctx.call_value(replacement, args)?;
                out.push_str(&r.to_str());
            }
            other => out.push_str(&expand_replacement(
                &other.to_str(),
                &caps,
                &re.re.capture_names(),
                s,
            )),
        }
        last = m.end();
        if !global {
            break;
        }
    }
    out.push_str(&s[last..]);
    Ok(out)
}

fn match_groups<'a>(caps: &regex::Captures) -> Val<'a> {
    new_arr(
        caps.iter()
            .map(|g| g.map_or(Val::Undefined, |g| str_val(g.as_str())))
            .collect(),
    )
}

fn to_regex(v: &Val) -> Result<Arc<JsRegex>, ExprError> {
    match v {
        Val::Regex(r) => Ok(r.clone()),
        other => Ok(Arc::new(JsRegex::new(&other.to_str(), "")?)),
    }
}

fn split<'a>(s: &str, sep: &Val<'a>, limit: usize) -> Vec<Val<'a>> {
    let parts: Vec<String> = match sep {
        Val::Undefined => vec![s.to_string()],
        Val::Regex(r) => {
            if s.is_empty() {
                return if r.re.is_match("") {
                    vec![]
                } else {
                    vec![str_val("")]
                };
            }
            let mut out = Vec::new();
            let mut last = 0;
            for caps in r.re.captures_iter(s) {
                let m = caps.get(0).expect("match");
                if m.end() == 0 || (m.start() == m.end() && m.start() >= s.len()) {
                    continue;
                }
                if m.start() == m.end() && m.start() == last && last != 0 {
                    continue;
                }
                out.push(s[last..m.start()].to_string());
                out.extend(
                    caps.iter()
                        .skip(1)
                        .map(|g| g.map_or(String::new(), |g| g.as_str().to_string())),
                );
                last = m.end();
            }
            out.push(s[last..].to_string());
            out
        }
        other => {
            let sep = other.to_str();
            if sep.is_empty() {
                s.encode_utf16().map(|u| from_units(&[u])).collect()
            } else {
                s.split(&*sep).map(str::to_string).collect()
            }
        }
    };
    parts.into_iter().take(limit).map(str_val).collect()
}

fn pad(s: &str, len: f64, fill: &str, start: bool) -> String {
    let cur = utf16_len(s);
    let target = len.max(0.0) as usize;
    if target <= cur || fill.is_empty() {
        return s.to_string();
    }
    let fill_units = units(fill);
    let need = target - cur;
    let padding: Vec<u16> = fill_units.iter().cycle().take(need).copied().collect();
    let padding = from_units(&padding);
    if start {
        format!("{padding}{s}")
    } else {
        format!("{s}{padding}")
    }
}

/// Regex methods: `test`, `exec`, `toString`.
pub fn call_regex<'a>(
    r: &Arc<JsRegex>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let s = str_arg(args, 0);
    Ok(Some(match name {
        "test" => Val::Bool(r.re.is_match(&s)),
        "exec" => match r.re.captures(&s) {
            Some(c) => match_groups(&c),
            None => Val::Null,
        },
        "toString" => str_val(r.display()),
        _ => return Ok(None),
    }))
}

pub fn call<'a>(
    ctx: &mut Ctx<'a>,
    s: &JsStr<'a>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let len = utf16_len(s);
    Ok(Some(match name {
        "toLowerCase" | "toLocaleLowerCase" => str_val(s.to_lowercase()),
        "toUpperCase" | "toLocaleUpperCase" => str_val(s.to_uppercase()),
        "trim" => str_val(s.trim()),
        "trimStart" | "trimLeft" => str_val(s.trim_start()),
        "trimEnd" | "trimRight" => str_val(s.trim_end()),
        "toString" | "valueOf" | "normalize" => Val::Str(s.clone()),
        "includes" => {
            let from = byte_index(s, rel_index(int_arg(args, 1, 0.0), len));
            Val::Bool(s[from..].contains(&*str_arg(args, 0)))
        }
        "startsWith" => {
            let from = byte_index(s, rel_index(int_arg(args, 1, 0.0).max(0.0), len));
            Val::Bool(s[from..].starts_with(&*str_arg(args, 0)))
        }
        "endsWith" => {
            let end = byte_index(s, rel_index(int_arg(args, 1, len as f64).max(0.0), len));
            Val::Bool(s[..end].ends_with(&*str_arg(args, 0)))
        }
        "indexOf" => {
            let from = byte_index(s, rel_index(int_arg(args, 1, 0.0).max(0.0), len));
            let needle = str_arg(args, 0);
            Val::Num(
                s[from..]
                    .find(&*needle)
                    .map_or(-1.0, |i| utf16_index(s, from + i) as f64),
            )
        }
        "lastIndexOf" => {
            let needle = str_arg(args, 0);
            Val::Num(s.rfind(&*needle).map_or(-1.0, |i| utf16_index(s, i) as f64))
        }
        "search" => {
            let re = to_regex(&arg(args, 0))?;
            Val::Num(
                re.re
                    .find(s)
                    .map_or(-1.0, |m| utf16_index(s, m.start()) as f64),
            )
        }
        "slice" => {
            let start = rel_index(int_arg(args, 0, 0.0), len);
            let end = rel_index(int_arg(args, 1, len as f64), len);
            str_val(substr_units(s, start, end.max(start)))
        }
        "substring" => {
            let a = int_arg(args, 0, 0.0).clamp(0.0, len as f64) as usize;
            let b = int_arg(args, 1, len as f64).clamp(0.0, len as f64) as usize;
            str_val(substr_units(s, a.min(b), a.max(b)))
        }
        "substr" => {
            let start = rel_index(int_arg(args, 0, 0.0), len);
            let count = int_arg(args, 1, len as f64).max(0.0) as usize;
            str_val(substr_units(s, start, start.saturating_add(count)))
        }
        "charAt" => {
            let i = int_arg(args, 0, 0.0);
            if i < 0.0 || i >= len as f64 {
                str_val("")
            } else {
                str_val(substr_units(s, i as usize, i as usize + 1))
            }
        }
        "charCodeAt" | "codePointAt" => {
            let i = int_arg(args, 0, 0.0);
            if i < 0.0 || i >= len as f64 {
                if name == "charCodeAt" {
                    Val::Num(f64::NAN)
                } else {
                    Val::Undefined
                }
            } else if name == "codePointAt" {
                let b = byte_index(s, i as usize);
                Val::Num(
                    s[b..]
                        .chars()
                        .next()
                        .map_or(f64::NAN, |c| f64::from(c as u32)),
                )
            } else {
                Val::Num(f64::from(units(s)[i as usize]))
            }
        }
        "at" => {
            let i = int_arg(args, 0, 0.0);
            let i = if i < 0.0 { len as f64 + i } else { i };
            if i < 0.0 || i >= len as f64 {
                Val::Undefined
            } else {
                str_val(substr_units(s, i as usize, i as usize + 1))
            }
        }
        "concat" => {
            let mut out = s.to_string();
            for a in args {
                out.push_str(&a.to_str());
            }
            str_val(out)
        }
        "repeat" => {
            let n = int_arg(args, 0, 0.0);
            if n < 0.0 || n.is_infinite() {
                return Err(ExprError::eval(format!(
                    "Invalid count value: {}",
                    js_number_to_string(n)
                )));
            }
            ctx.check_length(n * s.len() as f64)?;
            str_val(s.repeat(n as usize))
        }
        "padStart" | "padEnd" => {
            let fill = match arg(args, 1) {
                Val::Undefined => JsStr::Borrowed(" "),
                v => v.to_str(),
            };
            str_val(pad(s, int_arg(args, 0, 0.0), &fill, name == "padStart"))
        }
        "split" => {
            let limit = match arg(args, 1) {
                Val::Undefined => usize::MAX,
                v => v.to_number().max(0.0) as usize,
            };
            new_arr(split(s, &arg(args, 0), limit))
        }
        "replace" => str_val(replace(ctx, s, &arg(args, 0), &arg(args, 1), false)?),
        "replaceAll" => str_val(replace(ctx, s, &arg(args, 0), &arg(args, 1), true)?),
        "match" => {
            let re = to_regex(&arg(args, 0))?;
            if re.global {
                let all: Vec<Val> = re.re.find_iter(s).map(|m| str_val(m.as_str())).collect();
                if all.is_empty() {
                    Val::Null
                } else {
                    new_arr(all)
                }
            } else {
                match re.re.captures(s) {
                    Some(c) => match_groups(&c),
                    None => Val::Null,
                }
            }
        }
        "matchAll" => {
            let re = to_regex(&arg(args, 0))?;
            new_arr(re.re.captures_iter(s).map(|c| match_groups(&c)).collect())
        }
        "localeCompare" => {
            let other = str_arg(args, 0);
            let key = |x: &str| {
                (
                    x.to_lowercase(),
                    x.chars().map(|c| !c.is_lowercase()).collect::<Vec<_>>(),
                )
            };
            Val::Num(match key(s).cmp(&key(&other)) {
                std::cmp::Ordering::Less => -1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Greater => 1.0,
            })
        }
        // n8n extensions
        "isEmpty" => Val::Bool(s.is_empty()),
        "isNotEmpty" => Val::Bool(!s.is_empty()),
        "hash" => {
            let algo = match arg(args, 0) {
                Val::Undefined => JsStr::Borrowed("md5"),
                v => v.to_str(),
            };
            str_val(hash(s, &algo)?)
        }
        "base64Encode" => str_val(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
        "base64Decode" => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.trim()))
                .map_err(|e| ExprError::eval(format!("base64Decode(): invalid base64: {e}")))?;
            str_val(String::from_utf8_lossy(&bytes).into_owned())
        }
        "urlEncode" => str_val(uri_encode(s, arg(args, 0).truthy())),
        "urlDecode" => str_val(uri_decode(s, arg(args, 0).truthy())?),
        "removeTags" => str_val(regex(r"<[^>]*>").replace_all(s, "").into_owned()),
        "removeMarkdown" => str_val(remove_markdown(s)),
        "replaceSpecialChars" => str_val(replace_special_chars(s)),
        "toTitleCase" => str_val(to_title_case(s)),
        "toSentenceCase" => str_val(to_sentence_case(s)),
        "toSnakeCase" => str_val(to_snake_case(s)),
        "quote" => {
            let mark = match arg(args, 0) {
                Val::Undefined => JsStr::Borrowed("\""),
                v => v.to_str(),
            };
            let escaped = s.replace(&*mark, &format!("\\{}", &*mark));
            str_val(format!("{}{escaped}{}", &*mark, &*mark))
        }
        "isEmail" => Val::Bool(
            email_re()
                .find(s)
                .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
        ),
        "isUrl" => Val::Bool(
            url_re()
                .find(s)
                .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
        ),
        "isDomain" => Val::Bool(domain_re().is_match(s)),
        "isNumeric" => Val::Bool(!s.trim().is_empty() && !string_to_number(s).is_nan()),
        "extractEmail" => email_re()
            .find(s)
            .map_or(Val::Undefined, |m| str_val(m.as_str())),
        "extractUrl" => url_re()
            .find(s)
            .map_or(Val::Undefined, |m| str_val(m.as_str())),
        "extractDomain" => {
            let t = s.trim();
            if let Some(m) = email_re().find(t).filter(|m| m.start() == 0) {
                let email = m.as_str();
                str_val(&email[email.find('@').map_or(0, |i| i + 1)..])
            } else if let Some((host, _)) = split_url(t) {
                str_val(host)
            } else if domain_re().is_match(t) {
                str_val(t)
            } else {
                Val::Undefined
            }
        }
        "extractUrlPath" => match split_url(s) {
            Some((_, path)) => {
                let path = path.split(['?', '#']).next().unwrap_or("");
                str_val(if path.is_empty() { "/" } else { path })
            }
            None => Val::Undefined,
        },
        "parseJson" => serde_json::from_str(s).map_or(Val::Undefined, Val::from_owned_json),
        "toJsonString" => str_val(serde_json::to_string(&**s).unwrap_or_default()),
        "toBoolean" => {
            let t = s.trim().to_lowercase();
            Val::Bool(!matches!(t.as_str(), "" | "false" | "no" | "0"))
        }
        "toNumber" | "toDecimalNumber" | "toFloat" => {
            let n = if name == "toNumber" {
                string_to_number(s)
            } else {
                parse_float(s)
            };
            if n.is_nan() {
                return Err(ExprError::eval(format!(
                    "{name}(): '{}' can't be converted to a number",
                    &**s
                )));
            }
            Val::Num(n)
        }
        "toInt" | "toWholeNumber" => {
            let n = parse_float(s);
            if n.is_nan() {
                let i = parse_int(s, None);
                if i.is_nan() {
                    return Err(ExprError::eval(format!(
                        "{name}(): '{}' can't be converted to a number",
                        &**s
                    )));
                }
                Val::Num(i)
            } else {
                Val::Num(n.trunc())
            }
        }
        "toDate" => match luxon::parse_js_date(s, ctx.zone()) {
            Some(ms) => Val::Date(ms as f64),
            None => {
                return Err(ExprError::eval(format!(
                    "toDate(): '{}' is not a valid date",
                    &**s
                )))
            }
        },
        "toDateTime" => {
            let dt = match arg(args, 0) {
                Val::Undefined => super::datetime_from_value(ctx, &Val::Str(s.clone())),
                fmt => Some(luxon::from_format(s, &fmt.to_str(), ctx.zone())),
            };
            match dt.filter(|d| d.is_valid()) {
                Some(dt) => Val::DateTime(Rc::new(dt)),
                None => {
                    return Err(ExprError::eval(format!(
                        "toDateTime(): '{}' can't be converted to a DateTime",
                        &**s
                    )))
                }
            }
        }
        _ => return Ok(None),
    }))
}
