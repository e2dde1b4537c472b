//! The differential check as a fuzz target: any template the native evaluator runs must give
//! the value QuickJS (real JavaScript) gives, on the expression tests' scope. Templates whose
//! value depends on the clock or on chance are skipped; so are those either side rejects (the
//! `expression` target covers errors).
#![no_main]

#[path = "../../crates/expr/tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use sluice_expr::{Engine, Template};

/// Names whose value differs between two evaluations by design.
const NONDETERMINISTIC: [&str; 5] = ["random", "now", "today", "Date", "uuid"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if NONDETERMINISTIC.iter().any(|name| text.contains(name)) {
        return;
    }
    let (Ok(native), Ok(quickjs)) = (
        Template::parse(text),
        Template::parse_with(text, Engine::QuickJs),
    ) else {
        return;
    };
    let scope = common::TestScope::new(common::sample());
    if let (Ok(n), Ok(q)) = (native.evaluate(&scope), quickjs.evaluate(&scope)) {
        assert!(common::same(&n, &q), "{text:?}: native {n}, QuickJS {q}");
    }
});
