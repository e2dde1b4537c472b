//! Text encodings by the names n8n's file nodes take (iconv-lite's: `utf8`, `latin1`,
//! `windows1256`, `utf-16le`, ...), and the UTF-8 byte order mark.

use encoding_rs::Encoding;
use sluice_engine::NodeError;

pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding an option names; `parameter` is named in the error for an unknown one.
pub fn by_name(name: &str, parameter: &str) -> Result<&'static Encoding, NodeError> {
    let lower = name.to_ascii_lowercase();
    let hyphenated = match lower.find(|c: char| c.is_ascii_digit()) {
        Some(at) if at > 0 && !lower[..at].ends_with('-') => {
            format!("{}-{}", &lower[..at], &lower[at..])
        }
        _ => lower.clone(),
    };
    Encoding::for_label(lower.as_bytes())
        .or_else(|| Encoding::for_label(hyphenated.as_bytes()))
        .ok_or_else(|| {
            NodeError::new(format!("unknown encoding '{name}'")).with_parameter(parameter)
        })
}

/// Decode `bytes`, dropping a leading byte order mark when `strip_bom` is set.
pub fn decode(bytes: &[u8], encoding: &'static Encoding, strip_bom: bool) -> String {
    let (text, _) = if strip_bom {
        encoding.decode_with_bom_removal(bytes)
    } else {
        encoding.decode_without_bom_handling(bytes)
    };
    text.into_owned()
}

/// Encode `text`, unmappable characters as HTML numeric references (as encoding_rs does), with
/// a UTF-8 byte order mark first when `add_bom` is set and the encoding is UTF-8.
pub fn encode(text: &str, encoding: &'static Encoding, add_bom: bool) -> Vec<u8> {
    let (bytes, _, _) = encoding.encode(text);
    let mut out = Vec::with_capacity(bytes.len() + 3);
    if add_bom && encoding == encoding_rs::UTF_8 {
        out.extend_from_slice(UTF8_BOM);
    }
    out.extend_from_slice(&bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n8n_names() {
        assert_eq!(by_name("utf8", "e").unwrap(), encoding_rs::UTF_8);
        assert_eq!(by_name("windows1256", "e").unwrap().name(), "windows-1256");
        assert_eq!(by_name("latin1", "e").unwrap().name(), "windows-1252");
        assert!(by_name("klingon", "e").is_err());
    }
}
