//! Builds the built-in plugins (the `plugins/` workspace) for
//! `wasm32-unknown-unknown` so the binary can embed them: they are compiled
//! from source on every machine, never committed as `.wasm` files. Installs
//! the wasm32 target with rustup when it is missing, and the C toolchain that
//! compiles the JavaScript engine (`plugins/js-engine`, QuickJS) with
//! `scripts/install-wasm-c-toolchain`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Plugins compiled from plugins/: (name shown to users, kind (a
/// `domain::plugin::PluginKind` variant), crate's wasm file stem, whether it
/// is a built-in or an example).
const PLUGINS: &[(&str, &str, &str, bool)] = &[
    ("json-mapper", "InboundTransform", "json_mapper", true),
    ("event-only", "PayloadBuilder", "event_only", true),
    ("small", "PayloadBuilder", "small", true),
    ("full", "PayloadBuilder", "full", true),
    ("template", "PayloadBuilder", "template", true),
    (
        "pipedrive-deal-stage",
        "InboundTransform",
        "pipedrive_deal_stage",
        false,
    ),
];

const TARGET: &str = "wasm32-unknown-unknown";
/// The crate of the JavaScript engine, which JS and TypeScript plugins are
/// snapshots of (see host/src/plugins/js/).
const JS_ENGINE_CRATE: &str = "js-engine";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ has a parent")
        .to_path_buf();
    let plugins = root.join("plugins");
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join("Cargo.lock").display()
    );
    for (name, ..) in PLUGINS {
        println!("cargo:rerun-if-changed={}", plugins.join(name).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join(JS_ENGINE_CRATE).display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join(".cargo/config.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("plugin-sdk").display()
    );
    // `sqlx::migrate!` embeds the migrations: a new file must rebuild the
    // crate, or the binary would run without it.
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("migrations").display()
    );

    let out_dir = PathBuf::from(env("OUT_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    ensure_wasm_target();
    ensure_c_toolchain(&root);

    // Shared by every profile of the host (debug, release, bench), next to
    // the host's own target directory: out/ is <target>/<profile>/build/<pkg>/out.
    let target_dir = out_dir.ancestors().nth(4).map_or_else(
        || out_dir.join("plugins-target"),
        |target| target.join("wasm-plugins"),
    );
    let mut build = Command::new(&cargo);
    // From plugins/, so that plugins/.cargo/config.toml applies.
    build.current_dir(&plugins);
    build
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(plugins.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    if plugins.join("Cargo.lock").exists() {
        build.arg("--locked");
    }
    // Settings meant for the host's own build must not leak into this one.
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        build.env_remove(variable);
    }
    let status = build
        .status()
        .expect("run cargo to build the built-in plugins");
    if !status.success() {
        panic!(
            "building the built-in plugins in plugins/ for {TARGET} failed (see the errors above)"
        );
    }

    let mut generated = String::from(
        "/// Plugins compiled from plugins/ by build.rs.\n\
         pub const COMPILED_PLUGINS: &[CompiledFromSource] = &[\n",
    );
    for (name, kind, stem, builtin) in PLUGINS {
        let wasm = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{stem}.wasm"));
        let copy = out_dir.join(format!("{stem}.wasm"));
        std::fs::copy(&wasm, &copy)
            .unwrap_or_else(|error| panic!("copy {}: {error}", wasm.display()));
        generated.push_str(&format!(
            "    CompiledFromSource {{ name: {name:?}, kind: PluginKind::{kind}, builtin: {builtin}, module: include_bytes!({:?}) }},\n",
            copy.display().to_string()
        ));
    }
    generated.push_str("];\n");
    let engine = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", JS_ENGINE_CRATE.replace('-', "_")));
    let engine_copy = out_dir.join("js_engine.wasm");
    std::fs::copy(&engine, &engine_copy)
        .unwrap_or_else(|error| panic!("copy {}: {error}", engine.display()));
    generated.push_str(&format!(
        "/// The JavaScript engine (plugins/js-engine), before a script is snapshotted into it.\n\
         pub const JS_ENGINE: &[u8] = include_bytes!({:?});\n",
        engine_copy.display().to_string()
    ));
    std::fs::write(out_dir.join("builtin_plugins.rs"), generated)
        .expect("write builtin_plugins.rs");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

/// Adds the wasm32 target with rustup when the toolchain lacks it, so a fresh
/// machine needs no manual step.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let installed = sysroot
        .as_deref()
        .is_some_and(|sysroot| Path::new(sysroot).join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (needed for the built-in plugins)"
    );
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !matches!(added, Ok(status) if status.success()) {
        panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed; \
             install it to build Switchyard's built-in plugins"
        );
    }
}

/// Runs `scripts/install-wasm-c-toolchain` when clang-19 or llvm-ar-19 is
/// missing: QuickJS is C, compiled for wasm32 by the js-engine crate.
fn ensure_c_toolchain(root: &Path) {
    let found = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    };
    // Whoever set the compiler for the wasm32 build knows what they use.
    let chosen = std::env::var_os("CC_wasm32_unknown_unknown").is_some();
    if chosen || (found("clang-19") && found("llvm-ar-19")) {
        return;
    }
    println!(
        "cargo:warning=installing clang-19 and llvm-19 (needed to compile the JavaScript engine)"
    );
    let script = root.join("scripts/install-wasm-c-toolchain");
    let installed = Command::new("bash").arg(&script).status();
    if !matches!(installed, Ok(status) if status.success()) {
        panic!(
            "clang-19 and llvm-ar-19 are missing and {} could not install them; \
             install Debian's clang-19 and llvm-19 packages",
            script.display()
        );
    }
}
