//! The `switchyard` binary as a person runs it: first start prints an admin
//! key once, `migrate` is repeatable, `account create` prints a working key,
//! SIGTERM stops the server cleanly, `--log-format json` logs JSON.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::helpers::{Backend, TestDatabase};

pub fn switchyard(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .env_remove("SWITCHYARD_LISTEN")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// A running `switchyard serve`, with what it printed before listening.
/// Its output is read as it comes, for every caller: a pipe nobody reads
/// fills up (64 KiB) and the server then blocks writing its log, with a
/// request half answered. [`ServeProcess::stop`] returns the log.
pub struct ServeProcess {
    pub child: Child,
    pub address: String,
    pub printed: Vec<String>,
    /// Everything the server writes to standard error, once it exits.
    log: JoinHandle<String>,
}

impl ServeProcess {
    /// Sends SIGTERM and waits for the process to exit; returns whether
    /// it exited successfully and everything it logged.
    pub async fn stop(mut self) -> (bool, String) {
        let pid = self.child.id().expect("pid").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("switchyard did not exit within 15 s of SIGTERM")
            .expect("wait");
        let log = self.log.await.expect("the log reader does not panic");
        (status.success(), log)
    }
}

pub async fn start_serve(database_url: &str, extra_args: &[&str]) -> ServeProcess {
    let mut child = switchyard(database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchyard serve");
    let stderr = child.stderr.take().expect("stderr");
    let log = tokio::spawn(async move {
        let mut log = String::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(address) = line.strip_prefix("Switchyard listening on ") {
                return address.to_owned();
            }
            printed.push(line);
        }
        panic!("switchyard exited before listening; it printed {printed:?}");
    })
    .await
    .expect("switchyard did not start listening within 60 s");
    // Whatever it prints later is read (and dropped) too.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ServeProcess {
        child,
        address,
        printed,
        log,
    }
}

pub fn printed_key(printed: &[String]) -> Option<String> {
    printed
        .iter()
        .map(|line| line.trim())
        .find(|line| line.starts_with("sy_admin_"))
        .map(str::to_owned)
}

async fn stage_list_status(address: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{address}/api/v1/funnel-stages"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Sends SIGTERM and returns whether the process exited successfully in time.
pub async fn terminate(process: ServeProcess) -> bool {
    process.stop().await.0
}

async fn first_start_prints_a_working_key_and_later_starts_do_not(backend: Backend) {
    let database = TestDatabase::create(backend).await;

    let first = start_serve(&database.url, &[]).await;
    let key =
        printed_key(&first.printed).unwrap_or_else(|| panic!("no key in {:?}", first.printed));
    assert_eq!(stage_list_status(&first.address, &key).await, 200);
    assert_eq!(
        stage_list_status(&first.address, "sy_admin_wrong").await,
        401
    );
    assert!(terminate(first).await, "SIGTERM exit was not clean");

    let second = start_serve(&database.url, &[]).await;
    assert_eq!(
        printed_key(&second.printed),
        None,
        "second start printed {:?}",
        second.printed
    );
    assert_eq!(
        stage_list_status(&second.address, &key).await,
        200,
        "the first key still works"
    );
    assert!(terminate(second).await);
}

async fn a_start_that_cannot_listen_prints_no_key_and_the_next_start_does(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("take a port");
    let address = taken.local_addr().expect("address").to_string();
    let failed = switchyard(&database.url)
        .args(["serve", "--listen", &address])
        .output()
        .await
        .expect("run serve");
    assert!(!failed.status.success());
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(!stdout.contains("sy_admin_"), "printed a key: {stdout}");
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("could not listen"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    drop(taken);

    let next = start_serve(&database.url, &[]).await;
    let key = printed_key(&next.printed).unwrap_or_else(|| panic!("no key in {:?}", next.printed));
    assert_eq!(stage_list_status(&next.address, &key).await, 200);
    assert!(terminate(next).await);
}

async fn migrate_is_repeatable_and_account_create_prints_a_key(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    for _ in 0..2 {
        let migrated = switchyard(&database.url)
            .arg("migrate")
            .output()
            .await
            .expect("run migrate");
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        assert!(String::from_utf8_lossy(&migrated.stdout).contains("is up to date"));
    }

    let created = switchyard(&database.url)
        .args(["account", "create", "Acme Admissions"])
        .output()
        .await
        .expect("run account create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8_lossy(&created.stdout);
    assert!(
        stdout.contains("Created account \"Acme Admissions\""),
        "{stdout}"
    );
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    let key = printed_key(&lines).expect("account create prints a key");

    // The database already has an account, so serve creates no default one.
    let server = start_serve(&database.url, &["--log-format", "json"]).await;
    assert_eq!(printed_key(&server.printed), None);
    assert_eq!(stage_list_status(&server.address, &key).await, 200);
    let (stopped, log) = server.stop().await;
    let mut json_lines = 0;
    for line in log.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("log line is not JSON: {line}"));
        assert!(parsed["level"].is_string(), "{line}");
        json_lines += 1;
    }
    assert!(json_lines > 0, "no log lines");
    assert!(stopped, "SIGTERM exit was not clean");
}

async fn an_unusable_database_url_fails_with_a_clear_message() {
    let output = switchyard("mysql://localhost/x")
        .arg("migrate")
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
}

#[tokio::test]
async fn unsupported_database_url_is_explained() {
    an_unusable_database_url_fails_with_a_clear_message().await;
}

crate::on_both_backends!(
    backend:
    first_start_prints_a_working_key_and_later_starts_do_not,
    a_start_that_cannot_listen_prints_no_key_and_the_next_start_does,
    migrate_is_repeatable_and_account_create_prints_a_key,
);

#[tokio::test]
async fn plugin_run_prints_the_output_fuel_and_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.json");
    let body = dir.path().join("body.json");
    std::fs::write(
        &config,
        r#"{"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}"#,
    )
    .unwrap();
    std::fs::write(&body, r#"[{"objectId": "lead_1", "propertyValue": "customer"}, {"objectId": 7, "propertyValue": "lead"}]"#).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "plugin",
            "run",
            "builtin:json-mapper",
            "--kind",
            "inbound-transform",
            "--config",
        ])
        .arg(&config)
        .arg("--input")
        .arg(&body)
        .output()
        .await
        .expect("run switchyard plugin run");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let printed: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is the JSON output");
    assert_eq!(
        printed,
        serde_json::json!([
            {"lead_profile_uid": "lead_1", "funnel_stage": "customer"},
            {"lead_profile_uid": "7", "funnel_stage": "lead"}
        ])
    );
    assert!(stderr.contains("fuel used: "), "{stderr}");
    assert!(stderr.contains(" ms"), "{stderr}");
}

#[tokio::test]
async fn plugin_run_fails_with_the_named_error_of_a_hostile_plugin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let module = dir.path().join("loop.wasm");
    let source = include_str!("../../plugins/hostile/infinite_loop.wat");
    std::fs::write(&module, wat::parse_str(source).expect("valid WAT")).unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, "{}").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "plugin",
            "run",
            "--kind",
            "inbound-transform",
            "--fuel",
            "100000",
            "--input",
        ])
        .arg(&body)
        .arg(&module)
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .expect("run switchyard plugin run");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the plugin failed: out of fuel"),
        "{stderr}"
    );
    assert!(stderr.contains("fuel used: 100000 of 100000"), "{stderr}");
}
