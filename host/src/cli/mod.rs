//! The `switchyard` command line: `serve`, `migrate`, `account create`,
//! `account key create`, `plugin run`, `plugin build`, `plugin new` and
//! `openapi`. The `plugin` subcommands are in [`plugin`].

mod plugin;

pub use plugin::PluginCommand;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{DatabaseConfig, LogFormat, ServeConfig};
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
        Command::Plugin { command } => plugin::run(command).await,
    }
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
