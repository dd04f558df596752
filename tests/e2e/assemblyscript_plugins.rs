//! A plugin written in AssemblyScript (`plugin-sdk/assemblyscript`): the
//! pinned compiler (npm, installed here when missing) builds the example
//! into a module whose only import is the log, and it runs in the sandbox
//! through `switchyard plugin run`.

use std::path::Path;

use serde_json::{Value, json};

#[tokio::test]
async fn the_assemblyscript_example_builds_and_runs_in_the_sandbox() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk/assemblyscript");
    if !sdk.join("node_modules/.bin/asc").exists() {
        let installed = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&sdk)
            .output()
            .await
            .expect("npm runs");
        assert!(
            installed.status.success(),
            "npm ci in {}: {}",
            sdk.display(),
            String::from_utf8_lossy(&installed.stderr)
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let module = dir.path().join("example.wasm");
    let built = tokio::process::Command::new(sdk.join("node_modules/.bin/asc"))
        .args([
            "assembly/example.ts",
            "--optimize",
            "--runtime",
            "stub",
            "--use",
            "abort=assembly/switchyard/abort",
            "--outFile",
        ])
        .arg(&module)
        .current_dir(&sdk)
        .output()
        .await
        .expect("asc runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    std::fs::write(dir.path().join("config.json"), r#"{"stage": "Won"}"#).unwrap();
    std::fs::write(dir.path().join("body.json"), r#"{"lead": "lead_7"}"#).unwrap();

    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "plugin",
            "run",
            "example.wasm",
            "--kind",
            "inbound-transform",
            "--config",
            "config.json",
            "--input",
            "body.json",
        ])
        .current_dir(dir.path())
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .expect("run switchyard plugin run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(
        serde_json::from_slice::<Value>(&run.stdout).unwrap(),
        json!([{"lead_profile_uid": "lead_7", "funnel_stage": "Won"}])
    );
    assert!(stderr.contains("plugin log: moving a lead"), "{stderr}");
}
