//! Deliveries go out because their commit woke a worker, not because a
//! worker polled: with the poll interval set to ten minutes, each stage
//! change still reaches the receiver (whose wait gives up after 20 s). In
//! one process, change after change (a worker that has taken everything
//! due waits for the next commit's wake-up rather than claiming again at
//! once, so no wake-up may be lost between two claims); and on PostgreSQL
//! from an API-only process to a worker-only one (`LISTEN`/`NOTIFY`),
//! where each process ignores its own announcements.

use serde_json::json;

use crate::cli::{ServeProcess, printed_key, start_serve};
use crate::delivery_engine::{Admin, SERVE_ARGS};
use crate::helpers::{Backend, TestDatabase};
use crate::receiver::Receiver;

crate::on_both_backends!(backend: each_commit_wakes_the_worker_of_its_process);

/// Far longer than any wait of these tests: only a wake-up can send.
const NO_POLLING: [&str; 2] = ["--delivery-poll-interval-ms", "600000"];

async fn start(database: &TestDatabase, role: &str) -> ServeProcess {
    let mut args = SERVE_ARGS[..2].to_vec();
    args.extend(NO_POLLING);
    args.extend(["--role", role]);
    start_serve(&database.url, &args).await
}

fn admin_of(process: &ServeProcess) -> Admin {
    Admin {
        client: reqwest::Client::new(),
        address: process.address.clone(),
        key: printed_key(&process.printed).expect("the first start prints a key"),
    }
}

/// Moves `lead` to `stage` through the import and checks it moved.
async fn move_lead(admin: &Admin, token: &str, lead: &str, stage: &str) {
    let response = admin
        .client
        .post(format!("{}/api/v1/webhook-import/update", admin.address))
        .bearer_auth(token)
        .json(&json!({"lead_profile_uid": lead, "funnel_stage": stage}))
        .send()
        .await
        .expect("update");
    let body: serde_json::Value = response.json().await.expect("update answer");
    assert_eq!(body["status"], "updated", "{body}");
}

async fn each_commit_wakes_the_worker_of_its_process(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let receiver = Receiver::start().await;
    let server = start(&database, "all").await;
    let admin = admin_of(&server);
    let (leads, token) = admin.set_up(2, &receiver.url("/hook")).await;

    // One at a time: each delivery must arrive before the next change, so
    // every one of them needed a wake-up of its own.
    let mut expected = 0;
    for stage in ["Enrolled", "Inquiry", "Enrolled"] {
        for lead in &leads {
            move_lead(&admin, &token, lead, stage).await;
            expected += 1;
            let arrived = receiver.wait_for(expected).await;
            assert_eq!(arrived.len(), expected, "nothing may arrive twice");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_an_api_process_wakes_a_worker_process_on_postgres() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let api = start(&database, "api").await;
    let admin = admin_of(&api);
    let (leads, token) = admin.set_up(1, &receiver.url("/hook")).await;
    let _worker = start(&database, "worker").await;

    // The worker looks once when it starts listening; these commits come
    // after, so only their announcements can wake it.
    for (n, stage) in ["Enrolled", "Inquiry", "Enrolled"].into_iter().enumerate() {
        move_lead(&admin, &token, &leads[0], stage).await;
        let arrived = receiver.wait_for(n + 1).await;
        assert_eq!(arrived.len(), n + 1, "nothing may arrive twice");
    }
}
