//! One behaviour suite for the store, run against embedded SQLite (temp dir) and the machine's
//! Postgres (127.0.0.1:5432, database `test`, a fresh schema per test, dropped with the fixture,
//! also when the test panics). Postgres tests fail, not skip, when it does not answer.

use serde_json::json;
use sluice_store::testing::TestDb;
use sluice_store::{
    Backend, ExecutionFilter, Finished, NewExecution, Stmt, Store, StoreConfig, StoreError,
    WorkflowFilter, STALE_HEARTBEATS,
};
use std::sync::Arc;
use std::time::Duration;

/// A store on one backend.
struct Fixture {
    store: Arc<Store>,
    db: TestDb,
}

impl Fixture {
    async fn new(postgres: bool, tune: impl FnOnce(&mut StoreConfig)) -> Fixture {
        let mut db = TestDb::new(postgres, "store_test").await;
        tune(&mut db.config);
        Fixture {
            store: db.open().await,
            db,
        }
    }

    /// Another store on the same database (another process).
    async fn open(&self) -> Arc<Store> {
        self.db.open().await
    }

    async fn finish(self) {
        self.store.close().await;
    }
}

fn new_execution(workflow: &str) -> NewExecution {
    NewExecution {
        workflow_id: workflow.into(),
        mode: "webhook".into(),
        retry_of: None,
        resume: None,
    }
}

fn finished(status: &str) -> Finished {
    Finished {
        status: status.into(),
        data_json: json!({"resultData": {"runData": {"A": []}}}).to_string(),
        keep: true,
        custom_data: Default::default(),
    }
}

async fn workflows_round_trip(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let body = json!({"name": "one", "nodes": [], "connections": {}, "x-unknown": {"kept": 1}});
    let wf = s.put_workflow(None, body).await.unwrap();
    assert_eq!(wf.id.len(), 16);
    assert!(!wf.active);
    let got = s.get_workflow(&wf.id).await.unwrap().unwrap();
    assert_eq!(got.data["x-unknown"], json!({"kept": 1}));
    let api = got.to_json();
    assert_eq!(api["id"], json!(wf.id));
    assert_eq!(api["active"], json!(false));

    for i in 0..4 {
        s.put_workflow(Some(&format!("wf{i}")), json!({"name": format!("n{i}")}))
            .await
            .unwrap();
    }
    s.set_workflow_active("wf1", true).await.unwrap();
    let updated = s
        .put_workflow(Some("wf1"), json!({"name": "renamed"}))
        .await
        .unwrap();
    assert!(updated.active, "an update keeps the active flag");
    assert_eq!(updated.name, "renamed");

    let all = WorkflowFilter::default();
    let page1 = s.list_workflows(&all, None, 3).await.unwrap();
    assert_eq!(page1.data.len(), 3);
    let page2 = s
        .list_workflows(&all, page1.next_cursor.as_deref(), 3)
        .await
        .unwrap();
    assert_eq!(page2.data.len(), 2);
    assert!(page2.next_cursor.is_none());
    let active = WorkflowFilter {
        active: Some(true),
        ..Default::default()
    };
    let listed = s.list_workflows(&active, None, 10).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    // Tags as names or as n8n's objects; a page of tagged workflows reads on past the others.
    for (id, tags) in [
        ("tag1", json!(["backup"])),
        ("tag2", json!([{"id": "7", "name": "crm"}])),
        ("tag3", json!([{"name": "backup"}, "other"])),
    ] {
        s.put_workflow(Some(id), json!({"name": id, "tags": tags}))
            .await
            .unwrap();
    }
    let tagged = |tags: &[&str]| WorkflowFilter {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let backup = s
        .list_workflows(&tagged(&["backup"]), None, 1)
        .await
        .unwrap();
    assert_eq!(backup.data[0].id, "tag1");
    let rest = s
        .list_workflows(&tagged(&["backup"]), backup.next_cursor.as_deref(), 1)
        .await
        .unwrap();
    assert_eq!(rest.data[0].id, "tag3");
    assert!(rest.next_cursor.is_none());
    let either = s
        .list_workflows(&tagged(&["crm", "backup"]), None, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = either.data.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["tag1", "tag2", "tag3"]);
    assert_eq!(s.active_workflows().await.unwrap()[0].id, "wf1");

    let id = s.accept_execution(new_execution("wf1")).await.unwrap();
    assert!(s.delete_workflow("wf1").await.unwrap().is_some());
    assert!(s.get_workflow("wf1").await.unwrap().is_none());
    assert!(s.get_execution(id, false).await.unwrap().is_none());
    assert!(s.delete_workflow("wf1").await.unwrap().is_none());
    f.finish().await;
}

async fn execution_lifecycle(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let a = s.accept_execution(new_execution("A")).await.unwrap();
    let b = s.accept_execution(new_execution("B")).await.unwrap();
    let c = s.accept_execution(new_execution("A")).await.unwrap();
    assert!(a < b && b < c);
    let running = s.get_execution(a, false).await.unwrap().unwrap();
    assert_eq!(running.status, "running");
    assert!(running.stopped_at.is_none());

    s.finish_execution(a, finished("success")).await.unwrap();
    s.finish_execution(b, finished("error")).await.unwrap();
    // Read-your-writes: finished writes are visible to the next read.
    let done = s.get_execution(a, true).await.unwrap().unwrap();
    assert_eq!(done.status, "success");
    assert_eq!(
        done.data.as_ref().unwrap()["resultData"]["runData"],
        json!({"A": []})
    );
    assert_eq!(done.to_json()["finished"], json!(true));
    assert!(s
        .get_execution(a, false)
        .await
        .unwrap()
        .unwrap()
        .data
        .is_none());

    let by_wf = ExecutionFilter {
        workflow_id: Some("A".into()),
        ..Default::default()
    };
    assert_eq!(s.count_executions(&by_wf).await.unwrap(), 2);
    let errors = ExecutionFilter {
        status: Some("error".into()),
        ..Default::default()
    };
    let listed = s.list_executions(&errors, None, 10, false).await.unwrap();
    assert_eq!(
        listed.data.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![b]
    );

    let all = ExecutionFilter::default();
    let page1 = s.list_executions(&all, None, 2, false).await.unwrap();
    assert_eq!(
        page1.data.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![c, b]
    );
    let page2 = s
        .list_executions(&all, page1.next_cursor.as_deref(), 2, false)
        .await
        .unwrap();
    assert_eq!(page2.data.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a]);
    assert!(page2.next_cursor.is_none());

    s.mark_crashed(c).await.unwrap();
    assert_eq!(
        s.get_execution(c, false).await.unwrap().unwrap().status,
        "crashed"
    );

    // The saving policy drops an execution.
    let d = s.accept_execution(new_execution("A")).await.unwrap();
    let mut drop = finished("success");
    drop.keep = false;
    s.finish_execution(d, drop).await.unwrap();
    assert!(s.get_execution(d, false).await.unwrap().is_none());

    assert!(s.delete_execution(a).await.unwrap());
    assert!(!s.delete_execution(a).await.unwrap());
    f.finish().await;
}

async fn resume_data_survives_reopen(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let mut new = new_execution("W");
    new.resume = serde_json::value::to_raw_value(&json!({"items": [{"json": {"a": 1}}]})).ok();
    let id = f.store.accept_execution(new).await.unwrap();
    f.store.close().await;
    // A second process (same database) takes it over, with what it needs to resume.
    let reopened = f.open().await;
    reopened
        .register_process(Duration::from_secs(5), sluice_store::now_ms())
        .await
        .unwrap();
    let unfinished = reopened
        .claim_abandoned_executions(sluice_store::now_ms())
        .await
        .unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].id, id);
    assert_eq!(
        unfinished[0].data.as_ref().unwrap()["resume"]["items"][0]["json"]["a"],
        json!(1)
    );
    let next = reopened.accept_execution(new_execution("W")).await.unwrap();
    assert!(next > id, "ids keep increasing across processes");
    reopened.close().await;
    f.finish().await;
}

async fn concurrent_writes_are_all_kept(postgres: bool) {
    let f = Fixture::new(postgres, |c| c.batch_size = 16).await;
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let s = f.store.clone();
            tokio::spawn(async move {
                let id = s.accept_execution(new_execution("W")).await.unwrap();
                s.finish_execution(id, finished("success")).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let success = ExecutionFilter {
        status: Some("success".into()),
        ..Default::default()
    };
    assert_eq!(f.store.count_executions(&success).await.unwrap(), 200);
    f.finish().await;
}

async fn credentials_are_encrypted(postgres: bool) {
    let f = Fixture::new(postgres, |c| c.encryption_key = Some("secret-one".into())).await;
    let data = json!({"user": "ada", "password": "hunter2"});
    let cred = f
        .store
        .create_credential("basic", "httpBasicAuth", &data)
        .await
        .unwrap();
    assert!(cred.to_json().get("data").is_none());
    let (kind, back) = f.store.credential_data(&cred.id).await.unwrap().unwrap();
    assert_eq!(kind, "httpBasicAuth");
    assert_eq!(back, data);
    let mut wrong = f.db.config.clone();
    wrong.encryption_key = Some("another".into());
    let other = Store::open(wrong).await.unwrap();
    assert!(matches!(
        other.credential_data(&cred.id).await,
        Err(StoreError::Decrypt)
    ));
    other.close().await;
    // Reads are reused for a moment, but never past a write through the same store.
    let changed = json!({"user": "ada", "password": "correct horse"});
    let replacement = sluice_runtime::Credential {
        id: cred.id.clone(),
        name: "basic".into(),
        kind: "httpBasicAuth".into(),
        data: changed.clone(),
    };
    f.store.import_credential(&replacement).await.unwrap();
    let (_, back) = f.store.credential_data(&cred.id).await.unwrap().unwrap();
    assert_eq!(back, changed);
    // Another process's write (here straight to the table) is seen once the reuse is over.
    let other = f
        .store
        .create_credential("other", "httpBasicAuth", &data)
        .await
        .unwrap();
    f.store.credential_data(&cred.id).await.unwrap();
    f.store
        .database()
        .execute(
            "UPDATE credentials SET data = (SELECT data FROM credentials WHERE id = $2) \
             WHERE id = $1",
            vec![cred.id.as_str().into(), other.id.as_str().into()],
        )
        .await
        .unwrap();
    let (_, reused) = f.store.credential_data(&cred.id).await.unwrap().unwrap();
    assert_eq!(reused, changed, "read again within the second: reused");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, fresh) = f.store.credential_data(&cred.id).await.unwrap().unwrap();
    assert_eq!(fresh, data, "read again after it");
    assert!(f.store.delete_credential(&cred.id).await.unwrap().is_some());
    assert!(f.store.credential_data(&cred.id).await.unwrap().is_none());
    f.finish().await;
}

async fn api_keys_and_leases(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let key = s.create_api_key("ci").await.unwrap();
    assert!(s.verify_api_key(&key).await.unwrap());
    assert!(!s.verify_api_key("sluice_nope").await.unwrap());
    assert!(s.try_lease("wf:node", 1000, "p1").await.unwrap());
    assert!(!s.try_lease("wf:node", 1000, "p2").await.unwrap());
    assert!(s.try_lease("wf:node", 2000, "p2").await.unwrap());
    f.finish().await;
}

async fn pruning_by_count_and_age(postgres: bool) {
    // One execution per delete statement: pruning three takes three.
    let f = Fixture::new(postgres, |c| {
        c.pruning.max_count = 2;
        c.pruning.batch_rows = 1;
    })
    .await;
    let s = &f.store;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = s.accept_execution(new_execution("W")).await.unwrap();
        s.finish_execution(id, finished("success")).await.unwrap();
        ids.push(id);
    }
    let running = s.accept_execution(new_execution("W")).await.unwrap();
    let now = sluice_store::now_ms();
    assert_eq!(s.prune(now).await.unwrap(), 3);
    let left = s
        .list_executions(&ExecutionFilter::default(), None, 10, false)
        .await
        .unwrap();
    assert_eq!(
        left.data.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![running, ids[4], ids[3]]
    );
    // 15 days later everything finished is past the default 336 h.
    assert_eq!(s.prune(now + 15 * 24 * 3_600_000).await.unwrap(), 2);
    assert!(s.get_execution(running, false).await.unwrap().is_some());
    f.finish().await;
}

async fn workflow_static_data(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let wf = s
        .put_workflow(None, json!({"name": "w", "nodes": [], "connections": {}}))
        .await
        .unwrap();
    assert!(s.workflow_static_data(&wf.id).await.unwrap().is_none());
    let data = json!({"global": {"count": 2}, "node:Poll": {"cursor": "abc"}});
    s.save_workflow_static_data(&wf.id, data.as_object().unwrap())
        .await
        .unwrap();
    // Saving the workflow JSON again keeps it; unknown ids are a no-op.
    s.put_workflow(
        Some(&wf.id),
        json!({"name": "w2", "nodes": [], "connections": {}}),
    )
    .await
    .unwrap();
    s.save_workflow_static_data("missing", data.as_object().unwrap())
        .await
        .unwrap();
    assert!(s.workflow_static_data("missing").await.unwrap().is_none());
    f.store.close().await;
    let reopened = f.open().await;
    let loaded = reopened.workflow_static_data(&wf.id).await.unwrap();
    assert_eq!(loaded.map(serde_json::Value::Object), Some(data));
    reopened.close().await;
    f.finish().await;
}

/// Deferred rows: nothing until they are committed, listed as running, or finished; a row
/// finished before it was ever written is one finished row (or nothing when not kept).
async fn deferred_execution_rows(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let count = |status: &'static str| async move {
        let filter = ExecutionFilter {
            status: Some(status.into()),
            ..Default::default()
        };
        s.count_executions(&filter).await.unwrap()
    };

    let short = s.defer_execution(new_execution("W")).await.unwrap();
    assert!(s.get_execution(short.id(), false).await.unwrap().is_none());
    s.finish_row(&short, finished("success")).await.unwrap();
    s.commit_row(&short).await.unwrap();
    let done = s.get_execution(short.id(), true).await.unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.workflow_id.as_str()),
        ("success", "W")
    );
    assert!(done.stopped_at.unwrap() >= done.started_at);
    assert_eq!(
        done.data.unwrap()["resultData"]["runData"],
        json!({"A": []})
    );

    let answered = s.defer_execution(new_execution("W")).await.unwrap();
    s.commit_row(&answered).await.unwrap();
    assert_eq!(count("running").await, 1);
    s.commit_row(&answered).await.unwrap();
    s.finish_row(&answered, finished("error")).await.unwrap();
    s.commit_row(&answered).await.unwrap();
    assert_eq!(count("running").await, 0);
    assert_eq!(count("error").await, 1);

    let listed = s.defer_execution(new_execution("W")).await.unwrap();
    s.write_running(&listed).await.unwrap();
    assert_eq!(count("running").await, 1);
    let dropped = Finished {
        keep: false,
        ..finished("success")
    };
    s.finish_row(&listed, dropped.clone()).await.unwrap();
    s.commit_row(&listed).await.unwrap();
    assert!(s.get_execution(listed.id(), false).await.unwrap().is_none());

    let never = s.defer_execution(new_execution("W")).await.unwrap();
    s.finish_row(&never, dropped).await.unwrap();
    s.commit_row(&never).await.unwrap();
    assert!(s.get_execution(never.id(), false).await.unwrap().is_none());
    assert_eq!(count("success").await, 1);
    f.finish().await;
}

/// A queue job's row, reserved by one process and written by the worker that runs it: two
/// attempts of one execution keep the first end written, whichever way each wrote its row; a
/// job dead-lettered before any row was written is recorded crashed with its start, and a
/// finished one keeps its end.
async fn reserved_rows_keep_the_first_end(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let id = s.reserve_execution_id().await.unwrap();
    assert!(s.get_execution(id, false).await.unwrap().is_none());
    let first = s.defer_reserved(id, new_execution("W"));
    let second = s.defer_reserved(id, new_execution("W"));
    s.write_running(&first).await.unwrap();
    s.commit_row(&first).await.unwrap();
    s.commit_row(&second).await.unwrap();
    s.finish_row(&second, finished("success")).await.unwrap();
    s.commit_row(&second).await.unwrap();
    s.finish_row(&first, finished("error")).await.unwrap();
    s.commit_row(&first).await.unwrap();
    assert_eq!(
        s.get_execution(id, false).await.unwrap().unwrap().status,
        "success"
    );
    let third = s.defer_reserved(id, new_execution("W"));
    s.finish_row(&third, finished("error")).await.unwrap();
    s.commit_row(&third).await.unwrap();
    assert_eq!(
        s.get_execution(id, false).await.unwrap().unwrap().status,
        "success"
    );

    let unwritten = s.reserve_execution_id().await.unwrap();
    let resume = serde_json::value::to_raw_value(&json!({"items": [{"json": {"n": 1}}]})).unwrap();
    let with_start = NewExecution {
        resume: Some(resume),
        ..new_execution("W")
    };
    s.mark_crashed_or_record(unwritten, with_start.clone())
        .await
        .unwrap();
    let crashed = s.get_execution(unwritten, true).await.unwrap().unwrap();
    assert_eq!(
        (crashed.status.as_str(), crashed.workflow_id.as_str()),
        ("crashed", "W")
    );
    assert_eq!(
        crashed.data.unwrap()["resume"]["items"][0]["json"]["n"],
        json!(1)
    );
    assert!(
        s.reopen_crashed(unwritten).await.unwrap(),
        "a replay runs it again"
    );
    s.mark_crashed_or_record(id, with_start).await.unwrap();
    assert_eq!(
        s.get_execution(id, false).await.unwrap().unwrap().status,
        "success"
    );
    f.finish().await;
}

const BEAT: Duration = Duration::from_secs(5);
const BEAT_MS: i64 = 5_000;
/// A heartbeat interval beyond which a process heartbeating at `t` is taken for dead.
const DEAD: i64 = STALE_HEARTBEATS * BEAT_MS + 1;

fn ids(records: &[sluice_store::ExecutionRecord]) -> Vec<i64> {
    records.iter().map(|r| r.id).collect()
}

async fn executions_belong_to_live_processes(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let t0 = 1_000_000;
    let a = f.open().await;
    a.register_process(BEAT, t0).await.unwrap();
    let e1 = a.accept_execution(new_execution("W")).await.unwrap();
    let b = f.open().await;
    b.register_process(BEAT, t0).await.unwrap();
    // Not yet late enough.
    let at_limit = t0 + STALE_HEARTBEATS * BEAT_MS;
    assert!(b
        .claim_abandoned_executions(at_limit)
        .await
        .unwrap()
        .is_empty());
    assert!(a.heartbeat(t0 + 10_000).await.unwrap());
    let t1 = t0 + 10_000 + DEAD;
    assert!(b
        .claim_abandoned_executions(t1 - 1)
        .await
        .unwrap()
        .is_empty());
    // a stopped heartbeating: b takes over its execution, once.
    assert_eq!(
        ids(&b.claim_abandoned_executions(t1).await.unwrap()),
        vec![e1]
    );
    assert!(b.claim_abandoned_executions(t1).await.unwrap().is_empty());
    // a learns it was taken for dead, and is registered again.
    assert!(!a.heartbeat(t1).await.unwrap());
    assert!(a.heartbeat(t1).await.unwrap());
    assert!(b.heartbeat(t1).await.unwrap());
    let c = f.open().await;
    c.register_process(BEAT, t1).await.unwrap();
    assert!(c.claim_abandoned_executions(t1).await.unwrap().is_empty());
    // A process that shuts down gives its running executions up at once.
    b.close().await;
    let claimed = c.claim_abandoned_executions(t1).await.unwrap();
    assert_eq!(ids(&claimed), vec![e1]);
    assert_eq!(claimed[0].status, "running");
    // Only a registered process claims.
    assert!(matches!(
        f.store.claim_abandoned_executions(t1).await,
        Err(StoreError::Config(_))
    ));
    a.close().await;
    c.close().await;
    f.finish().await;
}

async fn the_light_claim_takes_what_processes_known_dead_ran(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let t0 = 1_000_000;
    let (stale, leaving, watcher) = (f.open().await, f.open().await, f.open().await);
    for store in [&stale, &leaving, &watcher] {
        store.register_process(BEAT, t0).await.unwrap();
    }
    let of_stale = stale.accept_execution(new_execution("W")).await.unwrap();
    let of_leaving = leaving.accept_execution(new_execution("W")).await.unwrap();
    // Accepted by no process at all: only the full claim finds it.
    let unowned = f.store.accept_execution(new_execution("W")).await.unwrap();
    let light = |at| watcher.claim_executions_of_dead_processes(at);
    assert!(light(t0 + 1).await.unwrap().is_empty());
    // A process that shuts down gives its running executions up at once.
    leaving.close().await;
    assert_eq!(ids(&light(t0 + 1).await.unwrap()), vec![of_leaving]);
    // One whose heartbeat went stale, once.
    assert!(watcher.heartbeat(t0 + DEAD).await.unwrap());
    assert_eq!(ids(&light(t0 + DEAD).await.unwrap()), vec![of_stale]);
    assert!(light(t0 + DEAD).await.unwrap().is_empty());
    assert_eq!(
        ids(&watcher.claim_abandoned_executions(t0 + DEAD).await.unwrap()),
        vec![unowned]
    );
    watcher.close().await;
    f.finish().await;
}

async fn concurrent_recoveries_never_share_an_execution(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let t0 = 1_000_000;
    let dead = f.open().await;
    dead.register_process(BEAT, t0).await.unwrap();
    let mut accepted = Vec::new();
    for _ in 0..40 {
        accepted.push(dead.accept_execution(new_execution("W")).await.unwrap());
    }
    // Accepted by no process at all (a store that never registered, or an older version).
    accepted.push(f.store.accept_execution(new_execution("W")).await.unwrap());
    let (b, c) = (f.open().await, f.open().await);
    b.register_process(BEAT, t0 + DEAD).await.unwrap();
    c.register_process(BEAT, t0 + DEAD).await.unwrap();
    let (by_b, by_c) = tokio::join!(
        b.claim_abandoned_executions(t0 + DEAD),
        c.claim_abandoned_executions(t0 + DEAD)
    );
    let mut all = [ids(&by_b.unwrap()), ids(&by_c.unwrap())].concat();
    all.sort_unstable();
    assert_eq!(all, accepted, "each taken over exactly once");
    b.close().await;
    c.close().await;
    f.finish().await;
}

async fn a_restarted_process_takes_its_executions_back_at_once(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let t0 = 1_000_000;
    let first = f.open().await;
    first.register_process(BEAT, t0).await.unwrap();
    let e1 = first.accept_execution(new_execution("W")).await.unwrap();
    // Killed: no shutdown; its data directory slot is free again.
    drop(first);
    let second = f.open().await;
    second.register_process(BEAT, t0 + 1).await.unwrap();
    let other = f.open().await;
    other.register_process(BEAT, t0 + 1).await.unwrap();
    assert!(other
        .claim_abandoned_executions(t0 + 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&second.claim_abandoned_executions(t0 + 1).await.unwrap()),
        vec![e1],
        "the heartbeat is still fresh, but the slot says its process is gone"
    );
    second.close().await;
    other.close().await;
    f.finish().await;
}

async fn workflow_changes_bump_the_version(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let other = f.open().await;
    let body = json!({"name": "w", "nodes": [], "connections": {}});
    let mut seen = s.workflows_version().await.unwrap();
    let mut changed = |version: i64| {
        let moved = version != seen;
        seen = version;
        moved
    };
    let wf = s.put_workflow(None, body.clone()).await.unwrap();
    assert!(!changed(s.workflows_version().await.unwrap()), "inactive");
    s.set_workflow_active(&wf.id, true).await.unwrap();
    assert!(
        changed(other.workflows_version().await.unwrap()),
        "activated"
    );
    other
        .put_workflow(Some(&wf.id), body.clone())
        .await
        .unwrap();
    assert!(
        changed(s.workflows_version().await.unwrap()),
        "active one updated"
    );
    s.set_workflow_active(&wf.id, false).await.unwrap();
    assert!(changed(s.workflows_version().await.unwrap()), "deactivated");
    s.put_workflow(Some(&wf.id), body).await.unwrap();
    assert!(
        !changed(s.workflows_version().await.unwrap()),
        "inactive one updated"
    );
    s.set_workflow_active(&wf.id, true).await.unwrap();
    assert!(changed(s.workflows_version().await.unwrap()));
    s.delete_workflow(&wf.id).await.unwrap();
    assert!(changed(other.workflows_version().await.unwrap()), "deleted");
    other.close().await;
    f.finish().await;
}

/// n8n's `customData`, for finished rows written at once and rows written while running.
async fn execution_custom_data(postgres: bool) {
    let f = Fixture::new(postgres, |_| {}).await;
    let s = &f.store;
    let mut custom_data = serde_json::Map::new();
    custom_data.insert("user".into(), json!("ada"));
    let with_data = Finished {
        custom_data,
        ..finished("success")
    };
    let running = s.accept_execution(new_execution("A")).await.unwrap();
    s.finish_execution(running, with_data.clone())
        .await
        .unwrap();
    let deferred = s.defer_execution(new_execution("A")).await.unwrap();
    s.finish_row(&deferred, with_data).await.unwrap();
    let plain = s.accept_execution(new_execution("A")).await.unwrap();
    s.finish_execution(plain, finished("success"))
        .await
        .unwrap();
    for id in [running, deferred.id()] {
        let got = s.get_execution(id, false).await.unwrap().unwrap();
        assert_eq!(got.to_json()["customData"], json!({"user": "ada"}));
    }
    let got = s.get_execution(plain, false).await.unwrap().unwrap();
    assert_eq!(got.to_json()["customData"], json!({}));
    let listed = s
        .list_executions(&Default::default(), None, 10, false)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 3);
    assert_eq!(listed.data[1].custom_data["user"], json!("ada"));
    f.finish().await;
}

sluice_store::on_both_backends!(
    workflows_round_trip,
    execution_lifecycle,
    execution_custom_data,
    resume_data_survives_reopen,
    concurrent_writes_are_all_kept,
    credentials_are_encrypted,
    api_keys_and_leases,
    pruning_by_count_and_age,
    workflow_static_data,
    deferred_execution_rows,
    reserved_rows_keep_the_first_end,
    executions_belong_to_live_processes,
    the_light_claim_takes_what_processes_known_dead_ran,
    concurrent_recoveries_never_share_an_execution,
    a_restarted_process_takes_its_executions_back_at_once,
    workflow_changes_bump_the_version
);

/// On Postgres a write of one statement runs on its own, without BEGIN and COMMIT round trips
/// (so even a statement that cannot run inside a transaction block goes through); several
/// statements share one transaction.
#[tokio::test]
async fn a_lone_postgres_write_needs_no_transaction_around_it() {
    let f = Fixture::new(true, |_| {}).await;
    let db = f.store.database();
    db.migrate(vec!["CREATE TABLE lone (n bigint)".into()])
        .await
        .unwrap();
    let vacuum = || Stmt::new("VACUUM lone".to_string(), vec![]);
    db.transaction(vec![vacuum()]).await.unwrap();
    let refused = db.transaction(vec![vacuum(), vacuum()]).await.unwrap_err();
    assert!(
        refused.to_string().contains("inside a transaction block"),
        "{refused}"
    );
    f.finish().await;
}

#[tokio::test]
async fn encryption_key_is_generated_once_into_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::sqlite(dir.path().to_path_buf());
    let store = Store::open(config.clone()).await.unwrap();
    let cred = store
        .create_credential("c", "httpHeaderAuth", &json!({"name": "X", "value": "v"}))
        .await
        .unwrap();
    store.close().await;
    let text = std::fs::read_to_string(dir.path().join("config")).unwrap();
    assert!(text.contains("encryptionKey"));
    let again = Store::open(config).await.unwrap();
    assert!(again.credential_data(&cred.id).await.unwrap().is_some());
    again.close().await;
}

#[test]
fn config_from_n8n_environment() {
    let env = |name: &str| {
        match name {
            "DB_TYPE" => Some("postgresdb"),
            "DB_POSTGRESDB_HOST" => Some("db"),
            "DB_POSTGRESDB_SCHEMA" => Some("s"),
            "EXECUTIONS_DATA_SAVE_ON_SUCCESS" => Some("none"),
            "EXECUTIONS_DATA_MAX_AGE" => Some("24"),
            _ => None,
        }
        .map(String::from)
    };
    let config = StoreConfig::from_lookup("/tmp/x".into(), env).unwrap();
    let Backend::Postgres(pg) = config.backend else {
        panic!("postgres expected")
    };
    assert_eq!(
        (pg.host.as_str(), pg.schema.as_str(), pg.port),
        ("db", "s", 5432)
    );
    assert!(!config.saving.on_success && config.saving.on_error);
    assert_eq!(config.pruning.max_age_hours, 24);
    let bad = StoreConfig::from_lookup("/tmp/x".into(), |n| {
        (n == "DB_TYPE").then(|| "mysqldb".to_string())
    });
    assert!(bad.is_err());
    let settings = json!({"saveDataSuccessExecution": "all"});
    assert!(config
        .saving
        .keeps("success", "webhook", settings.as_object().unwrap()));
}
