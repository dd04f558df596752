//! Failover within seconds: a process killed with SIGKILL under load stops
//! holding its deliveries within one lease (10 s by default), so what it
//! had claimed reaches the receiver through the process still running
//! (PostgreSQL) or through the restarted one (SQLite) within 20 s; and a
//! live process renews its claims, so a receiver slower than the lease
//! still gets each message once.
//!
//! The assertions are on the receiver's arrivals, by `webhook-id`: a
//! delivery the dead process had sent but not yet recorded may arrive
//! twice (at least once); every other arrives exactly once.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::cli::{ServeProcess, printed_key, start_serve};
use crate::delivery_engine::{Admin, SERVE_ARGS, arrivals, drained, start_with_default_lease};
use crate::helpers::{Backend, TestDatabase};
use crate::receiver::{Receiver, Reply};

/// How soon after the kill (PostgreSQL) or the restart (SQLite) what the
/// dead process held must have reached the receiver.
const TAKEN_OVER_WITHIN: Duration = Duration::from_secs(20);

/// How long the receiver takes to answer under load: long enough that the
/// killed process dies with deliveries in flight.
const RECEIVER_DELAY: Duration = Duration::from_millis(300);

/// Admin of a first process on the database.
fn admin_of(process: &ServeProcess) -> Admin {
    Admin {
        client: reqwest::Client::new(),
        address: process.address.clone(),
        key: printed_key(&process.printed).expect("the first start prints a key"),
    }
}

/// Single stage changes sent one after the other to `address` (read anew
/// before each request) until stopped.
fn update_stream(
    address: watch::Receiver<String>,
    token: String,
    leads: Vec<String>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let mut n = 0usize;
        while !*stop.borrow() {
            let lead = &leads[n % leads.len()];
            let stage = ["Enrolled", "Inquiry"][(n / leads.len()) % 2];
            let target = address.borrow().clone();
            // A request to a process just killed fails: the stream goes on.
            let _ = client
                .post(format!("{target}/api/v1/webhook-import/update"))
                .bearer_auth(&token)
                .json(&json!({"lead_profile_uid": lead, "funnel_stage": stage}))
                .send()
                .await;
            n += 1;
        }
        n
    })
}

/// Kills `process` with SIGKILL once it holds deliveries; returns the
/// deliveries it held at its death (claimed under its process id) and when
/// it died.
async fn kill(mut process: ServeProcess, database_url: &str) -> (HashSet<String>, Instant) {
    let pid = process.child.id().expect("a running process has an id");
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .expect("connect to the test database");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (holding,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM deliveries WHERE claimed_until IS NOT NULL AND claimed_by LIKE $1",
        )
        .bind(format!("{pid}-%"))
        .fetch_one(&pool)
        .await
        .expect("count the process's claims");
        if holding > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the process never held a delivery: the test would prove nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.child.start_kill().expect("SIGKILL");
    let _ = process.child.wait().await;
    let died = Instant::now();
    // Nothing else may touch these rows before their lease lapses.
    let held: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM deliveries WHERE claimed_until IS NOT NULL AND claimed_by LIKE $1",
    )
    .bind(format!("{pid}-%"))
    .fetch_all(&pool)
    .await
    .expect("read the dead process's claims");
    (held.into_iter().map(|(id,)| id).collect(), died)
}

/// Waits until every one of `held` has arrived at the receiver since
/// `since`, at most until `deadline`; returns when the last one did.
async fn taken_over(receiver: &Receiver, held: &HashSet<String>, since: Instant) -> Duration {
    let deadline = since + TAKEN_OVER_WITHIN;
    loop {
        let arrived: HashMap<String, Instant> = receiver
            .received()
            .into_iter()
            .filter(|request| request.at >= since)
            .map(|request| (request.header("webhook-id").to_owned(), request.at))
            .collect();
        let missing: Vec<&String> = held
            .iter()
            .filter(|id| !arrived.contains_key(*id))
            .collect();
        if missing.is_empty() {
            let last = held.iter().filter_map(|id| arrived.get(id)).max();
            return last.map_or(Duration::ZERO, |at| at.duration_since(since));
        }
        assert!(
            Instant::now() < deadline,
            "{} of the {} deliveries the killed process held did not arrive within {TAKEN_OVER_WITHIN:?}: {missing:?}",
            missing.len(),
            held.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// After the queue drained: every delivery arrived, and only those the
/// dead process held may have arrived twice.
async fn each_arrived_once_but_those_held(
    receiver: &Receiver,
    database_url: &str,
    held: &HashSet<String>,
) {
    drained(database_url, Duration::from_secs(60)).await;
    // Give any stray second send time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .expect("connect to the test database");
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM deliveries")
        .fetch_all(&pool)
        .await
        .expect("read deliveries");
    let counts = arrivals(receiver);
    let missing: Vec<&String> = ids
        .iter()
        .map(|(id,)| id)
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    let twice: Vec<(&String, &usize)> = counts
        .iter()
        .filter(|(id, n)| **n > 1 && !held.contains(*id))
        .collect();
    assert!(
        twice.is_empty(),
        "sent more than once, though not held by the killed process: {twice:?}"
    );
}

/// Slow answers for the whole test, so that deliveries are in flight.
fn slow_receiver(receiver: &Receiver) {
    receiver.script((0..20_000).map(|_| Reply::status(200).after(RECEIVER_DELAY)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_process_s_deliveries_go_out_through_the_survivor_within_seconds() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    slow_receiver(&receiver);
    // Both with the default lease: the one being tested.
    let victim = start_with_default_lease(&database).await;
    let survivor = start_with_default_lease(&database).await;
    let admin = admin_of(&victim);
    let (leads, token) = admin.set_up(50, &receiver.url("/hook")).await;

    // The victim takes the changes until it dies (its own commits wake its
    // worker first), then the survivor; both workers send.
    let (address_tx, address) = watch::channel(victim.address.clone());
    let (stop_tx, stop) = watch::channel(false);
    let stream = update_stream(address, token, leads, stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (held, died) = kill(victim, &database.url).await;
    let _ = address_tx.send(survivor.address.clone());
    assert!(
        !held.is_empty(),
        "the killed process held no deliveries: the test proves nothing"
    );
    // Load goes on while the dead process's claims lapse.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_tx.send(true);
    let sent = stream.await.expect("the update stream");
    assert!(sent > 0);

    let took = taken_over(&receiver, &held, died).await;
    eprintln!(
        "{} deliveries held by the killed process arrived within {took:?} of its death",
        held.len()
    );
    each_arrived_once_but_those_held(&receiver, &database.url, &held).await;
    drop(survivor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_process_s_deliveries_go_out_within_seconds_of_the_restart() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Sqlite).await;
    let receiver = Receiver::start().await;
    slow_receiver(&receiver);
    let server = start_with_default_lease(&database).await;
    let admin = admin_of(&server);
    let (leads, token) = admin.set_up(50, &receiver.url("/hook")).await;

    let (address_tx, address) = watch::channel(server.address.clone());
    let (stop_tx, stop) = watch::channel(false);
    let stream = update_stream(address, token, leads, stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (held, _) = kill(server, &database.url).await;
    assert!(
        !held.is_empty(),
        "the killed process held no deliveries: the test proves nothing"
    );
    let restarted = start_with_default_lease(&database).await;
    let restarted_at = Instant::now();
    let _ = address_tx.send(restarted.address.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_tx.send(true);
    stream.await.expect("the update stream");

    let took = taken_over(&receiver, &held, restarted_at).await;
    eprintln!(
        "{} deliveries held by the killed process arrived within {took:?} of the restart",
        held.len()
    );
    each_arrived_once_but_those_held(&receiver, &database.url, &held).await;
    drop(restarted);
}

/// The live process renews its claims while the receiver takes longer than
/// the lease: no other process takes them over, nothing is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_receiver_slower_than_the_lease_gets_each_message_once() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    // Three times the one-second lease.
    receiver.script((0..10).map(|_| Reply::status(200).after(Duration::from_secs(3))));
    let args = [
        SERVE_ARGS[0],
        SERVE_ARGS[1],
        "--delivery-lease-seconds",
        "1",
    ];
    let first = start_serve(&database.url, &args).await;
    let second = start_serve(&database.url, &args).await;
    let admin = admin_of(&first);
    let (leads, token) = admin.set_up(5, &receiver.url("/hook")).await;
    let records: Vec<Value> = leads
        .iter()
        .map(|lead| json!({"lead_profile_uid": lead, "funnel_stage": "Enrolled"}))
        .collect();
    let moved = admin
        .client
        .post(format!(
            "{}/api/v1/webhook-import/batch-update",
            second.address
        ))
        .bearer_auth(&token)
        .json(&json!({ "records": records }))
        .send()
        .await
        .expect("batch update");
    assert!(moved.status().is_success());

    receiver.wait_for(5).await;
    drained(&database.url, Duration::from_secs(30)).await;
    // Long enough for a lapsed claim to be taken and sent again.
    receiver
        .assert_no_more_than(5, Duration::from_secs(3))
        .await;
    let counts = arrivals(&receiver);
    assert_eq!(counts.len(), 5, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}
