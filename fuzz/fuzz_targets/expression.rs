//! The expression parser and evaluator on any template text, against the expression tests'
//! scope: a value or an error, never a panic or overflow. Code outside the native subset runs in
//! QuickJS, as it does in workflows.
#![no_main]

#[path = "../../crates/expr/tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = sluice_expr::Template::parse(text) {
        let _ = template.evaluate(&common::TestScope::new(common::sample()));
    }
});
