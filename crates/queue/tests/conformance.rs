//! One behaviour suite for the job queue, run against every backend: the embedded one on
//! SQLite and on the machine's Postgres (a fresh schema per test), and Redis on the machine's
//! server (127.0.0.1:6379, a fresh key prefix per test, its keys deleted afterwards). Tests fail,
//! not skip, when a server does not answer.

use sluice_queue::{
    Canceled, EmbeddedQueue, Enqueued, Lease, Nack, Nacked, NewJob, Priority, Queue, QueueConfig,
    QueueError, RedisConfig, RedisQueue, WorkerStatus,
};
use sluice_store::testing::{RedisKeys, TestDb};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
    Redis,
}

/// A queue on one backend, with what must outlive it.
struct Fixture {
    queue: Arc<dyn Queue>,
    _db: Option<TestDb>,
    _keys: Option<RedisKeys>,
    /// The Redis backend's settings, for a second process on the same queue.
    redis: Option<RedisConfig>,
}

static PREFIXES: AtomicUsize = AtomicUsize::new(0);

impl Fixture {
    async fn new(backend: Backend, tune: impl FnOnce(&mut QueueConfig)) -> Fixture {
        let mut config = QueueConfig::default();
        tune(&mut config);
        match backend {
            Backend::Sqlite | Backend::Postgres => {
                let db = TestDb::new(matches!(backend, Backend::Postgres), "queue_test").await;
                let store = db.open().await;
                Fixture {
                    queue: Arc::new(EmbeddedQueue::new(&store, config)),
                    _db: Some(db),
                    _keys: None,
                    redis: None,
                }
            }
            Backend::Redis => {
                let prefix = format!(
                    "sluice_test_{}_{}_{}",
                    std::process::id(),
                    PREFIXES.fetch_add(1, Ordering::SeqCst),
                    sluice_store::now_ms()
                );
                let redis = RedisConfig {
                    url: "redis://127.0.0.1:6379/".into(),
                    prefix: prefix.clone(),
                };
                let queue = RedisQueue::connect(&redis, config)
                    .await
                    .expect("Redis answers at 127.0.0.1:6379");
                Fixture {
                    queue: Arc::new(queue),
                    _db: None,
                    _keys: Some(RedisKeys(prefix)),
                    redis: Some(redis),
                }
            }
        }
    }

    /// The queue as another process sees it: a connection of its own on Redis; the embedded
    /// queue relays replies within its own process, so there it is the same queue.
    async fn queue_of_another_process(&self) -> Arc<dyn Queue> {
        match &self.redis {
            Some(redis) => Arc::new(
                RedisQueue::connect(redis, QueueConfig::default())
                    .await
                    .expect("Redis answers at 127.0.0.1:6379"),
            ),
            None => self.queue.clone(),
        }
    }
}

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod embedded_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::Backend::Sqlite).await } )*
        }
        mod embedded_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::Backend::Postgres).await } )*
        }
        mod redis {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::Backend::Redis).await } )*
        }
    };
}

on_every_backend!(
    a_job_is_delivered_once_and_its_result_recorded_once,
    higher_priorities_go_first_and_ties_in_arrival_order,
    a_low_priority_job_that_waited_goes_before_a_new_high_one,
    a_delayed_job_waits_for_its_time,
    a_dedup_key_refuses_a_second_job_until_it_expires,
    a_job_whose_lease_ran_out_goes_to_another_worker,
    extending_the_lease_keeps_the_job,
    a_job_that_stalls_too_often_is_dead_lettered_and_can_be_replayed,
    failures_are_retried_with_their_delay_then_dead_lettered,
    a_buried_job_is_dead_lettered_at_once_and_can_be_forgotten,
    a_released_job_is_taken_again_at_once,
    canceling_stops_a_waiting_or_running_job,
    stats_count_jobs_per_state_and_list_workers,
    a_waiting_reservation_wakes_on_enqueue_and_outlives_the_client_timeout,
    a_waiting_reservation_takes_a_delayed_job_enqueued_meanwhile_when_due,
    concurrent_workers_never_share_a_job,
    replies_reach_the_waiter_in_order,
    replies_reach_the_process_that_waits,
    a_bounded_enqueue_is_refused_while_the_queue_is_full,
    an_ack_takes_the_next_ready_job_in_priority_order,
    concurrent_enqueues_and_acks_behave_as_one_at_a_time,
);

const LEASE: Duration = Duration::from_secs(30);

fn job(id: &str) -> NewJob {
    NewJob::new(id, format!("payload of {id}"))
}

fn with_priority(id: &str, priority: Priority) -> NewJob {
    NewJob {
        priority,
        ..job(id)
    }
}

async fn take(queue: &dyn Queue) -> Option<sluice_queue::Job> {
    queue.reserve("w1", LEASE, Duration::ZERO).await.unwrap()
}

async fn a_job_is_delivered_once_and_its_result_recorded_once(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    assert_eq!(q.enqueue(job("1")).await.unwrap(), Enqueued::Added);
    assert_eq!(
        q.enqueue(job("1")).await.unwrap(),
        Enqueued::Duplicate("1".into())
    );
    let got = take(q).await.expect("a job");
    assert_eq!(
        (got.id.as_str(), got.payload.as_str()),
        ("1", "payload of 1")
    );
    assert_eq!((got.stalls, got.failures), (0, 0));
    assert!(
        take(q).await.is_none(),
        "a leased job is not handed out again"
    );
    assert!(q.ack(&got, "first").await.unwrap());
    assert!(
        !q.ack(&got, "second").await.unwrap(),
        "a result is recorded once"
    );
    assert_eq!(q.result("1").await.unwrap().as_deref(), Some("first"));
    assert_eq!(
        q.enqueue(job("1")).await.unwrap(),
        Enqueued::Duplicate("1".into()),
        "a finished job's id is still known"
    );
    assert!(take(q).await.is_none());
}

async fn higher_priorities_go_first_and_ties_in_arrival_order(backend: Backend) {
    let f = Fixture::new(backend, |c| c.aging_step = Duration::from_secs(3600)).await;
    let q = f.queue.as_ref();
    for (id, p) in [
        ("low", Priority::Low),
        ("n1", Priority::Normal),
        ("high", Priority::High),
        ("n2", Priority::Normal),
        ("urgent", Priority::Rank(0)),
        ("n3", Priority::Normal),
    ] {
        q.enqueue(with_priority(id, p)).await.unwrap();
    }
    let mut order = Vec::new();
    while let Some(j) = take(q).await {
        order.push(j.id);
    }
    assert_eq!(order, ["urgent", "high", "n1", "n2", "n3", "low"]);
}

async fn a_low_priority_job_that_waited_goes_before_a_new_high_one(backend: Backend) {
    // One rank step is worth 1 ms of waiting: high (10) and low (90) are 80 ms apart.
    let f = Fixture::new(backend, |c| c.aging_step = Duration::from_millis(1)).await;
    let q = f.queue.as_ref();
    q.enqueue(with_priority("old-low", Priority::Low))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    q.enqueue(with_priority("new-high", Priority::High))
        .await
        .unwrap();
    assert_eq!(take(q).await.unwrap().id, "old-low");
    assert_eq!(take(q).await.unwrap().id, "new-high");
}

async fn a_delayed_job_waits_for_its_time(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    let started = Instant::now();
    q.enqueue(NewJob {
        delay: Duration::from_millis(300),
        ..job("later")
    })
    .await
    .unwrap();
    q.enqueue(job("now")).await.unwrap();
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.delayed, stats.waiting()), (1, 1));
    assert_eq!(take(q).await.unwrap().id, "now");
    assert!(take(q).await.is_none(), "not before its delay");
    let later = q
        .reserve("w1", LEASE, Duration::from_secs(5))
        .await
        .unwrap()
        .expect("the delayed job once due");
    assert_eq!(later.id, "later");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

async fn a_dedup_key_refuses_a_second_job_until_it_expires(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    let keyed = |id: &str| NewJob {
        dedup: Some(("order-42".into(), Duration::from_millis(200))),
        ..job(id)
    };
    assert_eq!(q.enqueue(keyed("a")).await.unwrap(), Enqueued::Added);
    assert_eq!(
        q.enqueue(keyed("b")).await.unwrap(),
        Enqueued::Duplicate("a".into())
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(q.enqueue(keyed("c")).await.unwrap(), Enqueued::Added);
    let ids: HashSet<String> = [take(q).await.unwrap().id, take(q).await.unwrap().id].into();
    assert_eq!(ids, HashSet::from(["a".to_string(), "c".to_string()]));
}

async fn a_job_whose_lease_ran_out_goes_to_another_worker(backend: Backend) {
    let f = Fixture::new(backend, |c| c.max_stalls = 3).await;
    let q = f.queue.as_ref();
    q.enqueue(job("1")).await.unwrap();
    let first = q
        .reserve("w1", Duration::from_millis(100), Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert!(q.reap().await.unwrap().is_empty());
    assert!(q
        .reserve("w2", LEASE, Duration::ZERO)
        .await
        .unwrap()
        .is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(q.reap().await.unwrap().is_empty(), "requeued, not dead");
    let second = q
        .reserve("w2", LEASE, Duration::ZERO)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(second.id, "1");
    assert_eq!(second.stalls, 1);
    assert_ne!(second.token, first.token);
    assert!(first.first_delivery() && !second.first_delivery());
    assert_eq!(q.extend(&first, LEASE).await.unwrap(), Lease::Lost);
    assert_eq!(
        q.nack(&first, Nack::Release).await.unwrap(),
        Nacked::Lost,
        "the old reservation cannot hand back the job"
    );
    assert_eq!(q.extend(&second, LEASE).await.unwrap(), Lease::Held);
    // Both ran it: the first to finish records the result, the other finds it recorded.
    assert!(q.ack(&first, "from w1").await.unwrap());
    assert!(!q.ack(&second, "from w2").await.unwrap());
    assert_eq!(q.result("1").await.unwrap().as_deref(), Some("from w1"));
    assert_eq!(q.extend(&second, LEASE).await.unwrap(), Lease::Lost);
}

async fn extending_the_lease_keeps_the_job(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    q.enqueue(job("1")).await.unwrap();
    let lease = Duration::from_millis(300);
    let held = q
        .reserve("w1", lease, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(q.extend(&held, lease).await.unwrap(), Lease::Held);
        q.reap().await.unwrap();
    }
    assert!(q
        .reserve("w2", LEASE, Duration::ZERO)
        .await
        .unwrap()
        .is_none());
    assert!(q.ack(&held, "ok").await.unwrap());
}

async fn a_job_that_stalls_too_often_is_dead_lettered_and_can_be_replayed(backend: Backend) {
    let f = Fixture::new(backend, |c| c.max_stalls = 1).await;
    let q = f.queue.as_ref();
    q.enqueue(with_priority("crashy", Priority::High))
        .await
        .unwrap();
    let short = Duration::from_millis(50);
    for round in 0..2 {
        let got = q.reserve("w1", short, Duration::ZERO).await.unwrap();
        assert_eq!(got.map(|j| j.stalls), Some(round));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let dead = q.reap().await.unwrap();
        assert_eq!(dead.is_empty(), round == 0, "round {round}: {dead:?}");
    }
    assert!(take(q).await.is_none());
    let dead = q.dead_jobs().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, "crashy");
    assert_eq!(dead[0].stalls, 2);
    assert_eq!(dead[0].payload, "payload of crashy");
    assert!(
        dead[0].error.contains("stalled 2 times"),
        "{}",
        dead[0].error
    );
    assert_eq!(q.stats().await.unwrap().dead, 1);
    assert_eq!(
        q.dead_job("crashy").await.unwrap().as_ref(),
        Some(&dead[0]),
        "one dead job, as listed"
    );
    assert_eq!(q.dead_job("unknown").await.unwrap(), None);

    assert!(!q.replay("unknown").await.unwrap());
    assert!(q.replay("crashy").await.unwrap());
    assert!(!q.replay("crashy").await.unwrap(), "no longer dead");
    let again = take(q).await.expect("replayed");
    assert_eq!(
        (again.id.as_str(), again.stalls, again.rank),
        ("crashy", 0, 10)
    );
    assert!(!again.first_delivery(), "a replayed job ran before");
    assert!(q.dead_jobs().await.unwrap().is_empty());
    assert_eq!(q.dead_job("crashy").await.unwrap(), None, "no longer dead");

    q.enqueue(job("other")).await.unwrap();
    for round in 0..2 {
        q.reserve("w1", short, Duration::ZERO)
            .await
            .unwrap()
            .expect("other");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let dead = q.reap().await.unwrap();
        assert_eq!(dead.len(), round, "round {round}: {dead:?}");
    }
    assert_eq!(q.purge_dead().await.unwrap(), vec!["other".to_string()]);
    assert!(q.dead_jobs().await.unwrap().is_empty());
}

async fn failures_are_retried_with_their_delay_then_dead_lettered(backend: Backend) {
    let f = Fixture::new(backend, |c| c.max_failures = 2).await;
    let q = f.queue.as_ref();
    q.enqueue(job("flaky")).await.unwrap();
    for attempt in 0..3 {
        let got = q
            .reserve("w1", LEASE, Duration::from_secs(5))
            .await
            .unwrap()
            .expect("retried");
        assert_eq!(got.failures, attempt);
        let started = Instant::now();
        let nacked = q
            .nack(
                &got,
                Nack::Retry {
                    delay: Duration::from_millis(200),
                    error: format!("boom {attempt}"),
                },
            )
            .await
            .unwrap();
        if attempt < 2 {
            assert_eq!(nacked, Nacked::Requeued);
            assert!(take(q).await.is_none(), "not before its backoff");
            assert!(started.elapsed() < Duration::from_millis(200));
        } else {
            assert_eq!(nacked, Nacked::DeadLettered);
        }
    }
    let dead = q.dead_jobs().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].failures, dead[0].error.as_str()), (3, "boom 2"));
}

async fn a_buried_job_is_dead_lettered_at_once_and_can_be_forgotten(backend: Backend) {
    let f = Fixture::new(backend, |c| c.max_failures = 5).await;
    let q = f.queue.as_ref();
    q.enqueue(job("spent")).await.unwrap();
    q.enqueue(job("kept")).await.unwrap();
    let got = take(q).await.unwrap();
    let bury = Nack::Bury {
        error: "failed after 3 retries".into(),
    };
    assert_eq!(q.nack(&got, bury).await.unwrap(), Nacked::DeadLettered);
    let dead = q.dead_jobs().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].id.as_str(),
            dead[0].failures,
            dead[0].error.as_str()
        ),
        ("spent", 1, "failed after 3 retries")
    );
    assert!(
        !q.forget_dead("kept").await.unwrap(),
        "a waiting job is not dead"
    );
    assert!(q.forget_dead("spent").await.unwrap());
    assert!(!q.forget_dead("spent").await.unwrap());
    assert!(q.dead_jobs().await.unwrap().is_empty());
    assert_eq!(q.stats().await.unwrap().dead, 0);
    assert_eq!(take(q).await.expect("the other job waits").id, "kept");
}

async fn a_released_job_is_taken_again_at_once(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    q.enqueue(job("1")).await.unwrap();
    let got = take(q).await.unwrap();
    assert_eq!(q.nack(&got, Nack::Release).await.unwrap(), Nacked::Requeued);
    let again = take(q).await.expect("handed back");
    assert_eq!((again.stalls, again.failures), (0, 0));
    assert!(got.first_delivery() && !again.first_delivery());
}

async fn canceling_stops_a_waiting_or_running_job(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    q.enqueue(job("queued")).await.unwrap();
    assert_eq!(q.cancel("queued").await.unwrap(), Canceled::Waiting);
    assert!(take(q).await.is_none());
    q.enqueue(job("running")).await.unwrap();
    let running = take(q).await.unwrap();
    assert_eq!(q.cancel("running").await.unwrap(), Canceled::Running);
    assert_eq!(q.extend(&running, LEASE).await.unwrap(), Lease::Canceled);
    assert!(!q.ack(&running, "late").await.unwrap());
    assert_eq!(q.cancel("running").await.unwrap(), Canceled::NotFound);
    assert_eq!(q.cancel("nothing").await.unwrap(), Canceled::NotFound);
    assert_eq!(q.stats().await.unwrap().in_flight, 0);
}

async fn stats_count_jobs_per_state_and_list_workers(backend: Backend) {
    let f = Fixture::new(backend, |c| c.aging_step = Duration::from_secs(3600)).await;
    let q = f.queue.as_ref();
    for (id, p) in [
        ("h1", Priority::High),
        ("h2", Priority::High),
        ("n1", Priority::Normal),
        ("l1", Priority::Low),
        ("l2", Priority::Rank(80)),
        ("l3", Priority::Rank(100)),
    ] {
        q.enqueue(with_priority(id, p)).await.unwrap();
    }
    q.enqueue(NewJob {
        delay: Duration::from_secs(60),
        ..job("d1")
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got = take(q).await.unwrap();
    assert_eq!(got.id, "h1");
    let stats = q.stats().await.unwrap();
    assert_eq!(
        (
            stats.waiting_high,
            stats.waiting_normal,
            stats.waiting_low,
            stats.delayed,
            stats.in_flight,
            stats.dead
        ),
        (1, 1, 3, 1, 1, 0)
    );
    assert!(stats.oldest_waiting_ms >= 50, "{}", stats.oldest_waiting_ms);
    q.ack(&got, "").await.unwrap();
    // Completions are counted per whole second, the current one excluded on Redis.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.in_flight, 0);
    assert!(stats.jobs_per_second > 0.0);
    let mut worker = WorkerStatus {
        id: "worker-a".into(),
        host: "box".into(),
        pid: 7,
        concurrency: 10,
        running: 2,
        completed: 5,
        started_at: 1,
        state: "running".into(),
        seen_at: sluice_store::now_ms(),
    };
    q.report_worker(&worker).await.unwrap();
    assert_eq!(q.stats().await.unwrap().workers, vec![worker.clone()]);
    worker.state = "gone".into();
    q.report_worker(&worker).await.unwrap();
    assert!(q.stats().await.unwrap().workers.is_empty());
}

async fn a_waiting_reservation_wakes_on_enqueue_and_outlives_the_client_timeout(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    // Longer than redis-rs's default response timeout (500 ms): an empty wait ends in None.
    let started = Instant::now();
    let nothing = f
        .queue
        .reserve("w1", LEASE, Duration::from_millis(1200))
        .await
        .unwrap();
    assert!(nothing.is_none());
    assert!(started.elapsed() >= Duration::from_millis(1100));
    let queue = f.queue.clone();
    let waiting =
        tokio::spawn(async move { queue.reserve("w1", LEASE, Duration::from_secs(20)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let enqueued = Instant::now();
    f.queue.enqueue(job("1")).await.unwrap();
    let got = waiting
        .await
        .unwrap()
        .unwrap()
        .expect("woken by the enqueue");
    assert_eq!(got.id, "1");
    assert!(
        enqueued.elapsed() < Duration::from_secs(10),
        "woken, not timed out"
    );
}

/// A reservation already waiting when a delayed job is enqueued takes it when it is due, not
/// at the end of its wait.
async fn a_waiting_reservation_takes_a_delayed_job_enqueued_meanwhile_when_due(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let queue = f.queue.clone();
    let waiting =
        tokio::spawn(async move { queue.reserve("w1", LEASE, Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let enqueued = Instant::now();
    f.queue
        .enqueue(NewJob {
            delay: Duration::from_millis(300),
            ..job("later")
        })
        .await
        .unwrap();
    let got = waiting.await.unwrap().unwrap().expect("taken when due");
    assert_eq!(got.id, "later");
    let waited = enqueued.elapsed();
    assert!(
        (Duration::from_millis(250)..Duration::from_secs(2)).contains(&waited),
        "taken {waited:?} after it was enqueued"
    );
}

async fn concurrent_workers_never_share_a_job(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let jobs = 120;
    for i in 0..jobs {
        f.queue.enqueue(job(&i.to_string())).await.unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..4 {
        let queue = f.queue.clone();
        workers.push(tokio::spawn(async move {
            let mut taken = Vec::new();
            let name = format!("w{w}");
            while let Some(j) = queue
                .reserve(&name, LEASE, Duration::from_millis(300))
                .await
                .unwrap()
            {
                assert!(queue.ack(&j, "").await.unwrap());
                taken.push(j.id);
            }
            taken
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (jobs, jobs));
}

async fn replies_reach_the_waiter_in_order(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    let to = q.reply_address();
    q.reply(&to, "7", "first").await.unwrap();
    q.reply(&to, "7", "second\nline").await.unwrap();
    let short = Duration::from_millis(100);
    let wait = Duration::from_secs(10);
    assert_eq!(
        q.wait_reply("7", wait).await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(
        q.wait_reply("7", wait).await.unwrap().as_deref(),
        Some("second\nline")
    );
    assert_eq!(q.wait_reply("7", short).await.unwrap(), None);
    assert_eq!(
        q.wait_reply("8", short).await.unwrap(),
        None,
        "replies are per job"
    );
    let queue = f.queue.clone();
    let waiting = tokio::spawn(async move { queue.wait_reply("9", Duration::from_secs(20)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    q.reply(&to, "9", "late").await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap().as_deref(), Some("late"));
}

/// Each process that waits for replies has its own address: a worker (another queue value on
/// the same backend) replies to the process that enqueued the job, and many waiters at once
/// each get their own reply.
async fn replies_reach_the_process_that_waits(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let main = f.queue.clone();
    let worker = f.queue_of_another_process().await;
    let to = main.reply_address();
    let waiters: Vec<_> = (0..200)
        .map(|n| {
            let main = main.clone();
            tokio::spawn(async move {
                main.wait_reply(&format!("job-{n}"), Duration::from_secs(20))
                    .await
            })
        })
        .collect();
    for n in (0..200).rev() {
        worker
            .reply(&to, &format!("job-{n}"), &format!("answer {n}"))
            .await
            .unwrap();
    }
    for (n, waiter) in waiters.into_iter().enumerate() {
        let answer = waiter.await.unwrap().unwrap();
        assert_eq!(answer.as_deref(), Some(format!("answer {n}").as_str()));
    }
    if f.redis.is_some() {
        let refused = worker
            .reply("elsewhere", "job-1", "lost")
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("'elsewhere' is not a reply address"),
            "{refused}"
        );
    }
}

async fn a_bounded_enqueue_is_refused_while_the_queue_is_full(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let q = f.queue.as_ref();
    let bounded = |id: &str| NewJob {
        max_waiting: Some(2),
        ..job(id)
    };
    q.enqueue(bounded("1")).await.unwrap();
    let delayed = NewJob {
        delay: Duration::from_secs(60),
        ..bounded("2")
    };
    q.enqueue(delayed).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 2, "delayed jobs wait too");
    assert!(matches!(
        q.enqueue(bounded("3")).await,
        Err(QueueError::Full(2))
    ));
    assert_eq!(
        q.enqueue(bounded("1")).await.unwrap(),
        Enqueued::Duplicate("1".into()),
        "a job already there is a duplicate, not refused"
    );
    assert_eq!(q.enqueue(job("unbounded")).await.unwrap(), Enqueued::Added);
    assert_eq!(q.depth().await.unwrap(), 3);
    take(q).await.unwrap();
    take(q).await.unwrap();
    assert_eq!(
        q.enqueue(bounded("3")).await.unwrap(),
        Enqueued::Added,
        "room again"
    );
    assert!(take(q).await.is_some(), "the refused job was not kept");
    assert!(take(q).await.is_none());
}

async fn an_ack_takes_the_next_ready_job_in_priority_order(backend: Backend) {
    let f = Fixture::new(backend, |c| c.aging_step = Duration::from_secs(3600)).await;
    let q = f.queue.as_ref();
    q.enqueue(job("1")).await.unwrap();
    let first = take(q).await.expect("a job");
    q.enqueue(with_priority("low", Priority::Low))
        .await
        .unwrap();
    q.enqueue(with_priority("high", Priority::High))
        .await
        .unwrap();
    let (recorded, next) = q
        .ack_and_reserve(&first, "done", "w1", LEASE)
        .await
        .unwrap();
    assert!(recorded);
    assert_eq!(q.result("1").await.unwrap().as_deref(), Some("done"));
    let next = next.expect("the next job");
    assert_eq!(next.id, "high");
    assert!(
        q.extend(&next, LEASE).await.unwrap() == Lease::Held,
        "the next job is leased"
    );
    let (_, last) = q.ack_and_reserve(&next, "done", "w1", LEASE).await.unwrap();
    let last = last.expect("the low job");
    assert_eq!(last.id, "low");
    let (_, none) = q.ack_and_reserve(&last, "done", "w1", LEASE).await.unwrap();
    assert!(none.is_none(), "nothing left to take");
}

/// Many callers at once (the Redis backend merges them into batched script calls): a bound
/// admits exactly its room, a repeated id is added once, and acknowledgements that take the
/// next job record each result once and never hand one job to two slots.
async fn concurrent_enqueues_and_acks_behave_as_one_at_a_time(backend: Backend) {
    let f = Fixture::new(backend, |_| {}).await;
    let bounded = |id: String| NewJob {
        max_waiting: Some(40),
        ..job(&id)
    };
    let enqueues: Vec<_> = (0..100)
        .map(|i| {
            let queue = f.queue.clone();
            // Ids 0..=49 twice each: 50 distinct jobs offered for 40 places.
            tokio::spawn(async move { queue.enqueue(bounded((i % 50).to_string())).await })
        })
        .collect();
    let (mut added, mut duplicates, mut full) = (0, 0, 0);
    for enqueue in enqueues {
        match enqueue.await.unwrap() {
            Ok(Enqueued::Added) => added += 1,
            Ok(Enqueued::Duplicate(_)) => duplicates += 1,
            Err(QueueError::Full(depth)) => {
                assert_eq!(depth, 40);
                full += 1
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(added, 40, "the bound admits exactly its room");
    assert_eq!(f.queue.depth().await.unwrap(), 40);
    assert_eq!(added + duplicates + full, 100);

    let slots: Vec<_> = (0..8)
        .map(|slot| {
            let queue = f.queue.clone();
            tokio::spawn(async move {
                let name = format!("slot{slot}");
                let mut taken = Vec::new();
                let mut held = queue.reserve(&name, LEASE, Duration::ZERO).await.unwrap();
                while let Some(job) = held {
                    let (recorded, next) = queue
                        .ack_and_reserve(&job, &format!("result of {}", job.id), &name, LEASE)
                        .await
                        .unwrap();
                    assert!(recorded, "{} recorded once", job.id);
                    taken.push(job.id);
                    held = next;
                }
                taken
            })
        })
        .collect();
    let mut all = Vec::new();
    for slot in slots {
        all.extend(slot.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().cloned().collect();
    assert_eq!((all.len(), distinct.len()), (40, 40));
    for id in &all {
        let result = f.queue.result(id).await.unwrap();
        assert_eq!(result, Some(format!("result of {id}")));
    }
}
