//! Postgres node against the machine's Postgres (127.0.0.1:5432, database `test`), each test in
//! a fresh schema: n8n's output shapes and type conversions, bulk writes, select in SQL, the
//! queryBatching modes and clear errors.

mod common;

use common::databases::{
    fresh_schema, postgres, postgres_credential, rl, run_with_credential, scalar,
    unreachable_postgres_error,
};
use common::output;
use serde_json::{json, Value};
use sluice_engine::RunOutcome;
use sluice_store::testing::PrivatePostgres;

const POSTGRES: &str = "n8n-nodes-base.postgres";

async fn run(parameters: Value, input: Value) -> RunOutcome {
    run_pg(parameters, input, json!({})).await
}

async fn run_pg(parameters: Value, input: Value, extra: Value) -> RunOutcome {
    run_with_credential(
        POSTGRES,
        2.5,
        parameters,
        input,
        "postgres",
        postgres_credential(),
        extra,
    )
    .await
}

/// The json of every output item; panics with the run error if the run failed.
fn rows(outcome: &RunOutcome) -> Vec<Value> {
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    output(outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

fn paired(outcome: &RunOutcome) -> Vec<Value> {
    outcome.run_data.runs("Node")[0]
        .output(0)
        .iter()
        .map(|item| serde_json::to_value(item).unwrap()["pairedItem"].clone())
        .collect()
}

async fn count(schema: &str, table: &str) -> i64 {
    scalar(&format!("SELECT count(*) FROM {schema}.{table}")).await
}

const ORDERS: &str = "CREATE TABLE orders (id serial PRIMARY KEY, name text UNIQUE, \
    amount numeric(10,2), big bigint, placed timestamptz, day date, data jsonb, ok boolean, \
    score float8, tags text[])";

#[tokio::test]
async fn insert_maps_item_fields_and_returns_rows_as_n8n_does() {
    let schema = fresh_schema(ORDERS).await;
    let outcome = run(
        json!({
            "operation": "insert",
            "schema": rl(&schema),
            "table": rl("orders"),
            "columns": {"mappingMode": "autoMapInputData", "value": {}, "matchingColumns": []},
            "options": {}
        }),
        json!([
            {"name": "a", "amount": 12.5, "big": "9007199254740993",
             "placed": "2024-01-02T03:04:05.678Z", "day": "2024-02-29",
             "data": {"k": [1, 2]}, "ok": true, "score": 0.25, "tags": ["x", "y"]},
            {"name": "b", "amount": "3", "ok": false}
        ]),
    )
    .await;
    let out = rows(&outcome);
    assert_eq!(
        out[0],
        json!({"id": 1, "name": "a", "amount": "12.50", "big": "9007199254740993",
               "placed": "2024-01-02T03:04:05.678Z", "day": "2024-02-29",
               "data": {"k": [1, 2]}, "ok": true, "score": 0.25, "tags": ["x", "y"]})
    );
    assert_eq!(out[1]["amount"], "3.00");
    assert_eq!(out[1]["placed"], Value::Null);
    assert_eq!(
        paired(&outcome),
        vec![json!({"item": 0}), json!({"item": 1})]
    );
    assert_eq!(count(&schema, "orders").await, 2);
}

#[tokio::test]
async fn insert_define_below_with_expressions_and_output_columns() {
    let schema = fresh_schema(ORDERS).await;
    let out = rows(
        &run(
            json!({
                "schema": rl(&schema),
                "table": rl("orders"),
                "columns": {"mappingMode": "defineBelow",
                            "value": {"name": "={{ $json.who.toUpperCase() }}", "big": "={{ $json.n * 2 }}"},
                            "matchingColumns": []},
                "options": {"outputColumns": ["name", "big"], "largeNumbersOutput": "numbers"}
            }),
            json!([{"who": "ann", "n": 21}, {"who": "bob", "n": 1}]),
        )
        .await,
    );
    assert_eq!(
        out,
        vec![
            json!({"name": "ANN", "big": 42}),
            json!({"name": "BOB", "big": 2})
        ]
    );
}

#[tokio::test]
async fn bulk_insert_of_many_items_keeps_every_row_in_order() {
    let schema = fresh_schema("CREATE TABLE t (id int PRIMARY KEY, label text)").await;
    let input: Vec<Value> = (0..4500)
        .map(|i| json!({"id": i, "label": format!("row {i}")}))
        .collect();
    let outcome = run(
        json!({"schema": rl(&schema), "table": rl("t"),
               "columns": {"mappingMode": "autoMapInputData", "value": {}}}),
        Value::Array(input),
    )
    .await;
    let out = rows(&outcome);
    assert_eq!(out.len(), 4500);
    assert_eq!(out[4499], json!({"id": 4499, "label": "row 4499"}));
    assert_eq!(paired(&outcome)[3000], json!({"item": 3000}));
    assert_eq!(count(&schema, "t").await, 4500);
    let profile = &outcome.run_data.runs("Node")[0].profile;
    assert_eq!(profile.counters.get("rowsWritten"), Some(&4500));
    assert!(profile.counters.contains_key("poolWaitMs"));
    // More items than a default chunk stream, but in chunks as large as the write asks for
    // (five statements), not a transaction per thousand items.
    assert_eq!(profile.chunks, 1);
}

#[tokio::test]
async fn copy_rows_inserts_through_copy_and_outputs_the_rows_as_sent() {
    let schema = fresh_schema(ORDERS).await;
    let mut input = vec![
        json!({"name": "a \"quoted\", with comma\nand newline", "amount": 12.5,
               "big": "9007199254740993", "placed": "2024-01-02T03:04:05.678Z",
               "day": "2024-02-29", "data": {"k": [1, "x\"y"]}, "ok": true, "score": 0.25,
               "tags": ["x", "y \"z\" \\", null]}),
        json!({"name": "", "amount": null, "big": null, "placed": null, "day": null,
               "data": null, "ok": false, "score": -1, "tags": []}),
    ];
    input.extend((0..60_000).map(|i| json!({"name": format!("n{i}"), "amount": i})));
    let outcome = run(
        json!({"schema": rl(&schema), "table": rl("orders"),
               "columns": {"mappingMode": "autoMapInputData", "value": {}},
               "options": {"copyRows": true}}),
        Value::Array(input.clone()),
    )
    .await;
    let out = rows(&outcome);
    assert_eq!(out.len(), 60_002, "one item per row sent");
    let chunks = outcome.run_data.runs("Node")[0].profile.chunks;
    assert_eq!(chunks, 2, "streamed a COPY of 50,000 rows at a time");
    assert_eq!(out[0], input[0]);
    assert_eq!(out[60_001], input[60_001]);
    assert_eq!(paired(&outcome)[50_500], json!({"item": 50_500}));
    assert_eq!(count(&schema, "orders").await, 60_002);
    let stored = postgres()
        .await
        .query(
            &format!(
                "SELECT name, amount::text, big, placed = '2024-01-02T03:04:05.678Z', day::text, \
                 data, ok, score, tags FROM {schema}.orders ORDER BY id LIMIT 2"
            ),
            &[],
        )
        .await
        .unwrap();
    let first = &stored[0];
    assert_eq!(
        first.get::<_, String>(0),
        "a \"quoted\", with comma\nand newline"
    );
    assert_eq!(first.get::<_, String>(1), "12.50");
    assert_eq!(first.get::<_, i64>(2), 9007199254740993);
    assert!(first.get::<_, bool>(3));
    assert_eq!(first.get::<_, String>(4), "2024-02-29");
    assert_eq!(first.get::<_, Value>(5), json!({"k": [1, "x\"y"]}));
    assert!(first.get::<_, bool>(6));
    assert_eq!(
        first.get::<_, Vec<Option<String>>>(8),
        vec![Some("x".into()), Some("y \"z\" \\".into()), None]
    );
    let second = &stored[1];
    assert_eq!(
        second.get::<_, String>(0),
        "",
        "an empty string stays empty"
    );
    assert_eq!(second.get::<_, Option<String>>(1), None, "null is NULL");
    assert_eq!(second.get::<_, Option<Value>>(5), None);
    assert_eq!(second.get::<_, f64>(7), -1.0);
    assert_eq!(second.get::<_, Vec<String>>(8), Vec::<String>::new());
}

#[tokio::test]
async fn copy_rows_finds_the_failing_item_and_is_refused_where_it_cannot_work() {
    let schema = fresh_schema(ORDERS).await;
    let copy = |options: Value| {
        json!({"schema": rl(&schema), "table": rl("orders"),
               "columns": {"mappingMode": "autoMapInputData", "value": {}},
               "options": options})
    };
    let outcome = run(
        copy(json!({"copyRows": true})),
        json!([{"name": "a"}, {"name": "b", "amount": "lots"}, {"name": "c"}]),
    )
    .await;
    let text = outcome.error.expect("fails").to_string();
    assert!(
        text.contains("invalid input syntax for type numeric") && text.contains("item 1"),
        "{text}"
    );
    assert_eq!(
        count(&schema, "orders").await,
        0,
        "single mode undoes it all"
    );
    let independently = run_pg(
        copy(json!({"copyRows": true, "queryBatching": "independently"})),
        json!([{"name": "a"}, {"name": "a"}, {"name": "b"}]),
        json!({"onError": "continueRegularOutput"}),
    )
    .await;
    assert_eq!(
        rows(&independently),
        vec![
            json!({"name": "a"}),
            duplicate_error(),
            json!({"name": "b"})
        ]
    );
    for (options, why) in [
        (
            json!({"copyRows": true, "skipOnConflict": true}),
            "ON CONFLICT",
        ),
        (
            json!({"copyRows": true, "outputColumns": ["name"]}),
            "outputColumns",
        ),
    ] {
        let workflow = common::single_node_workflow(POSTGRES, 2.5, copy(options), json!([]));
        let error = sluice_engine::CompiledWorkflow::build(
            serde_json::from_value(workflow).unwrap(),
            &sluice_nodes::registry(),
        )
        .err()
        .expect("refused when the workflow is built")
        .to_string();
        assert!(
            error.contains("options.copyRows") && error.contains(why),
            "{error}"
        );
    }
}

#[tokio::test]
async fn insert_of_an_unknown_column_names_the_column_and_item() {
    let schema = fresh_schema(ORDERS).await;
    let outcome = run(
        json!({"schema": rl(&schema), "table": rl("orders"),
               "columns": {"mappingMode": "autoMapInputData", "value": {}}}),
        json!([{"name": "a"}, {"name": "b", "colour": "red"}]),
    )
    .await;
    let error = outcome.error.expect("fails");
    let text = error.to_string();
    assert!(
        text.contains("Node") && text.contains("colour") && text.contains("item 1"),
        "{text}"
    );
    assert_eq!(count(&schema, "orders").await, 0);
}

async fn numbers_table() -> String {
    fresh_schema(
        "CREATE TABLE n (id int PRIMARY KEY, v int, label text); \
         INSERT INTO n SELECT i, i % 7, 'n' || i FROM generate_series(1, 60) i",
    )
    .await
}

#[tokio::test]
async fn select_returns_at_most_fifty_rows_unless_return_all() {
    let schema = numbers_table().await;
    let base = json!({"operation": "select", "schema": rl(&schema), "table": rl("n")});
    assert_eq!(rows(&run(base.clone(), json!([{}])).await).len(), 50);
    let mut all = base.clone();
    all["returnAll"] = json!(true);
    assert_eq!(rows(&run(all, json!([{}])).await).len(), 60);
}

#[tokio::test]
async fn select_filters_sorts_and_limits_in_sql_per_item() {
    let schema = numbers_table().await;
    let outcome = run(
        json!({
            "operation": "select", "schema": rl(&schema), "table": rl("n"), "limit": 3,
            "where": {"values": [
                {"column": "v", "condition": "equal", "value": "={{ $json.v }}"},
                {"column": "id", "condition": ">", "value": 10}
            ]},
            "sort": {"values": [{"column": "id", "direction": "DESC"}]},
            "options": {"outputColumns": ["id"]}
        }),
        json!([{"v": 3}, {"v": 0}]),
    )
    .await;
    assert_eq!(
        rows(&outcome),
        vec![
            json!({"id": 59}),
            json!({"id": 52}),
            json!({"id": 45}),
            json!({"id": 56}),
            json!({"id": 49}),
            json!({"id": 42})
        ]
    );
    assert_eq!(paired(&outcome)[3], json!({"item": 1}));
}

#[tokio::test]
async fn execute_query_with_parameters_and_n8n_number_shapes() {
    let schema = numbers_table().await;
    let out = rows(
        &run(
            json!({
                "operation": "executeQuery",
                "query": format!("SELECT count(*) AS c, sum(v) AS s FROM {schema}.n WHERE v = $1 AND label LIKE $2"),
                "options": {"queryReplacement": "={{ [$json.v, 'n%'] }}"}
            }),
            json!([{"v": 1}, {"v": 6}]),
        )
        .await,
    );
    assert_eq!(
        out,
        vec![json!({"c": "9", "s": "9"}), json!({"c": "8", "s": "48"})]
    );
}

#[tokio::test]
async fn execute_query_runs_every_statement_and_reports_success_without_rows() {
    let schema = fresh_schema("CREATE TABLE t (id int, note text)").await;
    let out = rows(
        &run(
            json!({
                "operation": "executeQuery",
                "query": format!("INSERT INTO {schema}.t VALUES ($1, 'a;b'); INSERT INTO {schema}.t VALUES ($1 + 100, $2)"),
                "options": {"queryReplacement": "={{ $json.id }}, x"}
            }),
            json!([{"id": 1}, {"id": 2}]),
        )
        .await,
    );
    assert_eq!(
        out,
        vec![json!({"success": true}), json!({"success": true})]
    );
    let ids: Vec<i32> = postgres()
        .await
        .query(&format!("SELECT id FROM {schema}.t ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 2, 101, 102]);
}

/// In `single` mode (the default) a run that is one statement needs no BEGIN and COMMIT round
/// trips, so a statement that cannot run inside a transaction block goes through; two items'
/// statements share one transaction.
#[tokio::test]
async fn a_lone_statement_runs_without_a_transaction_around_it() {
    let schema = fresh_schema("CREATE TABLE t (id int)").await;
    let vacuum = json!({"operation": "executeQuery", "query": format!("VACUUM {schema}.t")});
    let alone = run(vacuum.clone(), json!([{}])).await;
    assert_eq!(rows(&alone), vec![json!({"success": true})]);
    let together = run(vacuum, json!([{}, {}])).await;
    let error = together.error.expect("fails").to_string();
    assert!(error.contains("inside a transaction block"), "{error}");
}

#[tokio::test]
async fn bad_sql_fails_naming_node_and_item() {
    let outcome = run(
        json!({"operation": "executeQuery", "query": "={{ $json.q }}"}),
        json!([{"q": "SELECT 1"}, {"q": "SELEC oops"}]),
    )
    .await;
    let text = outcome.error.expect("fails").to_string();
    assert!(text.starts_with("node 'Node': syntax error"), "{text}");
    assert!(text.contains("item 1"), "{text}");
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    unreachable_postgres_error(json!({"operation": "executeQuery", "query": "SELECT 1"})).await;
}

#[tokio::test]
async fn upsert_updates_only_the_columns_present_and_later_items_win() {
    let schema = fresh_schema(&format!(
        "{ORDERS}; INSERT INTO orders (name, amount, big) VALUES ('a', 1, 100)"
    ))
    .await;
    let outcome = run(
        json!({
            "operation": "upsert", "schema": rl(&schema), "table": rl("orders"),
            "columns": {"mappingMode": "autoMapInputData", "value": {}, "matchingColumns": ["name"]},
            "options": {"outputColumns": ["name", "amount", "big"]}
        }),
        json!([{"name": "a", "amount": 5}, {"name": "new", "amount": 1}, {"name": "a", "big": 7}]),
    )
    .await;
    assert_eq!(
        rows(&outcome),
        vec![
            json!({"name": "a", "amount": "5.00", "big": "100"}),
            json!({"name": "new", "amount": "1.00", "big": null}),
            json!({"name": "a", "amount": "5.00", "big": "7"})
        ]
    );
    assert_eq!(paired(&outcome)[2], json!({"item": 2}));
    assert_eq!(count(&schema, "orders").await, 2);
}

#[tokio::test]
async fn update_matches_rows_by_column_and_returns_them_per_item() {
    let schema = numbers_table().await;
    let outcome = run(
        json!({
            "operation": "update", "schema": rl(&schema), "table": rl("n"),
            "columns": {"mappingMode": "defineBelow", "matchingColumns": ["id"],
                        "value": {"id": "={{ $json.id }}", "label": "={{ $json.label }}"}},
            "options": {"outputColumns": ["id", "label", "v"]}
        }),
        json!([{"id": 3, "label": "three"}, {"id": 999, "label": "none"}, {"id": 1, "label": "one"}]),
    )
    .await;
    assert_eq!(
        rows(&outcome),
        vec![
            json!({"id": 3, "label": "three", "v": 3}),
            json!({"id": 1, "label": "one", "v": 1})
        ]
    );
    assert_eq!(
        paired(&outcome),
        vec![json!({"item": 0}), json!({"item": 2})]
    );
}

#[tokio::test]
async fn delete_table_deletes_matching_rows_truncates_and_drops() {
    let schema = numbers_table().await;
    let delete = |command: &str, extra: Value| {
        let mut parameters = json!({"operation": "deleteTable", "schema": rl(&schema),
                                    "table": rl("n"), "deleteCommand": command});
        for (k, v) in extra.as_object().unwrap() {
            parameters[k] = v.clone();
        }
        parameters
    };
    let out = rows(
        &run(
            delete(
                "delete",
                json!({"where": {"values": [{"column": "v", "value": "={{ $json.v }}"}]}}),
            ),
            json!([{"v": 0}, {"v": 1}]),
        )
        .await,
    );
    assert_eq!(
        out,
        vec![json!({"success": true}), json!({"success": true})]
    );
    assert_eq!(count(&schema, "n").await, 60 - 8 - 9);
    rows(&run(delete("truncate", json!({})), json!([{}])).await);
    assert_eq!(count(&schema, "n").await, 0);
    rows(&run(delete("drop", json!({})), json!([{}])).await);
    let exists: bool = scalar(&format!("SELECT to_regclass('{schema}.n') IS NOT NULL")).await;
    assert!(!exists);
}

/// Three inserts, the second a duplicate of the first, under `mode` with continueRegularOutput:
/// the output items and the names kept in the table.
async fn duplicate_key_under(mode: &str) -> (Vec<Value>, Vec<String>) {
    let schema = fresh_schema(ORDERS).await;
    let outcome = run_pg(
        json!({
            "schema": rl(&schema), "table": rl("orders"),
            "columns": {"mappingMode": "autoMapInputData", "value": {}},
            "options": {"queryBatching": mode, "outputColumns": ["name"]}
        }),
        json!([{"name": "a"}, {"name": "a"}, {"name": "b"}]),
        json!({"onError": "continueRegularOutput"}),
    )
    .await;
    let kept = postgres()
        .await
        .query(
            &format!("SELECT name FROM {schema}.orders ORDER BY name"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (rows(&outcome), kept)
}

fn duplicate_error() -> Value {
    json!({"error": "duplicate key value violates unique constraint \"orders_name_key\""})
}

#[tokio::test]
async fn single_batch_fails_as_one_error_item_and_keeps_nothing() {
    let (out, kept) = duplicate_key_under("single").await;
    assert_eq!(out, vec![duplicate_error()]);
    assert!(kept.is_empty());
}

#[tokio::test]
async fn transaction_outputs_items_before_the_failure_then_rolls_back() {
    let (out, kept) = duplicate_key_under("transaction").await;
    assert_eq!(out, vec![json!({"name": "a"}), duplicate_error()]);
    assert!(kept.is_empty());
}

#[tokio::test]
async fn independently_keeps_the_other_rows_and_puts_the_error_in_place() {
    let (out, kept) = duplicate_key_under("independently").await;
    assert_eq!(
        out,
        vec![
            json!({"name": "a"}),
            duplicate_error(),
            json!({"name": "b"})
        ]
    );
    assert_eq!(kept, vec!["a", "b"]);
}

#[tokio::test]
async fn without_continue_on_fail_a_failed_write_names_node_and_item() {
    let schema = fresh_schema(ORDERS).await;
    let outcome = run(
        json!({"schema": rl(&schema), "table": rl("orders"),
               "columns": {"mappingMode": "autoMapInputData", "value": {}}}),
        json!([{"name": "a"}, {"name": "b", "amount": "lots"}]),
    )
    .await;
    let text = outcome.error.expect("fails").to_string();
    assert!(
        text.starts_with("node 'Node': invalid input syntax for type numeric: \"lots\""),
        "{text}"
    );
    assert!(text.contains("item 1"), "{text}");
    assert_eq!(count(&schema, "orders").await, 0);
}

#[tokio::test]
async fn version_1_insert_and_update_use_comma_lists_of_fields() {
    let schema = numbers_table().await;
    let run_v1 = |parameters: Value, input: Value| {
        run_with_credential(
            POSTGRES,
            1.0,
            parameters,
            input,
            "postgres",
            postgres_credential(),
            json!({}),
        )
    };
    let inserted = rows(
        &run_v1(
            json!({"operation": "insert", "schema": schema, "table": "n", "columns": "id,label",
                   "returnFields": "id,label"}),
            json!([{"id": 100, "label": "hundred", "other": 1}]),
        )
        .await,
    );
    assert_eq!(inserted, vec![json!({"id": 100, "label": "hundred"})]);
    let updated = rows(
        &run_v1(
            json!({"operation": "update", "schema": schema, "table": "n", "updateKey": "id",
                   "columns": "v", "returnFields": "id,v"}),
            json!([{"id": 100, "v": 5}]),
        )
        .await,
    );
    assert_eq!(updated, vec![json!({"id": 100, "v": 5})]);
}

#[tokio::test]
async fn explain_returns_the_plan_instead_of_the_rows() {
    let schema = numbers_table().await;
    let out = rows(
        &run(
            json!({"operation": "select", "schema": rl(&schema), "table": rl("n"),
                   "returnAll": true, "options": {"explain": true}}),
            json!([{}]),
        )
        .await,
    );
    assert_eq!(out.len(), 1);
    let plan = &out[0]["QUERY PLAN"][0]["Plan"];
    assert_eq!(plan["Node Type"], "Seq Scan", "{}", out[0]);
    assert_eq!(plan["Actual Rows"], 60);
}

/// The password of the private cluster in the test below.
const CLUSTER_PASSWORD: &str = "right-password";

#[tokio::test]
async fn wrong_password_is_a_clear_error_without_the_password() {
    let cluster = PrivatePostgres::start(Some(CLUSTER_PASSWORD));
    let credential = |password: &str| {
        json!({"host": "127.0.0.1", "port": cluster.port, "database": "postgres",
               "user": "postgres", "password": password})
    };
    let query = json!({"operation": "executeQuery", "query": "SELECT 1 AS one"});
    let run_as = |password: &str| {
        run_with_credential(
            POSTGRES,
            2.5,
            query.clone(),
            json!([{}]),
            "postgres",
            credential(password),
            json!({}),
        )
    };
    let ok = rows(&run_as(CLUSTER_PASSWORD).await);
    assert_eq!(ok, vec![json!({"one": 1})]);
    let text = run_as("wrong-secret")
        .await
        .error
        .expect("fails")
        .to_string();
    assert!(
        text.starts_with(&format!(
            "node 'Node': could not connect to Postgres postgres@127.0.0.1:{}/postgres: password authentication failed",
            cluster.port
        )),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");
}
