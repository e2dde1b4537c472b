//! What `sluice profile` suggests after reading a profile next to its workflow: the slowest node,
//! HTTP calls made one after another, database writes made item by item, a filter that throws
//! away most of what a query fetched, Loop Over Items with batch size 1, a Code node an
//! expression or a built-in node could replace, and fields no later node reads. Each hint is a
//! heuristic over the node types, parameters and the measured runs; none changes anything.

use super::{NodeReport, Report};
use serde_json::Value;

/// A suggestion, about one node or the whole run.
#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    /// Which check produced it (`slowest-node`, `sequential-http`, ...).
    pub kind: &'static str,
    pub node: String,
    pub message: String,
}

/// Fewer items than this are not worth a hint about filtering or unused fields.
const MANY_ITEMS: u64 = 100;
/// At least this many requests (or rows) make a pattern worth naming.
const MANY_CALLS: u64 = 5;

/// The workflow's nodes and connections, as far as the hints need them.
struct Graph<'a> {
    nodes: Vec<&'a Value>,
    connections: &'a Value,
}

impl<'a> Graph<'a> {
    fn new(workflow: &'a Value) -> Graph<'a> {
        Graph {
            nodes: workflow["nodes"]
                .as_array()
                .map(|n| n.iter().collect())
                .unwrap_or_default(),
            connections: &workflow["connections"],
        }
    }

    fn node(&self, name: &str) -> Option<&'a Value> {
        self.nodes.iter().copied().find(|n| n["name"] == name)
    }

    /// The node's type without the package (`httpRequest`, `postgres`, ...).
    fn kind(&self, name: &str) -> &'a str {
        self.node(name)
            .and_then(|n| n["type"].as_str())
            .map_or("", |t| t.rsplit('.').next().unwrap_or(t))
    }

    fn param(&self, name: &str, path: &str) -> &'a Value {
        self.node(name)
            .and_then(|n| n["parameters"].pointer(path))
            .unwrap_or(&Value::Null)
    }

    /// The nodes `name`'s outputs connect to.
    fn children(&self, name: &str) -> Vec<&'a str> {
        let outputs = self.connections[name]["main"]
            .as_array()
            .into_iter()
            .flatten();
        let targets = outputs.filter_map(Value::as_array).flatten();
        targets.filter_map(|t| t["node"].as_str()).collect()
    }

    fn parents(&self, name: &str) -> Vec<&'a str> {
        self.nodes
            .iter()
            .filter_map(|n| n["name"].as_str())
            .filter(|parent| self.children(parent).contains(&name))
            .collect()
    }

    /// Every node downstream of `name`.
    fn descendants(&self, name: &str) -> Vec<&'a str> {
        let mut seen: Vec<&str> = Vec::new();
        let mut todo = self.children(name);
        while let Some(next) = todo.pop() {
            if !seen.contains(&next) {
                seen.push(next);
                todo.extend(self.children(next));
            }
        }
        seen
    }
}

/// The hints for `report`; those that need node types and parameters only with `workflow`.
pub fn find(report: &Report, workflow: Option<&Value>) -> Vec<Hint> {
    let mut hints = slowest_node(report).into_iter().collect::<Vec<_>>();
    let Some(workflow) = workflow else {
        return hints;
    };
    let graph = Graph::new(workflow);
    for node in &report.nodes {
        let checks = [
            sequential_http(&graph, node),
            per_item_writes(&graph, node),
            filter_after_fetch(&graph, report, node),
            batch_size_one(&graph, node),
            replaceable_code(&graph, node),
            unused_fields(&graph, node),
        ];
        hints.extend(checks.into_iter().flatten());
    }
    hints
}

fn hint(kind: &'static str, node: &NodeReport, message: String) -> Option<Hint> {
    Some(Hint {
        kind,
        node: node.name.clone(),
        message,
    })
}

fn slowest_node(report: &Report) -> Option<Hint> {
    let slowest = report.nodes.iter().max_by_key(|n| n.total_ns())?;
    let share = report.share(slowest);
    hint(
        "slowest-node",
        slowest,
        format!(
            "the slowest node: {} of {} in nodes ({share:.0}%)",
            super::format_ns(slowest.total_ns()),
            super::format_ns(report.engine_ns())
        ),
    )
}

fn sequential_http(graph: &Graph, node: &NodeReport) -> Option<Hint> {
    if graph.kind(&node.name) != "httpRequest" {
        return None;
    }
    let requests = node.counter("requests");
    if requests < MANY_CALLS {
        return None;
    }
    let one_per_run =
        node.runs.len() as u64 >= MANY_CALLS && node.items_in() <= node.runs.len() as u64;
    if one_per_run {
        return hint(
            "sequential-http",
            node,
            format!(
                "{requests} requests in {} runs of one item each, so one after another: send \
                 the items to one run and options.maxConcurrency overlaps them",
                node.runs.len()
            ),
        );
    }
    let max_concurrency = graph.param(&node.name, "/options/maxConcurrency").as_u64();
    let batch_size = graph
        .param(&node.name, "/options/batching/batch/batchSize")
        .as_u64();
    if max_concurrency == Some(1) || batch_size == Some(1) {
        return hint(
            "sequential-http",
            node,
            format!(
                "{requests} requests sent one at a time (options.maxConcurrency or batching of \
                 1): raise it to overlap them"
            ),
        );
    }
    None
}

/// True for SQL that changes rows.
fn is_write(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["insert", "update", "delete"].contains(&first.to_ascii_lowercase().as_str())
}

fn per_item_writes(graph: &Graph, node: &NodeReport) -> Option<Hint> {
    if graph.kind(&node.name) != "postgres" {
        return None;
    }
    let operation = graph
        .param(&node.name, "/operation")
        .as_str()
        .unwrap_or("insert");
    let query = graph.param(&node.name, "/query").as_str().unwrap_or("");
    if operation == "executeQuery" && is_write(query) && node.items_in() >= MANY_CALLS {
        return hint(
            "per-item-writes",
            node,
            format!(
                "one write statement per item ({} items): the insert, upsert or update \
                 operation writes them in bulk, one statement per chunk",
                node.items_in()
            ),
        );
    }
    let writes = ["insert", "upsert", "update"].contains(&operation);
    if writes && node.runs.len() as u64 >= MANY_CALLS && node.items_in() <= node.runs.len() as u64 {
        return hint(
            "per-item-writes",
            node,
            format!(
                "{} runs of one row each: give it all the items in one run (take it out of the \
                 loop) and they go as one statement",
                node.runs.len()
            ),
        );
    }
    None
}

fn filter_after_fetch(graph: &Graph, report: &Report, node: &NodeReport) -> Option<Hint> {
    if graph.kind(&node.name) != "filter" {
        return None;
    }
    let kept: u64 = node.runs.iter().map(|r| r.first_output_items).sum();
    let items_in = node.items_in();
    if items_in < MANY_ITEMS || kept * 2 > items_in {
        return None;
    }
    let fetcher = graph.parents(&node.name).into_iter().find(|parent| {
        let fetched = report.nodes.iter().find(|n| n.name == *parent);
        let big = fetched.is_some_and(|n| n.items_out() >= items_in);
        big && ["postgres", "httpRequest"].contains(&graph.kind(parent))
    })?;
    let place = match graph.kind(fetcher) {
        "postgres" => "a WHERE clause of its query",
        _ => "the API's query parameters, if it has them",
    };
    hint(
        "filter-after-fetch",
        node,
        format!(
            "keeps {kept} of the {items_in} items '{fetcher}' fetched: filter in {place} \
             instead of fetching everything"
        ),
    )
}

fn batch_size_one(graph: &Graph, node: &NodeReport) -> Option<Hint> {
    if graph.kind(&node.name) != "splitInBatches" {
        return None;
    }
    let version = graph.node(&node.name)?["typeVersion"]
        .as_f64()
        .unwrap_or(1.0);
    let default = if version >= 3.0 { 1 } else { 10 };
    let size = graph
        .param(&node.name, "/batchSize")
        .as_u64()
        .unwrap_or(default);
    (size == 1 && node.runs.len() > 2).then_some(())?;
    hint(
        "batch-size-one",
        node,
        format!(
            "batch size 1: the loop ran {} times, once per item; a larger batch (or no loop: \
             most nodes take all items at once) saves a pass through the loop per item",
            node.runs.len()
        ),
    )
}

/// JavaScript that does more than build one object from the item: loops, functions, awaits.
fn is_program(code: &str) -> bool {
    let words = [
        "for", "while", "function", "=>", "await", "$http", "helpers", "try",
    ];
    words.iter().any(|w| code.contains(w))
}

fn replaceable_code(graph: &Graph, node: &NodeReport) -> Option<Hint> {
    if !["code", "function", "functionItem"].contains(&graph.kind(&node.name)) {
        return None;
    }
    let code = ["/jsCode", "/functionCode"]
        .iter()
        .find_map(|p| graph.param(&node.name, p).as_str())?;
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let per_item = graph.param(&node.name, "/mode") == "runOnceForEachItem"
        || graph.kind(&node.name) == "functionItem";
    let suggestion = if per_item && !is_program(&code) && code.lines().count() <= 8 {
        "it builds each item from the item's own fields: an Edit Fields (Set) node with \
         expressions does that without a JavaScript runtime"
    } else if !per_item && code.contains(".filter(") && code.lines().count() <= 4 {
        "it filters the items: a Filter node does that without a JavaScript runtime"
    } else if !per_item && code.contains(".sort(") && code.lines().count() <= 4 {
        "it sorts the items: a Sort node does that without a JavaScript runtime"
    } else {
        return None;
    };
    hint(
        "code-to-expression",
        node,
        format!(
            "{suggestion} ({} for {} items)",
            super::format_ns(node.total_ns()),
            node.items_in()
        ),
    )
}

/// Whether a node reads whole items (every field counts as read): bulk writes that map every
/// field to a column, aggregations, code, responses of the whole item, expressions on `$json`
/// as a whole.
fn reads_whole_items(graph: &Graph, name: &str) -> bool {
    let params = graph
        .node(name)
        .map(|n| n["parameters"].to_string())
        .unwrap_or_default();
    let whole_json = params
        .match_indices("$json")
        .any(|(at, m)| !params[at + m.len()..].starts_with(['.', '[']));
    whole_json
        || [
            "code",
            "function",
            "functionItem",
            "aggregate",
            "merge",
            "itemLists",
        ]
        .contains(&graph.kind(name))
        || params.contains("autoMapInputData")
        || params.contains("allIncomingItems")
        || params.contains("firstIncomingItem")
        || params.contains("\"include\":\"allOtherFields\"")
}

/// Whether `text` names `field` as a whole word (`$json.field`, `['field']`, `"field"`).
fn mentions(text: &str, field: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(field).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + field.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

fn unused_fields(graph: &Graph, node: &NodeReport) -> Option<Hint> {
    if node.items_out() < MANY_ITEMS {
        return None;
    }
    let later = graph.descendants(&node.name);
    if later.is_empty() || later.iter().any(|n| reads_whole_items(graph, n)) {
        return None;
    }
    // Nodes that pass items through untouched (IF, Filter, Limit, ...) keep the fields alive
    // for the nodes after them, which are among the descendants already.
    let read_by_later: String = later
        .iter()
        .filter_map(|n| graph.node(n).map(|n| n["parameters"].to_string()))
        .collect();
    let fields = node.runs.first()?.output_fields.iter();
    let unused: Vec<&str> = fields
        .filter(|f| !mentions(&read_by_later, f))
        .map(String::as_str)
        .collect();
    if unused.is_empty() {
        return None;
    }
    let shown = unused
        .iter()
        .take(8)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = unused.len().saturating_sub(8);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    hint(
        "unused-fields",
        node,
        format!(
            "{} items carry fields no later node reads ({shown}{more}): drop them here (the \
             query's column list, or an Edit Fields node keeping only what is used)",
            node.items_out()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::RunReport;
    use super::*;
    use serde_json::json;

    fn run(items_in: u64, items_out: u64, ms: u64) -> RunReport {
        RunReport {
            items_in,
            items_out,
            first_output_items: items_out,
            duration_ns: ms * 1_000_000,
            ..RunReport::default()
        }
    }

    fn report(nodes: Vec<(&str, Vec<RunReport>)>) -> Report {
        Report {
            nodes: nodes
                .into_iter()
                .map(|(name, runs)| NodeReport {
                    name: name.into(),
                    runs,
                })
                .collect(),
            total_ns: 1_000_000_000,
            execution_status: "success".into(),
        }
    }

    /// A chain of nodes `(name, type, parameters)`, each connected to the next.
    fn chain(nodes: &[(&str, &str, Value)]) -> Value {
        let mut connections = serde_json::Map::new();
        for pair in nodes.windows(2) {
            connections.insert(
                pair[0].0.into(),
                json!({"main": [[{"node": pair[1].0, "type": "main", "index": 0}]]}),
            );
        }
        json!({
            "nodes": nodes.iter().map(|(name, kind, parameters)| json!({
                "name": name, "type": format!("n8n-nodes-base.{kind}"), "typeVersion": 3,
                "parameters": parameters})).collect::<Vec<_>>(),
            "connections": connections,
        })
    }

    fn kinds(report: &Report, workflow: &Value) -> Vec<(&'static str, String)> {
        find(report, Some(workflow))
            .into_iter()
            .map(|h| (h.kind, h.node))
            .collect()
    }

    fn counted(mut run: RunReport, name: &str, n: u64) -> RunReport {
        run.counters.push((name.into(), n));
        run
    }

    #[test]
    fn the_slowest_node_and_its_share() {
        let report = report(vec![("A", vec![run(1, 1, 10)]), ("B", vec![run(1, 1, 30)])]);
        let hints = find(&report, None);
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].node, "B");
        assert_eq!(
            hints[0].message,
            "the slowest node: 30.0 ms of 40.0 ms in nodes (75%)"
        );
    }

    #[test]
    fn http_calls_one_per_run_or_with_concurrency_one_are_sequential() {
        let looped = report(vec![(
            "Call",
            (0..6)
                .map(|_| counted(run(1, 1, 5), "requests", 1))
                .collect(),
        )]);
        let wf = chain(&[("Call", "httpRequest", json!({"options": {}}))]);
        assert!(kinds(&looped, &wf).contains(&("sequential-http", "Call".into())));

        let one_run = report(vec![("Call", vec![counted(run(6, 6, 5), "requests", 6)])]);
        assert!(!kinds(&one_run, &wf)
            .iter()
            .any(|(k, _)| *k == "sequential-http"));
        let serial = chain(&[(
            "Call",
            "httpRequest",
            json!({"options": {"maxConcurrency": 1}}),
        )]);
        assert!(kinds(&one_run, &serial).contains(&("sequential-http", "Call".into())));
    }

    #[test]
    fn insert_statements_per_item_and_one_row_runs_are_per_item_writes() {
        let wf = chain(&[(
            "Save",
            "postgres",
            json!({"operation": "executeQuery", "query": "INSERT INTO t VALUES ($1)"}),
        )]);
        let many = report(vec![("Save", vec![run(20, 20, 5)])]);
        assert!(kinds(&many, &wf).contains(&("per-item-writes", "Save".into())));
        let select = chain(&[(
            "Save",
            "postgres",
            json!({"operation": "executeQuery", "query": "select 1"}),
        )]);
        assert!(!kinds(&many, &select)
            .iter()
            .any(|(k, _)| *k == "per-item-writes"));

        let bulk = chain(&[("Save", "postgres", json!({"operation": "insert"}))]);
        let looped = report(vec![("Save", (0..6).map(|_| run(1, 1, 5)).collect())]);
        assert!(kinds(&looped, &bulk).contains(&("per-item-writes", "Save".into())));
        assert!(!kinds(&many, &bulk)
            .iter()
            .any(|(k, _)| *k == "per-item-writes"));
    }

    #[test]
    fn a_filter_keeping_few_of_many_fetched_rows_belongs_in_sql() {
        let wf = chain(&[
            ("Fetch", "postgres", json!({"operation": "select"})),
            (
                "Pending",
                "filter",
                json!({"conditions": "={{ $json.status }}"}),
            ),
        ]);
        let narrow = report(vec![
            ("Fetch", vec![run(1, 1000, 5)]),
            ("Pending", vec![run(1000, 10, 1)]),
        ]);
        let found = find(&narrow, Some(&wf));
        let hint = found
            .iter()
            .find(|h| h.kind == "filter-after-fetch")
            .unwrap();
        assert_eq!(
            hint.message,
            "keeps 10 of the 1000 items 'Fetch' fetched: filter in a WHERE clause of its query \
             instead of fetching everything"
        );
        let wide = report(vec![
            ("Fetch", vec![run(1, 1000, 5)]),
            ("Pending", vec![run(1000, 900, 1)]),
        ]);
        assert!(!kinds(&wide, &wf)
            .iter()
            .any(|(k, _)| *k == "filter-after-fetch"));
    }

    #[test]
    fn loop_over_items_with_batch_size_one() {
        let wf = chain(&[(
            "Loop",
            "splitInBatches",
            json!({"batchSize": 1, "options": {}}),
        )]);
        let looped = report(vec![("Loop", (0..5).map(|_| run(1, 1, 1)).collect())]);
        assert!(kinds(&looped, &wf).contains(&("batch-size-one", "Loop".into())));
        let tens = chain(&[(
            "Loop",
            "splitInBatches",
            json!({"batchSize": 10, "options": {}}),
        )]);
        assert!(!kinds(&looped, &tens)
            .iter()
            .any(|(k, _)| *k == "batch-size-one"));
    }

    #[test]
    fn a_code_node_building_one_object_per_item_could_be_an_expression() {
        let simple = chain(&[(
            "Shape",
            "code",
            json!({"mode": "runOnceForEachItem",
                   "jsCode": "// rename\nreturn { json: { name: $json.first + ' ' + $json.last } };"}),
        )]);
        let report = report(vec![("Shape", vec![run(100, 100, 5)])]);
        assert!(kinds(&report, &simple).contains(&("code-to-expression", "Shape".into())));
        let filter = chain(&[(
            "Shape",
            "code",
            json!({"jsCode": "return $input.all().filter(i => i.json.ok);"}),
        )]);
        let found = find(&report, Some(&filter));
        assert!(found
            .iter()
            .any(|h| h.message.starts_with("it filters the items: a Filter node")));
        let program = chain(&[(
            "Shape",
            "code",
            json!({"mode": "runOnceForEachItem", "jsCode": "let s = 0;\nfor (const x of $json.xs) s += x;\nreturn { json: { s } };"}),
        )]);
        assert!(!kinds(&report, &program)
            .iter()
            .any(|(k, _)| *k == "code-to-expression"));
    }

    #[test]
    fn fields_no_later_node_reads() {
        let wf = chain(&[
            ("Fetch", "httpRequest", json!({})),
            (
                "Name",
                "set",
                json!({"assignments": {"assignments": [{"name": "n", "value": "={{ $json.name }}"}]}}),
            ),
        ]);
        let mut fetched = run(1, 200, 5);
        fetched.output_fields = vec!["id".into(), "name".into(), "bio".into()];
        let report = report(vec![
            ("Fetch", vec![fetched]),
            ("Name", vec![run(200, 200, 1)]),
        ]);
        let found = find(&report, Some(&wf));
        let hint = found.iter().find(|h| h.kind == "unused-fields").unwrap();
        assert_eq!(hint.node, "Fetch");
        assert!(
            hint.message
                .starts_with("200 items carry fields no later node reads (id, bio)"),
            "{}",
            hint.message
        );

        let whole = chain(&[
            ("Fetch", "httpRequest", json!({})),
            (
                "Save",
                "postgres",
                json!({"columns": {"mappingMode": "autoMapInputData"}}),
            ),
        ]);
        assert!(!kinds(&report, &whole)
            .iter()
            .any(|(k, _)| *k == "unused-fields"));
    }
}
