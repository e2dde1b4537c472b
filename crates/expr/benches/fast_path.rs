//! `cargo bench -p sluice-expr`: ns per item for common expressions over 1,000,000 items on the
//! native evaluator (as a field value, and `$json.amount > 100` also as an IF condition reads
//! it), and `$json.amount > 100` forced through QuickJS beside it (100,000 items)
//! with the ratio between the two.

#[path = "../tests/common/mod.rs"]
mod common;

use serde_json::json;
use sluice_expr::{Engine, Template};
use std::time::Instant;

const ITEMS: usize = 1_000_000;

/// How a benchmark reads the template's result.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// `evaluate`: the JSON value a field gets.
    Value,
    /// `evaluate_truthy`: the boolean an IF or Filter condition needs, no JSON value built.
    Condition,
}

/// Evaluate `src` over `items` items with `engine`; prints and returns ns per item (`None` when
/// filtered out: `cargo bench -p sluice-expr -- WORD` runs only the names containing WORD).
fn bench(name: &str, src: &str, engine: Engine, items: usize, read: Read) -> Option<f64> {
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        if !name.contains(&filter) {
            return None;
        }
    }
    let template = Template::parse_with(src, engine).expect("parse");
    let mut scope = common::TestScope::new(json!({}));
    scope.input = (0..1000)
        .map(|i| {
            common::item(
                json!({"amount": i as f64 * 0.25, "name": format!("user {i}"), "tags": ["a", "b"]}),
            )
        })
        .collect();
    let mut truthy = 0usize;
    let start = Instant::now();
    for i in 0..items {
        scope.index = i % 1000;
        let true_ = match read {
            Read::Value => template.evaluate(&scope).expect("evaluate").as_bool() == Some(true),
            Read::Condition => template.evaluate_truthy(&scope).expect("evaluate"),
        };
        if true_ {
            truthy += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / items as f64;
    println!("{name:<44} {ns:>9.1} ns/item   ({truthy} true of {items})");
    Some(ns)
}

fn native(name: &str, src: &str) -> Option<f64> {
    bench(name, src, Engine::Native, ITEMS, Read::Value)
}

fn main() {
    native("baseline: constant 1", "{{ 1 }}");
    let fast = native("$json.amount > 100", "{{ $json.amount > 100 }}");
    let quickjs = bench(
        "$json.amount > 100 (forced through QuickJS)",
        "{{ $json.amount > 100 }}",
        Engine::QuickJs,
        ITEMS / 10,
        Read::Value,
    );
    bench(
        "$json.amount > 100 as a condition",
        "{{ $json.amount > 100 }}",
        Engine::Native,
        ITEMS,
        Read::Condition,
    );
    if let (Some(fast), Some(quickjs)) = (fast, quickjs) {
        println!(
            "native fast path is {:.0}x faster than QuickJS",
            quickjs / fast
        );
    }
    native("$json.name", "{{ $json.name }}");
    native("text + $json.name", "Hello {{ $json.name }}!");
    native("$json.name.toUpperCase()", "{{ $json.name.toUpperCase() }}");
    native(
        "$json.tags.map(t => t + 1).join()",
        "{{ $json.tags.map(t => t + 1).join() }}",
    );
}
