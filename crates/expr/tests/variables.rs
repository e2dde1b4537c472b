//! n8n variables read through the Scope.
mod common;
use common::*;
use serde_json::json;
use sluice_expr::{Engine, Template};

#[test]
fn current_item_variables() {
    check(&[
        ("$json.name", json!("Alice Smith")),
        ("$data.amount", json!(150)),
        ("$json['nested']['deep'].value", json!(1)),
        ("$json.tags[1]", json!("b")),
        ("$json.tags.length", json!(3)),
        ("$binary", json!({})),
        ("$input.item.json.amount", json!(150)),
        ("$input.first().json.amount", json!(150)),
        ("$input.last().json.second", json!(true)),
        ("$input.all().length", json!(2)),
        ("$input.all().map(i => i.json.amount)", json!([150, null])),
        ("$input.item", json!({"json": sample()})),
        ("$itemIndex", json!(0)),
        ("$position", json!(0)),
        ("$runIndex", json!(2)),
        ("$input.params.url", json!("https://x.test")),
    ]);
}

#[test]
fn other_nodes() {
    check(&[
        ("$('Webhook').item.json.body.name", json!("Ann")),
        ("$('Webhook').first().json.body.id", json!(7)),
        ("$('Webhook').last().json.body.id", json!(8)),
        ("$('Webhook').all().length", json!(2)),
        ("$('Webhook').all(1).length", json!(0)),
        ("$('Webhook').isExecuted", json!(true)),
        ("$('Empty').isExecuted", json!(false)),
        ("$('Empty').first()", json!(null)),
        ("$('Webhook').itemMatching(0).json.body.name", json!("Ann")),
        ("$('Webhook').params.path", json!("hook")),
        ("$node['Webhook'].json.body.name", json!("Ann")),
        ("$node.Webhook.json.body.id", json!(7)),
        ("$node[\"Webhook\"].parameter.httpMethod", json!("POST")),
        ("$node[\"Webhook\"].data[\"body\"][\"name\"]", json!("Ann")),
        ("$items('Webhook').length", json!(2)),
        ("$items('Webhook')[1].json.body.name", json!("Bob")),
        ("$items().length", json!(2)),
    ]);
    let mut scope = TestScope::new(sample());
    scope.index = 1;
    assert_eq!(
        eval_in(&scope, "{{ $('Webhook').item.json.body.name }}"),
        json!("Bob")
    );
    assert_eq!(
        eval_in(&scope, "{{ $node['Webhook'].json.body.name }}"),
        json!("Bob")
    );
    assert_eq!(eval_in(&scope, "{{ $json.second }}"), json!(true));
}

#[test]
fn workflow_and_execution() {
    check(&[
        ("$workflow.id", json!("wf1")),
        ("$workflow.name", json!("My flow")),
        ("$workflow.active", json!(true)),
        ("$execution.id", json!("ex9")),
        ("$execution.mode", json!("test")),
        ("$execution.resumeUrl", json!("http://r")),
        ("$prevNode.name", json!("Prev")),
        ("$prevNode.runIndex", json!(1)),
        ("$vars.region", json!("eu")),
        ("$parameter.value", json!(42)),
        ("$parameter['mode']", json!("fast")),
    ]);
}

#[test]
fn env_access() {
    let e = eval_err("{{ $env.HOME }}");
    assert_eq!(e.to_string(), "access to env vars denied");
    let mut scope = TestScope::new(sample());
    scope.allow_env = true;
    assert_eq!(eval_in(&scope, "{{ $env.HOME }}"), json!("/home/test"));
    assert_eq!(eval_in(&scope, "{{ $env.NOPE }}"), json!(null));
}

#[test]
fn helper_functions() {
    check(&[
        ("$if($json.amount > 100, 'big', 'small')", json!("big")),
        ("$if(false, $json.missing.x.y, 'safe')", json!("safe")),
        ("$ifEmpty($json.empty, 'default')", json!("default")),
        ("$ifEmpty($json.missing, 'default')", json!("default")),
        ("$ifEmpty([], 'd')", json!("d")),
        ("$ifEmpty({}, 'd')", json!("d")),
        ("$ifEmpty($json.zero, 'd')", json!(0)),
        ("$min(4, 2, 8)", json!(2)),
        ("$max(4, 2, 8)", json!(8)),
        ("$average(2, 4)", json!(3)),
        ("$not(false)", json!(true)),
        ("$jmespath($json, 'people[*].name')", json!(["Zed", "Amy"])),
        ("$jmespath($json.people, '[0].age')", json!(30)),
    ]);
}

#[test]
fn dates_from_scope() {
    check(&[
        ("$now.toISO()", json!("2024-01-15T10:30:00.000+00:00")),
        ("$now", json!("2024-01-15T10:30:00.000+00:00")),
        ("$today.toISO()", json!("2024-01-15T00:00:00.000+00:00")),
        ("$now.year", json!(2024)),
        ("$now.toMillis()", json!(1705314600000i64)),
        ("Date.now()", json!(1705314600000i64)),
    ]);
    let mut scope = TestScope::new(sample());
    scope.timezone = "America/New_York".into();
    assert_eq!(
        eval_in(&scope, "{{ $now.toISO() }}"),
        json!("2024-01-15T05:30:00.000-05:00")
    );
    assert_eq!(
        eval_in(&scope, "{{ $today.toISO() }}"),
        json!("2024-01-15T00:00:00.000-05:00")
    );
    assert_eq!(
        eval_in(&scope, "now: {{ $now }}"),
        json!("now: 2024-01-15T05:30:00.000-05:00")
    );
}

#[test]
fn evaluates_many_items_with_one_parse() {
    let t = Template::parse("{{ $json.n * 2 }}").unwrap();
    for n in 0..5 {
        let scope = TestScope::new(json!({ "n": n }));
        assert_eq!(t.evaluate(&scope).unwrap(), json!(n * 2));
    }
    let cond = Template::parse("{{ $json.amount > 100 }}").unwrap();
    assert!(cond.evaluate_truthy(&TestScope::new(sample())).unwrap());
}

/// A template that is only a `$json` path is read straight from the item; what it gives must be
/// what the evaluator gives: values of every type, missing keys, and paths that leave plain
/// objects (through arrays, strings, null).
#[test]
fn lone_json_paths_read_like_the_evaluator() {
    check(&[
        ("$json.amount", json!(150)),
        ("$json.name", json!("Alice Smith")),
        ("$json.nested", json!({"deep": {"value": 1}})),
        ("$json.nested.deep.value", json!(1)),
        ("$json.tags", json!(["a", "b", "c"])),
        ("$json.contact", json!(null)),
        ("$json.zero", json!(0)),
        ("$json.missing", json!(null)),
        ("$json.missing.deeper", json!(null)),
        ("$json.tags.length", json!(3)),
        ("$json.name.length", json!(11)),
        ("$json.contact.name", json!(null)),
    ]);
    for (path, truthy) in [
        ("$json.amount", true),
        ("$json.zero", false),
        ("$json.empty", false),
        ("$json.missing", false),
        ("$json.nested", true),
    ] {
        let template = Template::parse(&format!("{{{{ {path} }}}}")).unwrap();
        let scope = TestScope::new(sample());
        assert_eq!(template.evaluate_truthy(&scope).unwrap(), truthy, "{path}");
    }
}

/// `$node['X'].data`, the older name of `.json` that old templates use, on either engine; `$('X')`
/// has no `data`.
#[test]
fn legacy_node_data_is_its_json_on_both_engines() {
    let scope = TestScope::new(sample());
    for engine in [Engine::Native, Engine::QuickJs] {
        let eval = |src: &str| {
            Template::parse_with(src, engine)
                .unwrap()
                .evaluate(&scope)
                .unwrap()
        };
        assert_eq!(
            eval("{{ $node[\"Webhook\"].data[\"body\"].name.toUpperCase() }}"),
            json!("ANN"),
            "{engine:?}"
        );
        assert_eq!(
            eval("{{ $('Webhook').data === undefined }}"),
            json!(true),
            "{engine:?}"
        );
    }
}
