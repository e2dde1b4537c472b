//! Text placed in HTML (an element's content or a double-quoted attribute) is escaped the same
//! way by every node that writes HTML.

/// `text` with `&`, `<`, `>` and `"` escaped.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
