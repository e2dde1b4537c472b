//! Text encodings by the names n8n's file nodes take (iconv-lite's: `utf8`, `latin1`,
//! `windows1256`, `utf-16le`, ...), and the UTF-8 byte order mark.

use encoding_rs::Encoding;
use sluice_engine::NodeError;
use std::io::{self, Write};

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

/// Text encoded a piece at a time into `out`: the pieces give the bytes [`encode`] gives for
/// all of the text.
pub struct TextEncoder<W> {
    out: W,
    /// `None` when the text goes out as the UTF-8 it is.
    encoder: Option<encoding_rs::Encoder>,
    /// The encoded bytes of the piece being written.
    encoded: Vec<u8>,
}

impl<W: Write> TextEncoder<W> {
    /// Starts with the UTF-8 byte order mark when `add_bom` is set and the encoding is UTF-8.
    pub fn new(mut out: W, encoding: &'static Encoding, add_bom: bool) -> io::Result<Self> {
        if add_bom && encoding == encoding_rs::UTF_8 {
            out.write_all(UTF8_BOM)?;
        }
        let encoder =
            (encoding.output_encoding() != encoding_rs::UTF_8).then(|| encoding.new_encoder());
        Ok(TextEncoder {
            out,
            encoder,
            encoded: Vec::new(),
        })
    }

    pub fn write_str(&mut self, text: &str) -> io::Result<()> {
        self.encode(text, false)
    }

    /// The writer, once the encoder's last bytes are written to it.
    pub fn finish(mut self) -> io::Result<W> {
        self.encode("", true)?;
        Ok(self.out)
    }

    fn encode(&mut self, text: &str, last: bool) -> io::Result<()> {
        let Some(encoder) = &mut self.encoder else {
            return self.out.write_all(text.as_bytes());
        };
        let mut rest = text;
        loop {
            self.encoded.clear();
            // Room for the text without unmappable characters; they ask for more rounds.
            let room = encoder
                .max_buffer_length_from_utf8_if_no_unmappables(rest.len())
                .unwrap_or(rest.len());
            self.encoded.reserve(room + 16);
            let (result, read, _) = encoder.encode_from_utf8_to_vec(rest, &mut self.encoded, last);
            self.out.write_all(&self.encoded)?;
            rest = &rest[read..];
            if result == encoding_rs::CoderResult::InputEmpty {
                return Ok(());
            }
        }
    }
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

    #[test]
    fn text_encoded_in_pieces_equals_the_whole_text_encoded() {
        let pieces = [
            "plain ",
            "caf\u{e9} ",
            "\u{65e5}\u{672c} ",
            "\u{1f600}",
            " end",
        ];
        let whole: String = pieces.concat();
        for name in ["utf8", "latin1", "iso-2022-jp", "shift_jis", "utf-16le"] {
            let encoding = by_name(name, "e").unwrap();
            for bom in [false, true] {
                let mut encoder = TextEncoder::new(Vec::new(), encoding, bom).unwrap();
                for piece in pieces {
                    encoder.write_str(piece).unwrap();
                }
                let streamed = encoder.finish().unwrap();
                let (expected, _, _) = encoding.encode(&whole);
                let mut expected = expected.into_owned();
                if bom && encoding == encoding_rs::UTF_8 {
                    expected.splice(0..0, UTF8_BOM.iter().copied());
                }
                assert_eq!(streamed, expected, "{name}, bom {bom}");
            }
        }
    }
}
