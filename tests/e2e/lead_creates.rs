//! Admin API creates under group commit: creates that arrive together
//! commit in one transaction (on PostgreSQL through the group writer of
//! inbound updates, as lead records; on SQLite the writer thread groups
//! them), and each is answered as if it had run alone:
//! one lead per email, a 409 naming the lead that holds it, a 422 for a
//! stage outside the funnel, whatever else its group holds; a group that
//! fails is retried request by request, so one create never fails another.
//!
//! To make a group, the tests hold the writes (the SQLite writer thread,
//! or PostgreSQL's account row, which every group share-locks) while a few
//! creates occupy the group writer's tasks (PostgreSQL); the creates sent
//! next queue behind them and are taken together once the hold is
//! released.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard::storage::StoreResult;
use switchyard::storage::sql::Arg;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::helpers::{Backend, TestApp, TestResponse, events, history};
use crate::on_both_backends;
use crate::receiver::Receiver;

on_both_backends!(backend:
    creates_queued_together_commit_as_one_group_and_are_answered_each_on_its_own,
    a_create_that_loses_a_race_for_its_email_gets_409_and_fails_no_other,
);

/// More than the group writer has tasks on either engine.
const FILLERS: usize = 6;
/// Between two fillers: long enough for a task to take the first.
const FILLER_GAP: Duration = Duration::from_millis(200);
/// Long enough for requests sent at once to be queued.
const SETTLE: Duration = Duration::from_millis(1_200);

async fn app(backend: Backend) -> TestApp {
    // The held transactions and the group writer's waiting tasks hold
    // connections; the requests' own reads need more.
    TestApp::spawn_with(backend, |config| config.database.db_max_connections = 24).await
}

/// A write transaction held open until the returned `Notify` is
/// notified. On SQLite it holds the one writer thread. On PostgreSQL,
/// with `lock_account`, it locks the account row against the share lock
/// every group takes once it has read the leads it needs (`FOR NO KEY
/// UPDATE`, which leaves foreign keys alone); with `email`, it inserts a
/// lead holding that email, committed on release. Returns once the
/// transaction holds what it should, or at once on SQLite when `started`
/// is false (a write queued behind another cannot start yet).
async fn hold(
    app: &TestApp,
    lock_account: bool,
    email: Option<&'static str>,
    wait_until_started: bool,
) -> (Arc<Notify>, JoinHandle<()>) {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let holder = {
        let (db, started, release) = (app.db.clone(), Arc::clone(&started), Arc::clone(&release));
        tokio::spawn(async move {
            db.write(move |tx| {
                Box::pin(async move {
                    if let Some(email) = email {
                        tx.execute(
                            "INSERT INTO leads (id, account_id, email, email_key, score, \
                                 created_at, updated_at) \
                             SELECT 'lead_racer', id, $1, $1, 0, 0, 0 FROM accounts",
                            &[Arg::from(email)],
                        )
                        .await?;
                    }
                    if lock_account && tx.for_update() != "" {
                        tx.execute("SELECT id FROM accounts FOR NO KEY UPDATE", &[])
                            .await?;
                    }
                    started.notify_one();
                    release.notified().await;
                    StoreResult::Ok(())
                })
            })
            .await
            .expect("the holding write commits");
        })
    };
    if wait_until_started {
        started.notified().await;
    }
    (release, holder)
}

/// Creates one per [`FILLER_GAP`], so that each of the group writer's
/// tasks takes one and waits behind the hold, and the rest queue.
async fn fillers(app: &TestApp) -> Vec<TestResponse> {
    let sends = (0..FILLERS).map(|n| async move {
        tokio::time::sleep(FILLER_GAP * n as u32).await;
        app.post(
            "/api/v1/leads",
            json!({"email": format!("filler{n}@example.com")}),
        )
        .await
    });
    futures::future::join_all(sends).await
}

/// When the requests sent after the fillers go: once every filler is.
fn after_fillers() -> Duration {
    FILLER_GAP * FILLERS as u32 + Duration::from_millis(300)
}

async fn send_all(app: &TestApp, bodies: &[Value]) -> Vec<TestResponse> {
    tokio::time::sleep(after_fillers()).await;
    futures::future::join_all(
        bodies
            .iter()
            .map(|body| app.post("/api/v1/leads", body.clone())),
    )
    .await
}

fn uid(response: &TestResponse) -> &str {
    response.body["lead_profile_uid"]
        .as_str()
        .unwrap_or_else(|| panic!("no uid in {}", response.text))
}

async fn creates_queued_together_commit_as_one_group_and_are_answered_each_on_its_own(
    backend: Backend,
) {
    let app = app(backend).await;
    let stages = app.create_stages(&["Lead", "Customer"]).await;
    let taken = app.create_lead(json!({"email": "taken@example.com"})).await;
    let receiver = Receiver::start().await;
    let webhook = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "created", "url": receiver.url("/hook"), "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(webhook.status, 201, "{}", webhook.text);

    let (release, holder) = hold(&app, true, None, true).await;
    let bodies = [
        json!({"email": "new@example.com", "first_name": "One"}),
        json!({"email": "NEW@Example.com", "first_name": "Two"}),
        json!({"email": "taken@example.com"}),
        json!({"email": "staged@example.com", "funnel_stage_id": stages[1]}),
        json!({"email": "lost@example.com", "funnel_stage_id": "stage_missing"}),
        json!({"email": "plain@example.com", "last_name": "Plain"}),
    ];
    let control = async {
        tokio::time::sleep(after_fillers() + SETTLE).await;
        release.notify_one();
    };
    let (fillers, group, ()) = tokio::join!(fillers(&app), send_all(&app, &bodies), control);
    holder.await.expect("holder");

    for filler in &fillers {
        assert_eq!(filler.status, 201, "{}", filler.text);
    }
    // One of the two spellings of one email is created, the other is
    // refused naming it.
    let (won, lost) = match (group[0].status, group[1].status) {
        (201, 409) => (&group[0], &group[1]),
        (409, 201) => (&group[1], &group[0]),
        other => panic!("{other:?}: {} / {}", group[0].text, group[1].text),
    };
    assert!(lost.error().contains(uid(won)), "{}", lost.text);
    assert!(lost.error().contains("already exists"), "{}", lost.text);
    assert_eq!(group[2].status, 409, "{}", group[2].text);
    assert!(group[2].error().contains(&taken), "{}", group[2].text);
    assert_eq!(group[3].status, 201, "{}", group[3].text);
    assert_eq!(
        group[3].body["funnel_stage"],
        json!({"id": stages[1], "title": "Customer", "position": 2})
    );
    assert_eq!(group[4].status, 422, "{}", group[4].text);
    assert!(
        group[4].error().contains("funnel_stage_id stage_missing"),
        "{}",
        group[4].text
    );
    assert_eq!(group[5].status, 201, "{}", group[5].text);

    // One group on PostgreSQL: its leads share their creation time (on
    // SQLite each create is a job of the writer thread's group, stamped
    // on its own).
    let created = [won, &group[3], &group[5]];
    let times: BTreeSet<&str> = created
        .iter()
        .map(|response| response.body["created_at"].as_str().expect("created_at"))
        .collect();
    if backend == Backend::Postgres {
        assert_eq!(times.len(), 1, "created in one group: {times:?}");
    }
    // Each answer is the lead as stored.
    for response in created.iter().copied().chain(&fillers) {
        let read = app.get(&format!("/api/v1/leads/{}", uid(response))).await;
        assert_eq!(read.body, response.body);
    }
    assert_eq!(
        history(&app, uid(&group[3]), true).await,
        events(&[("Lead", true, false), ("Customer", false, false)])
    );
    let all = app.get("/api/v1/leads?limit=100").await;
    assert_eq!(
        all.body["data"].as_array().expect("leads").len(),
        1 + FILLERS + 3,
        "{}",
        all.text
    );

    // Every created lead's event shows that lead.
    let expected: Vec<&TestResponse> = created.iter().copied().chain(&fillers).collect();
    let received = receiver.wait_for(expected.len()).await;
    for response in expected {
        let delivery = received
            .iter()
            .map(|received| received.json())
            .find(|body| body["object_id"] == response.body["lead_profile_uid"])
            .unwrap_or_else(|| panic!("no lead.created for {}", response.text));
        assert_eq!(delivery["event"], "lead.created");
        assert_eq!(delivery["data"]["email"], response.body["email"]);
        assert_eq!(
            delivery["data"]["funnel_stage"],
            response.body["funnel_stage"]["title"]
        );
    }
    receiver
        .assert_no_more_than(1 + FILLERS + 3, Duration::from_millis(300))
        .await;
}

/// A group reads which leads hold its emails before it inserts; a lead
/// committed in between makes its insert fail on the unique index. On
/// PostgreSQL that happens here (the racing lead's transaction is open
/// while the group reads, and commits while the group waits on the index):
/// the group is retried request by request, the racing email answered 409
/// naming the lead that won, the others created. SQLite's one writer
/// cannot interleave (the racer's write is queued before the creates),
/// and answers the same.
async fn a_create_that_loses_a_race_for_its_email_gets_409_and_fails_no_other(backend: Backend) {
    let app = app(backend).await;
    let (release_lock, lock) = hold(&app, true, None, true).await;
    let bodies = [
        json!({"email": "before@example.com"}),
        json!({"email": "race@example.com", "first_name": "Late"}),
        json!({"email": "after@example.com"}),
    ];
    let control = async {
        // Once the fillers are sent, before the creates: the racer inserts
        // (PostgreSQL: its own transaction, open until released; SQLite: a
        // write queued behind the fillers).
        let racer_at = FILLER_GAP * FILLERS as u32;
        tokio::time::sleep(racer_at).await;
        let (release_racer, racer) = hold(
            &app,
            false,
            Some("race@example.com"),
            backend == Backend::Postgres,
        )
        .await;
        tokio::time::sleep((after_fillers() + SETTLE).saturating_sub(racer_at)).await;
        release_lock.notify_one();
        lock.await.expect("lock holder");
        // The group reads, share-locks and waits on the racer's index entry.
        tokio::time::sleep(SETTLE).await;
        release_racer.notify_one();
        racer.await.expect("racer");
    };
    let (fillers, group, ()) = tokio::join!(fillers(&app), send_all(&app, &bodies), control);

    for filler in &fillers {
        assert_eq!(filler.status, 201, "{}", filler.text);
    }
    assert_eq!(group[0].status, 201, "{}", group[0].text);
    assert_eq!(group[1].status, 409, "{}", group[1].text);
    assert!(group[1].error().contains("lead_racer"), "{}", group[1].text);
    assert_eq!(group[2].status, 201, "{}", group[2].text);
    let racer = app.get("/api/v1/leads/lead_racer").await;
    assert_eq!(racer.body["first_name"], Value::Null, "{}", racer.text);
    let all = app.get("/api/v1/leads?limit=100").await;
    assert_eq!(
        all.body["data"].as_array().expect("leads").len(),
        FILLERS + 3,
        "{}",
        all.text
    );
}
