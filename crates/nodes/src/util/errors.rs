//! Messages for errors from libraries (HTTP clients, I/O) that keep the useful part in their
//! causes.

use std::error::Error;

/// An error with its causes (`error sending request: Connection refused`), each cause once.
pub(crate) fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let message = e.to_string();
        if !text.contains(&message) {
            text = format!("{text}: {message}");
        }
        cause = e.source();
    }
    text
}
