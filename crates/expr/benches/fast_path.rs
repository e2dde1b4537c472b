//! `cargo bench -p sluice-expr`: ns per item for common expressions over 1,000,000 items.

#[path = "../tests/common/mod.rs"]
mod common;

use serde_json::json;
use sluice_expr::Template;
use std::time::Instant;

const ITEMS: usize = 1_000_000;

fn bench(name: &str, src: &str) {
    // `cargo bench -p sluice-expr -- WORD` runs only the expressions containing WORD.
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        if !name.contains(&filter) {
            return;
        }
    }
    let template = Template::parse(src).expect("parse");
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
    for i in 0..ITEMS {
        scope.index = i % 1000;
        if template.evaluate(&scope).expect("evaluate").as_bool() == Some(true) {
            truthy += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / ITEMS as f64;
    println!("{name:<40} {ns:>8.1} ns/item   ({truthy} true)");
}

fn main() {
    bench("baseline: constant 1", "{{ 1 }}");
    bench("$json.amount > 100", "{{ $json.amount > 100 }}");
    bench("$json.name", "{{ $json.name }}");
    bench("text + $json.name", "Hello {{ $json.name }}!");
    bench("$json.name.toUpperCase()", "{{ $json.name.toUpperCase() }}");
    bench(
        "$json.tags.map(t => t + 1).join()",
        "{{ $json.tags.map(t => t + 1).join() }}",
    );
}
