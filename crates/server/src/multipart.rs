//! `multipart/form-data` request bodies (RFC 7578) for webhooks: the body is already read in
//! full within the payload limit, so the parts are slices of it. Text fields become the trigger
//! item's `body`, files its binary properties.

/// One part of a form.
#[derive(Debug, PartialEq)]
pub struct Part<'a> {
    /// The form field's name.
    pub name: String,
    /// Set for file uploads.
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// The parts of `body`, or what is wrong with it.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at =
        find(body, delimiter, 0).ok_or("no multipart boundary in the body")? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        at = skip_line_end(body, at);
        let headers_end =
            find(body, b"\r\n\r\n", at).ok_or("a multipart part has no end of headers")?;
        let headers = std::str::from_utf8(&body[at..headers_end])
            .map_err(|_| "multipart part headers are not UTF-8")?;
        let data_start = headers_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let data_end = find(body, &closing, data_start).ok_or("a multipart part is not closed")?;
        parts.push(part(headers, &body[data_start..data_end])?);
        at = data_end + closing.len();
    }
}

fn part<'a>(headers: &str, data: &'a [u8]) -> Result<Part<'a>, String> {
    let mut name = None;
    let mut file_name = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_string());
        } else if key.trim().eq_ignore_ascii_case("content-disposition") {
            for param in value.split(';').skip(1) {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_string();
                match key.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(value),
                    "filename" => file_name = Some(value),
                    _ => {}
                }
            }
        }
    }
    Ok(Part {
        name: name.ok_or("a multipart part has no field name")?,
        file_name,
        content_type,
        data,
    })
}

fn skip_line_end(body: &[u8], at: usize) -> usize {
    if body[at..].starts_with(b"\r\n") {
        at + 2
    } else {
        at
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_files() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--xyz\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nid\r\n1\r\n--xyz--\r\n";
        let parts = parse(body, "xyz").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].data),
            ("title", &b"hello"[..])
        );
        assert_eq!(parts[1].file_name.as_deref(), Some("a.csv"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(parts[1].data, b"id\r\n1");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"xyz\""),
            Some("xyz".into())
        );
    }

    #[test]
    fn broken_bodies_are_errors() {
        assert!(parse(b"nothing", "xyz").is_err());
        assert!(parse(
            b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nopen",
            "xyz"
        )
        .is_err());
    }
}
