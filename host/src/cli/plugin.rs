//! `switchyard plugin run|build|new`: a plugin run once in the server's
//! sandbox, a script built into a module, a project scaffolded.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;

use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;
use crate::plugins::abi;
use crate::plugins::builtin::builtin;
use crate::plugins::js;
use crate::plugins::runtime::PluginRuntime;
use crate::plugins::scaffold::{self, ScaffoldLanguage};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run a plugin once, in the same sandbox and with the same limits as
    /// the server, and print its output, the fuel it used and its time.
    Run(PluginRunArgs),
    /// Build a JavaScript or TypeScript plugin (`.js`, `.ts`) into an
    /// ordinary ABI v1 module, ready to upload.
    Build(PluginBuildArgs),
    /// Create a plugin project in a new folder: a transform in Rust,
    /// JavaScript, TypeScript, AssemblyScript or C, the SDK it needs, a
    /// sample config and input, and a README with its build command.
    New(PluginNewArgs),
}

/// `switchyard plugin new`.
#[derive(Debug, clap::Args)]
pub struct PluginNewArgs {
    /// The folder to create (anywhere; it must not exist or be empty). Its
    /// name names the project.
    pub folder: PathBuf,
    /// The plugin's language.
    #[arg(long, value_enum, default_value_t = ScaffoldLanguage::Ts)]
    pub lang: ScaffoldLanguage,
}

/// `switchyard plugin build`.
#[derive(Debug, clap::Args)]
pub struct PluginBuildArgs {
    /// The script: a `.js` or `.ts` file exporting `transform(config,
    /// request)` or `buildPayload(config, event)`.
    pub source: PathBuf,
    /// Where to write the module.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Check that the script exports this kind's function (by default,
    /// either will do).
    #[arg(long, value_enum)]
    pub kind: Option<PluginKind>,
}

/// `switchyard plugin run`.
#[derive(Debug, clap::Args)]
pub struct PluginRunArgs {
    /// The module: a `.wasm` file, a `.js` or `.ts` script (built first, as
    /// `plugin build` would), or `builtin:NAME` (e.g. `builtin:json-mapper`).
    pub module: String,
    /// What the plugin does.
    #[arg(long, value_enum)]
    pub kind: PluginKind,
    /// A JSON file with the plugin's config (default: `null`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The input: for a transform, the request body a CRM would send; for a
    /// payload builder, the event JSON.
    #[arg(long)]
    pub input: PathBuf,
    /// Content type of the request body (transforms only).
    #[arg(long, default_value = "application/json")]
    pub content_type: String,
    /// Fuel for the call (about one unit per Wasm instruction).
    #[arg(long, default_value_t = PluginLimits::DEFAULT.fuel)]
    pub fuel: u64,
    /// Memory cap, in bytes.
    #[arg(long, default_value_t = PluginLimits::DEFAULT.memory_bytes)]
    pub memory_bytes: u64,
    /// Wall-clock limit, in milliseconds.
    #[arg(long, default_value_t = PluginLimits::DEFAULT.time_limit_ms)]
    pub time_limit_ms: u64,
    /// Largest output, in bytes.
    #[arg(long, default_value_t = PluginLimits::DEFAULT.output_bytes)]
    pub output_bytes: u64,
}

/// Runs one `plugin` subcommand.
pub(super) async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Run(args) => run_plugin(args).await,
        PluginCommand::Build(args) => build_plugin(args),
        PluginCommand::New(args) => new_plugin(&args),
    }
}

/// Writes a plugin project into a new folder.
fn new_plugin(args: &PluginNewArgs) -> anyhow::Result<()> {
    let folder = &args.folder;
    if folder
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        anyhow::bail!(
            "{} exists and is not empty; choose a new folder",
            folder.display()
        );
    }
    let folder_name = folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .with_context(|| format!("{} does not end in a folder name", folder.display()))?;
    let name = scaffold::package_name(&folder_name)?;
    let project = scaffold::scaffold(args.lang, &name);
    for (path, contents) in &project.files {
        let path = folder.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown = folder.display();
    println!("Created {shown}/ (see its README.md).\n\n  cd {shown}");
    match &project.build {
        Some(build) => println!("  {build}"),
        None => println!(
            "  switchyard plugin build {} -o transform.wasm   # optional",
            project.module
        ),
    }
    println!("  {}", scaffold::run_command(&project.module));
    Ok(())
}

/// Builds a script into a module file.
fn build_plugin(args: PluginBuildArgs) -> anyhow::Result<()> {
    let source = args.source.display().to_string();
    let built = build_script(&source, args.kind)?;
    std::fs::write(&args.output, &built.module)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let kinds: Vec<&str> = built.kinds.iter().map(|kind| kind.as_str()).collect();
    eprintln!(
        "Built {} ({} bytes, {}) from {source}.",
        args.output.display(),
        built.module.len(),
        kinds.join(" and ")
    );
    Ok(())
}

/// Builds the script at `path` (its language from its extension), printing
/// what its top level logged and how long the build took.
fn build_script(path: &str, kind: Option<PluginKind>) -> anyhow::Result<js::BuiltScript> {
    let language = js::Language::from_path(path)
        .with_context(|| format!("{path} is neither a .js nor a .ts file"))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    let source = String::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8 text"))?;
    let filename = Path::new(path).file_name().map_or_else(
        || path.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let started = std::time::Instant::now();
    let built = js::build(&source, &filename, language, kind)
        .map_err(|error| anyhow::anyhow!("{path}: {error}"))?;
    for line in &built.logs {
        eprintln!("script log: {line}");
    }
    eprintln!(
        "built {path} in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(built)
}

/// Runs a plugin once and prints what it did; fails when the plugin does.
async fn run_plugin(args: PluginRunArgs) -> anyhow::Result<()> {
    let module = match args.module.strip_prefix("builtin:") {
        Some(name) => builtin(name)
            .with_context(|| format!("there is no built-in plugin `{name}`"))?
            .module
            .to_vec(),
        None if js::Language::from_path(&args.module).is_some() => {
            build_script(&args.module, Some(args.kind))?.module
        }
        None => {
            std::fs::read(&args.module).with_context(|| format!("cannot read {}", args.module))?
        }
    };
    let config: Value = match &args.config {
        Some(path) => read_json_file(path)?,
        None => Value::Null,
    };
    let input = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let document = match args.kind {
        PluginKind::InboundTransform => {
            abi::inbound_call(&config.to_string(), [], &args.content_type, &input)
                .map_err(anyhow::Error::msg)?
        }
        PluginKind::PayloadBuilder => {
            let event: Value = serde_json::from_slice(&input)
                .with_context(|| format!("{} is not valid JSON", args.input.display()))?;
            abi::payload_call(&config, &event)
        }
    };
    let limits = PluginLimits {
        fuel: args.fuel,
        memory_bytes: args.memory_bytes,
        time_limit_ms: args.time_limit_ms,
        output_bytes: args.output_bytes,
    }
    .clamped_to(PluginLimits::ACCOUNT_MAXIMUM);

    let runtime = PluginRuntime::new(None)?;
    let plugin = runtime.compile(&module, args.kind)?;
    let call = runtime.call(&plugin, &document, &limits).await;
    for line in &call.logs {
        eprintln!("plugin log: {line}");
    }
    eprintln!(
        "fuel used: {} of {}; time: {:.3} ms",
        call.fuel_used,
        limits.fuel,
        call.duration.as_secs_f64() * 1e3
    );
    let output = call
        .outcome
        .map_err(|error| anyhow::anyhow!("the plugin failed: {error}"))?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

fn read_json_file(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}
