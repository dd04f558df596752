//! The `switchyard` command line: `serve`, `migrate`, `account create`,
//! `account key create`, `plugin run`, `plugin build`, `plugin new` and
//! `openapi`.

use anyhow::Context;
use clap::{Parser, Subcommand};

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{DatabaseConfig, LogFormat, ServeConfig};
use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;
use crate::plugins::abi;
use crate::plugins::builtin::builtin;
use crate::plugins::js;
use crate::plugins::runtime::PluginRuntime;
use crate::plugins::scaffold::{self, ScaffoldLanguage};
use crate::startup::{Application, redact, shutdown_signal};
use crate::storage::{Database, accounts, api_keys};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about = "Webhook gateway for CRMs")]
pub struct Cli {
    /// Log format on standard error. `RUST_LOG` sets the level (default `info`).
    #[arg(
        long,
        env = "SWITCHYARD_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API. Creates and migrates the database if needed; on the
    /// very first start it also creates an account and prints its admin key.
    Serve(ServeConfig),
    /// Apply pending database migrations and exit (safe to run repeatedly).
    Migrate(DatabaseConfig),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Work with plugins locally.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Print the HTTP API's OpenAPI document (the one served at
    /// `/api/openapi.json`) and exit; the clients in `clients/` are
    /// generated from it.
    Openapi,
}

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

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and print its admin API key (shown only once).
    Create {
        /// A name for the account, for people.
        name: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Manage an account's admin API keys (the UI and the API do it too,
    /// with a key; this needs none).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an admin API key for an account and print it (shown only
    /// once): the way back in when every key is lost.
    Create {
        /// The account's id (`acct_...`, printed when it was created).
        #[arg(long)]
        account: String,
        /// Who or what uses the key.
        name: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Openapi => {
            let document = crate::http::api_doc::document();
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(())
        }
        Command::Migrate(database) => {
            open_migrated(&database).await?;
            println!("Database {} is up to date.", redact(&database.database_url));
            Ok(())
        }
        Command::Account {
            command: AccountCommand::Create { name, database },
        } => {
            let db = open_migrated(&database).await?;
            let created = accounts::create_account(&db, name.trim())
                .await
                .context("could not create the account")?;
            println!(
                "Created account \"{}\" ({}).",
                created.name, created.account_id
            );
            print_key_once(&created.api_key);
            Ok(())
        }
        Command::Account {
            command:
                AccountCommand::Key {
                    command:
                        KeyCommand::Create {
                            account,
                            name,
                            database,
                        },
                },
        } => {
            let name = api_keys::parse_name(&name).map_err(|error| anyhow::anyhow!(error.0))?;
            let db = open_migrated(&database).await?;
            let (key, secret) = api_keys::create(&db, account.trim(), &name)
                .await
                .context("could not create the key")?;
            println!(
                "Created key \"{}\" ({}) for account {}.",
                key.name,
                key.id,
                account.trim()
            );
            print_key_once(&secret);
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::Run(args),
        } => run_plugin(args).await,
        Command::Plugin {
            command: PluginCommand::Build(args),
        } => build_plugin(args),
        Command::Plugin {
            command: PluginCommand::New(args),
        } => new_plugin(&args),
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

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let db = open_migrated(&config.database).await?;
    // Bind first: a start that cannot listen must not create (and print,
    // once and for nothing) the first account's key.
    let app = Application::build_with_database(&config, db.clone()).await?;
    if let Some(created) = accounts::create_default_account_on_first_start(&db)
        .await
        .context("could not create the default account")?
    {
        println!(
            "First start: created account \"{}\" ({}).",
            created.name, created.account_id
        );
        print_key_once(&created.api_key);
        println!(
            "Open http://{} and sign in with this key, or send it as `Authorization: Bearer <key>`.",
            app.address()
        );
    }
    if let Some(metrics) = app.metrics_address() {
        println!("Switchyard metrics on http://{metrics}/metrics");
    }
    println!("Switchyard listening on http://{}", app.address());
    tracing::info!(address = %app.address(), database = %redact(&config.database.database_url), "serving");
    app.run_until(shutdown_signal()).await
}

async fn open_migrated(config: &DatabaseConfig) -> anyhow::Result<Database> {
    let db = Database::connect(config).await.with_context(|| {
        format!(
            "could not open the database {}",
            redact(&config.database_url)
        )
    })?;
    db.migrate()
        .await
        .context("could not migrate the database")?;
    Ok(db)
}

fn print_key_once(key: &str) {
    println!("Admin API key (shown only this once; store it somewhere safe):\n\n    {key}\n");
}
