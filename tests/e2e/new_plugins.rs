//! `switchyard plugin new --lang ...`: each language's project, created in
//! a folder outside this repository, builds with the command its README
//! names and runs in the sandbox through `switchyard plugin run`, moving the
//! sample lead to the sample stage. (TypeScript: `js_plugins`.)

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// Runs `program` in `folder` and panics with its output when it fails.
async fn run_ok(
    folder: &Path,
    program: impl AsRef<std::ffi::OsStr>,
    args: &[&str],
    envs: &[(&str, &Path)],
) -> std::process::Output {
    let mut command = tokio::process::Command::new(program.as_ref());
    command
        .args(args)
        .current_dir(folder)
        .env_remove("RUST_BACKTRACE")
        .env_remove("CC");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command
        .output()
        .await
        .unwrap_or_else(|error| panic!("cannot run {:?}: {error}", program.as_ref()));
    assert!(
        output.status.success(),
        "{:?} {args:?} in {}: {}\n{}",
        program.as_ref(),
        folder.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Creates a project named `crm-sync` in a fresh folder and returns it.
async fn new_project(lang: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = run_ok(
        dir.path(),
        env!("CARGO_BIN_EXE_switchyard"),
        &["plugin", "new", "crm-sync", "--lang", lang],
        &[],
    )
    .await;
    let printed = String::from_utf8_lossy(&created.stdout);
    assert!(printed.contains("switchyard plugin run"), "{printed}");
    let project = dir.path().join("crm-sync");
    assert!(project.join("README.md").is_file());
    (dir, project)
}

/// Runs the project's module on its sample and returns the printed output
/// and the log.
async fn run_sample(project: &Path, module: &Path) -> (Value, String) {
    let module = module.to_str().expect("UTF-8 path");
    let run = run_ok(
        project,
        env!("CARGO_BIN_EXE_switchyard"),
        &[
            "plugin",
            "run",
            module,
            "--kind",
            "inbound-transform",
            "--config",
            "config.json",
            "--input",
            "input.json",
        ],
        &[],
    )
    .await;
    let output = serde_json::from_slice(&run.stdout).expect("stdout is the JSON output");
    (output, String::from_utf8_lossy(&run.stderr).into_owned())
}

fn readme_names(project: &Path, command: &str) {
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    assert!(readme.contains(command), "{readme}");
}

#[tokio::test]
async fn a_new_rust_project_builds_for_wasm32_and_runs() {
    let (_dir, project) = new_project("rust").await;
    let build = "cargo build --release --target wasm32-unknown-unknown";
    readme_names(&project, build);
    // A target folder kept between runs: the SDK's dependencies (serde)
    // compile once.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-new-rust");
    let args: Vec<&str> = build.split(' ').skip(1).collect();
    run_ok(&project, "cargo", &args, &[("CARGO_TARGET_DIR", &target)]).await;
    let module = target.join("wasm32-unknown-unknown/release/crm_sync.wasm");
    let (output, log) = run_sample(&project, &module).await;
    assert_eq!(
        output,
        json!([{"lead_profile_uid": "lead_01JD0000000000000000000000", "funnel_stage": "Won"}])
    );
    assert!(log.contains("plugin log: 1 events"), "{log}");
}

#[tokio::test]
async fn a_new_javascript_project_runs_and_builds() {
    let (_dir, project) = new_project("js").await;
    readme_names(
        &project,
        "switchyard plugin build transform.js -o transform.wasm",
    );
    let (output, log) = run_sample(&project, Path::new("transform.js")).await;
    assert_eq!(
        output,
        json!([{"lead_profile_uid": "lead_01JD0000000000000000000000", "funnel_stage": "Won"}])
    );
    assert!(log.contains("plugin log: 1 events"), "{log}");
    run_ok(
        &project,
        env!("CARGO_BIN_EXE_switchyard"),
        &["plugin", "build", "transform.js", "-o", "transform.wasm"],
        &[],
    )
    .await;
    let (built, _) = run_sample(&project, Path::new("transform.wasm")).await;
    assert_eq!(built, output);
}

#[tokio::test]
async fn a_new_c_project_builds_with_make_and_runs() {
    let (_dir, project) = new_project("c").await;
    readme_names(&project, "make");
    run_ok(&project, "make", &[], &[]).await;
    let (output, log) = run_sample(&project, Path::new("transform.wasm")).await;
    assert_eq!(
        output,
        json!([{"lead_profile_uid": "lead_01JD0000000000000000000000", "funnel_stage": "Won"}])
    );
    assert!(log.contains("plugin log: moving a lead"), "{log}");
}

#[tokio::test]
async fn a_new_assemblyscript_project_builds_with_npm_and_runs() {
    let (_dir, project) = new_project("assemblyscript").await;
    readme_names(&project, "npm ci && npm run build");
    run_ok(
        &project,
        "npm",
        &["ci", "--no-audit", "--no-fund", "--prefer-offline"],
        &[],
    )
    .await;
    run_ok(&project, "npm", &["run", "build"], &[]).await;
    let (output, log) = run_sample(&project, Path::new("transform.wasm")).await;
    assert_eq!(
        output,
        json!([{"lead_profile_uid": "lead_01JD0000000000000000000000", "funnel_stage": "Won"}])
    );
    assert!(log.contains("plugin log: moving a lead"), "{log}");
}
