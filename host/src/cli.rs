//! The `switchyard` command line: `serve`, `migrate` and `account create`.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{DatabaseConfig, LogFormat, ServeConfig};
use crate::startup::{Application, redact, shutdown_signal};
use crate::storage::{Database, accounts};
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
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve(config) => serve(config).await,
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
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let db = open_migrated(&config.database).await?;
    if let Some(created) = accounts::create_default_account_on_first_start(&db)
        .await
        .context("could not create the default account")?
    {
        println!(
            "First start: created account \"{}\" ({}).",
            created.name, created.account_id
        );
        print_key_once(&created.api_key);
    }
    let app = Application::build_with_database(&config, db).await?;
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
