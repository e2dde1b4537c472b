//! Inputs the fuzz targets in `fuzz/` found, kept as regression tests: each must be answered
//! (a value or an error), quickly, without a panic.

use chrono::{TimeZone, Utc};
use serde_json::json;
use sluice_model::NodeDef;
use sluice_nodes::trigger::schedule::schedule_rules;
use std::time::{Duration, Instant};

/// The next tick of each rule of a `node_type` node with `parameters`, each within a second.
fn next_ticks(
    node_type: &str,
    parameters: serde_json::Value,
) -> Vec<Result<Option<String>, String>> {
    let def: NodeDef = serde_json::from_value(json!({"name": "S", "type": node_type,
        "typeVersion": 1, "position": [0, 0], "parameters": parameters}))
    .unwrap();
    let after = Utc.with_ymd_and_hms(2025, 3, 30, 0, 59, 59).unwrap();
    let rules = schedule_rules(&def).map_err(|e| e.to_string());
    rules
        .unwrap()
        .into_iter()
        .map(|rule| {
            let started = Instant::now();
            let next = sluice_server::fuzzing::next_time(&rule.timing, chrono_tz::UTC, after);
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{rule:?} took {:?}",
                started.elapsed()
            );
            next.map(|at| at.map(|at| at.to_rfc3339()))
        })
        .collect()
}

#[test]
fn a_cron_rule_that_never_matches_is_answered_at_once() {
    let ticks = next_ticks(
        "n8n-nodes-base.cron",
        json!({"triggerTimes": {"item": [
        {"mod e": "everyWeek", "hour": 14, "minute": 130, "weekday": "4"},
        {"mode": "custom", "cronExpression": ", * * * * *"}]}}),
    );
    assert!(ticks.iter().all(Result::is_err), "{ticks:?}");
    assert!(
        ticks[1]
            .as_ref()
            .unwrap_err()
            .contains("empty list element"),
        "{ticks:?}"
    );
}
