//! Schedule and cron rules on any node parameters: the rules read from a Schedule Trigger (or
//! legacy Cron / Interval) node, then their next tick computed as the scheduler does, in a time
//! zone chosen by the first byte. Rules or an error naming the parameter, never a panic or hang.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use sluice_model::NodeDef;
use sluice_nodes::trigger::schedule::schedule_rules;

const NODES: [(&str, f64); 4] = [
    ("n8n-nodes-base.scheduleTrigger", 1.2),
    ("n8n-nodes-base.scheduleTrigger", 1.0),
    ("n8n-nodes-base.cron", 1.0),
    ("n8n-nodes-base.interval", 1.0),
];

const ZONES: [chrono_tz::Tz; 4] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Australia::Lord_Howe,
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(parameters) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let (node_type, version) = NODES[choice as usize % NODES.len()];
    let Ok(def) = serde_json::from_value::<NodeDef>(json!({
        "name": "Schedule", "type": node_type, "typeVersion": version, "position": [0, 0],
        "parameters": parameters}))
    else {
        return;
    };
    let Ok(rules) = schedule_rules(&def) else {
        return;
    };
    let tz = ZONES[(choice as usize / NODES.len()) % ZONES.len()];
    let after = Utc.with_ymd_and_hms(2025, 3, 30, 0, 59, 59).unwrap();
    for rule in rules {
        let _ = sluice_server::fuzzing::next_time(&rule.timing, tz, after);
    }
});
