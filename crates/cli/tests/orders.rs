//! The orders example (`examples/orders`) end to end, as `start.sh` runs it but at small scale:
//! a main process and three workers in queue mode on a fresh Postgres database and the machine's
//! Redis (a fresh key prefix), `sluice dev upstream` injecting errors, 200 orders posted while
//! one worker is killed. Every order must be stored once with the right totals and notified, and
//! an order whose customer does not exist must end dead-lettered with the reason.

mod support;

use serde_json::{json, Value};
use sluice_store::testing::TestSchema;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

const ORDERS: usize = 200;
const WORKERS: usize = 3;

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/orders")
        .join(file)
}

/// Order `n`: a customer among the first 50, one to three lines, every shipping method.
fn order(n: usize) -> Value {
    let lines: Vec<Value> = (0..n % 3 + 1)
        .map(|l| {
            json!({"sku": format!("SKU-{l}"), "quantity": (n + l) % 4 + 1,
                   "unitPrice": ((n * 37 + l * 101) % 90_000) as f64 / 100.0})
        })
        .collect();
    let shipping = ["express", "standard", "economy"][n % 3];
    json!({"id": format!("e2e-{n}"), "customerId": n % 50 + 1, "shipping": shipping, "items": lines})
}

/// JavaScript's `Math.round(v * 100) / 100` for the non-negative amounts of an order.
fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Subtotal, discount, tax and total of `order` as the example computes them, from the rules in
/// `schema.sql` and the customers `sluice dev upstream` makes up (tier and country by id).
fn expected_totals(order: &Value) -> [String; 4] {
    let id = order["customerId"].as_u64().unwrap();
    let customer_discount = [0.0, 5.0, 10.0][(id % 3) as usize];
    let tax_rate = [0.07, 0.19, 0.2, 0.2, 0.1][(id % 5) as usize];
    let subtotal = cents(
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .fold(0.0, |sum, line| {
                sum + cents(
                    line["quantity"].as_f64().unwrap() * line["unitPrice"].as_f64().unwrap(),
                )
            }),
    );
    let volume = [(500.0, 5.0), (1000.0, 8.0)]
        .iter()
        .filter(|(min, _)| subtotal >= *min)
        .fold(0.0_f64, |best, (_, percent)| best.max(*percent));
    let discount = cents(subtotal * volume.max(customer_discount) / 100.0);
    let tax = cents((subtotal - discount) * tax_rate);
    let fee = match order["shipping"].as_str().unwrap() {
        "express" => 15.0,
        "standard" => 5.0,
        _ => 0.0,
    };
    let total = cents(subtotal - discount + tax + fee);
    [subtotal, discount, tax, total].map(|v| format!("{v:.2}"))
}

#[test]
fn two_hundred_orders_are_stored_once_with_their_totals_and_notified_while_a_worker_dies() {
    let database = TestDatabase::new("orders_e2e", &example("schema.sql"), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(TestSchema::new("cli_orders"));
    let dir = tempfile::tempdir().unwrap();
    let prefix = redis_prefix("orders");
    let (_upstream, upstream) = start_upstream(&["--error-rate", "5%", "--seed", "15"]);
    let cmd = |name: &str| {
        let mut cmd = queued(&dir.path().join(name), store.name(), &prefix);
        cmd.env(
            "SLUICE_HTTP_CONNECT_TO",
            format!("http://127.0.0.1:5679={upstream}"),
        )
        // Leases of 3 s rather than the helper's 1.5 s: an intake job taken over from the
        // killed worker is dead-lettered if its lease lapses once more (n8n's maxStalledCount
        // 1), and its caller then waits past this test's patience. Once, with the whole test
        // suite on two cores, a caller did (likely a live worker's renewal that came late).
        .env("QUEUE_WORKER_LOCK_DURATION", "3000")
        // As start.sh: the intakes' inserts into the inbox share transactions.
        .env("SLUICE_POSTGRES_GROUP_COMMIT", "true");
        cmd
    };

    let credentials_file =
        database.credentials(&example("credentials.json"), "sluice_orders", dir.path());
    let mut import = cmd("main");
    import.args(["credential", "import"]).arg(&credentials_file);
    stdout_of(import);
    // The batches' lease is 60 s; 3 s here, so that a batch whose worker died is taken again
    // within the test's patience.
    let process = std::fs::read_to_string(example("process.json"))
        .unwrap()
        .replace("interval '60 seconds'", "interval '3 seconds'");
    assert!(
        process.contains("interval '3 seconds'"),
        "the lease is in process.json"
    );
    let short_lease = dir.path().join("process.json");
    std::fs::write(&short_lease, process).unwrap();
    let mut import = cmd("main");
    import
        .args(["workflow", "import"])
        .arg(example("process-batch.json"));
    stdout_of(import);
    for workflow in [example("intake.json"), short_lease, example("notify.json")] {
        let mut import = cmd("main");
        import
            .args(["workflow", "import", "--activate"])
            .arg(workflow);
        stdout_of(import);
    }

    let port = free_port();
    let _main = Server(start(cmd("main"), port));
    let mut workers: Vec<Server> = (0..WORKERS)
        .map(|n| start_worker(cmd(&format!("worker{n}")), 8))
        .collect();

    let (status, body) = http(
        port,
        "POST",
        "/webhook/orders",
        "",
        r#"{"id": "bad id", "items": []}"#,
    )
    .expect("the main process answers");
    assert_eq!(status, 400, "{body}");
    let reason = serde_json::from_str::<Value>(&body).unwrap()["reason"].clone();
    assert_eq!(
        reason,
        "id: expected 1 to 64 letters, digits, - or _; customerId: expected a whole number \
         from 1; items: expected a list of 1 to 100 lines"
    );

    let senders: Vec<_> = (0..4)
        .map(|sender| {
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for n in (sender..ORDERS).step_by(4) {
                    let (status, body) =
                        http(port, "POST", "/webhook/orders", "", &order(n).to_string())
                            .expect("the main process answers");
                    assert_eq!(status, 202, "order {n}: {body}");
                    let answer: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(answer["orderId"], format!("e2e-{n}"));
                    ids.push(answer["executionId"].as_str().unwrap().to_string());
                }
                ids
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    workers[0].0.kill().unwrap(); // SIGKILL while it runs orders
    workers[0].0.wait().unwrap();
    let execution_ids: Vec<String> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();

    // A customer the upstream does not know: 404 at every attempt, so the order is put back
    // with a backoff four times and dead-lettered at the fifth.
    let mut unknown_customer = order(0);
    unknown_customer["id"] = json!("no-customer");
    unknown_customer["customerId"] = json!(1_000_000);
    let (status, body) = http(
        port,
        "POST",
        "/webhook/orders",
        "",
        &unknown_customer.to_string(),
    )
    .unwrap();
    assert_eq!(status, 202, "{body}");

    let notified =
        || database.query("SELECT count(*) FROM orders WHERE notified_at IS NOT NULL")[0].clone();
    eventually_within(
        "every order stored and notified",
        Duration::from_secs(120),
        || notified() == ORDERS.to_string(),
    );

    eventually_within(
        "the order without a customer dead-lettered",
        Duration::from_secs(60),
        || database.query("SELECT attempts FROM order_inbox WHERE dead_at IS NOT NULL") == ["5"],
    );
    let [dead] = &database.query("SELECT id || ' ' || last_error FROM order_inbox")[..] else {
        panic!("only the dead order is left in the queue");
    };
    assert!(
        dead.starts_with("no-customer ") && dead.contains("404"),
        "{dead}"
    );

    let rows = database
        .query("SELECT id, subtotal, discount, tax, total, item_count FROM orders ORDER BY id");
    assert_eq!(rows.len(), ORDERS, "one row per order");
    for row in rows {
        let cols: Vec<&str> = row.split('|').collect();
        let n: usize = cols[0].trim_start_matches("e2e-").parse().unwrap();
        let order = order(n);
        assert_eq!(cols[1..5], expected_totals(&order), "totals of {}", cols[0]);
        assert_eq!(
            cols[5],
            order["items"].as_array().unwrap().len().to_string()
        );
    }
    let lines = (0..ORDERS).map(|n| n % 3 + 1).sum::<usize>();
    assert_eq!(
        database.query("SELECT count(*) FROM order_lines"),
        [lines.to_string()]
    );

    let stats: Value = {
        let (_, body) = http(
            upstream
                .trim_start_matches("http://127.0.0.1:")
                .parse()
                .unwrap(),
            "GET",
            "/stats",
            "",
            "",
        )
        .unwrap();
        serde_json::from_str(&body).unwrap()
    };
    assert!(stats["errorsInjected"].as_u64().unwrap() > 0, "{stats}");
    // At least once: a batch whose worker died before marking it is sent again.
    assert!(
        stats["notificationsReceived"].as_u64().unwrap() >= ORDERS as u64,
        "{stats}"
    );

    // `sluice profile ID` reads an order's intake execution from the store, with its workflow.
    let mut profile = cmd("main");
    profile.args(["profile", &execution_ids[ORDERS - 1]]);
    let table = stdout_of(profile);
    for line in [
        "Validate order ",
        "Enqueue order ",
        "hint: ",
        "the slowest node: ",
    ] {
        assert!(table.contains(line), "{line} in {table}");
    }

    // The notifier's scheduled runs go on meanwhile: wait for the ones under way to end.
    eventually_within(
        "no execution still running",
        Duration::from_secs(60),
        || statuses(cmd("main")).iter().all(|(_, s)| s != "running"),
    );
    let executions = statuses(cmd("main"));
    let failed: Vec<_> = executions.iter().filter(|(_, s)| s != "success").collect();
    assert!(
        failed.is_empty(),
        "every execution ends as success: {failed:?}"
    );
}

/// The notifier's outbox: the trigger queues the orders an upsert inserts (not the ones it
/// updates) with what their notification says (email, total), and applying the schema again
/// brings a database an earlier version made up to date: the unnotified orders of one that had
/// no outbox are queued, and the entries of one whose outbox had no email and total get them.
#[test]
fn the_outbox_holds_every_inserted_order_until_notified_even_after_an_upgrade() {
    let schema = example("schema.sql");
    let database = TestDatabase::new("orders_outbox", &schema, &[]);
    let insert = |ids: &[&str]| {
        let rows: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    "('{id}', 1, '{id}@example.com', 'standard', 1, 1, 0, 0, 0, 1.5, 'processed', \
                     now())"
                )
            })
            .collect();
        database.query(&format!(
            "INSERT INTO orders (id, customer_id, customer_email, shipping, item_count, subtotal, \
             discount, tax, shipping_fee, total, status, processed_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET total = excluded.total",
            rows.join(", ")
        ));
    };
    let queued = || {
        database.query(
            "SELECT order_id || ' ' || coalesce(customer_email, '-') || ' ' || \
             coalesce(total::text, '-') FROM order_notifications ORDER BY order_id",
        )
    };
    let apply_schema = || {
        for _ in 0..2 {
            psql(&database.0, &["-q", "-f", schema.to_str().unwrap()]);
        }
    };
    insert(&["a", "b"]);
    insert(&["b", "c"]);
    assert_eq!(
        queued(),
        [
            "a a@example.com 1.50",
            "b b@example.com 1.50",
            "c c@example.com 1.50"
        ],
        "b once: stored again, not queued again"
    );

    // As an earlier version left it: no outbox entries, "a" notified, "b" and "c" not.
    database.query("DELETE FROM order_notifications");
    database.query("UPDATE orders SET notified_at = now() WHERE id = 'a'");
    apply_schema();
    assert_eq!(queued(), ["b b@example.com 1.50", "c c@example.com 1.50"]);

    // As the version before the outbox carried the notification: entries without email and total.
    database.query("ALTER TABLE order_notifications DROP COLUMN customer_email, DROP COLUMN total");
    apply_schema();
    assert_eq!(queued(), ["b b@example.com 1.50", "c c@example.com 1.50"]);
}
