//! A plugin written in C (`plugin-sdk/c`): the example compiles with
//! Debian's clang 19 to a module of a few kilobytes that passes the ABI
//! checks and runs in the sandbox through `switchyard plugin run`.

use std::path::Path;

use serde_json::{Value, json};

#[tokio::test]
async fn the_c_example_builds_with_clang_and_runs_in_the_sandbox() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk/c");
    let dir = tempfile::tempdir().expect("temp dir");
    let module = dir.path().join("example.wasm");
    let compiled = tokio::process::Command::new("clang-19")
        .args([
            "--target=wasm32",
            "-O2",
            "-nostdlib",
            "-mbulk-memory",
            "-Wl,--no-entry",
            "-Wl,-z,stack-size=65536",
            "-o",
        ])
        .arg(&module)
        .arg(sdk.join("example.c"))
        .output()
        .await
        .expect("clang-19 runs (scripts/install-wasm-c-toolchain installs it)");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let size = std::fs::metadata(&module).unwrap().len();
    assert!(size < 16 * 1024, "{size} bytes");
    std::fs::write(dir.path().join("config.json"), r#"{"stage": "Won"}"#).unwrap();
    std::fs::write(dir.path().join("body.json"), r#"{"lead": "lead_42"}"#).unwrap();
    std::fs::write(dir.path().join("empty.json"), "{}").unwrap();

    let run = |input: &'static str| {
        let folder = dir.path().to_owned();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
                .args([
                    "plugin",
                    "run",
                    "example.wasm",
                    "--kind",
                    "inbound-transform",
                    "--config",
                    "config.json",
                    "--input",
                    input,
                ])
                .current_dir(folder)
                .env_remove("RUST_BACKTRACE")
                .output()
                .await
                .expect("run switchyard plugin run")
        }
    };
    let moved = run("body.json").await;
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{stderr}");
    assert_eq!(
        serde_json::from_slice::<Value>(&moved.stdout).unwrap(),
        json!([{"lead_profile_uid": "lead_42", "funnel_stage": "Won"}])
    );
    assert!(stderr.contains("plugin log: moving a lead"), "{stderr}");

    let refused = run("empty.json").await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "the plugin failed: plugin error: the body needs a `lead` and the config a `stage`"
        ),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
