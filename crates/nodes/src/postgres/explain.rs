//! `options.explain`: instead of the rows, the plan Postgres chose and what running it cost
//! (`EXPLAIN (ANALYZE, FORMAT JSON)`), one item per statement. The statement really runs, as
//! with `EXPLAIN ANALYZE` in psql. The plans are also read for the profile: a sequential scan
//! that reads a large table becomes a hint naming the table and its filter.

use sluice_model::{ItemJson, Value};

/// The statement wrapped in `EXPLAIN (ANALYZE, FORMAT JSON)`.
pub(super) fn wrap(sql: &str) -> String {
    format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
}

/// From how many rows read a sequential scan is worth a hint.
const LARGE_SCAN_ROWS: f64 = 10_000.0;

/// Hints for the sequential scans of large tables in an explained item (`{"QUERY PLAN": [...]}`).
pub(super) fn scan_hints(item: &ItemJson) -> Vec<String> {
    let mut hints = Vec::new();
    if let Some(Value::Array(plans)) = item.get("QUERY PLAN") {
        for plan in plans {
            if let Some(root) = plan.get("Plan") {
                collect_scan_hints(root, &mut hints);
            }
        }
    }
    hints
}

fn collect_scan_hints(node: &Value, hints: &mut Vec<String>) {
    let number = |key: &str| node.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan") {
        let loops = number("Actual Loops").max(1.0);
        let returned = number("Actual Rows") * loops;
        let read = returned + number("Rows Removed by Filter") * loops;
        if read >= LARGE_SCAN_ROWS {
            let table = node
                .get("Relation Name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let advice = match node.get("Filter").and_then(Value::as_str) {
                Some(filter) => {
                    format!("filter {filter}: an index on the filtered columns would avoid it")
                }
                None => "no filter: every row was wanted, or a LIMIT/WHERE is missing".into(),
            };
            hints.push(format!(
                "sequential scan of table {table} read {read} rows to return {returned}; {advice}"
            ));
        }
    }
    if let Some(Value::Array(children)) = node.get("Plans") {
        for child in children {
            collect_scan_hints(child, hints);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(plan: serde_json::Value) -> ItemJson {
        serde_json::from_value(json!({"QUERY PLAN": [{"Plan": plan}]})).unwrap()
    }

    #[test]
    fn a_large_filtered_sequential_scan_is_a_hint() {
        let hints = scan_hints(&item(json!({
            "Node Type": "Limit", "Actual Rows": 1, "Actual Loops": 1,
            "Plans": [{"Node Type": "Seq Scan", "Relation Name": "orders",
                       "Filter": "(customer_id = 7)", "Actual Rows": 3, "Actual Loops": 1,
                       "Rows Removed by Filter": 49997}]
        })));
        assert_eq!(
            hints,
            vec![
                "sequential scan of table orders read 50000 rows to return 3; filter \
                  (customer_id = 7): an index on the filtered columns would avoid it"
            ]
        );
        let small = scan_hints(&item(json!({
            "Node Type": "Seq Scan", "Relation Name": "t", "Actual Rows": 10, "Actual Loops": 1
        })));
        assert!(small.is_empty());
    }
}
