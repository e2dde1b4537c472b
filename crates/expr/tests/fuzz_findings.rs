//! Inputs the `expression` fuzz target in `fuzz/` found, kept as regression tests: each is
//! answered (a value or an error) quickly, without a panic.
mod common;
use common::*;
use sluice_expr::Template;
use std::time::{Duration, Instant};

fn answered_quickly(source: &str) {
    let started = Instant::now();
    if let Ok(template) = Template::parse(source) {
        let _ = template.evaluate(&TestScope::new(sample()));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "{source:?} took {took:?}");
}

#[test]
fn a_garbled_template_with_nested_braces_is_answered_quickly() {
    answered_quickly("{{ IS $toda.{{{{ {a\\: 5{b: 1}}1ytoISO }\0}( }}z)");
}

#[test]
fn a_number_followed_by_a_non_ascii_letter_is_a_syntax_error() {
    answered_quickly("{{n={{ [[,21,[3\u{51b}ll]],undul $to\0\u{14}O()l]],] } }}");
    let error = Template::parse("{{ 3\u{51b} }}").unwrap_err().to_string();
    assert!(error.contains("invalid number '3\u{51b}'"), "{error}");
}
