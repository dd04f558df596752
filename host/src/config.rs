//! Settings for every `switchyard` command: flags with environment-variable
//! fallbacks, each documented so that `--help` is the reference.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Where the data lives. Shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL. `sqlite://PATH` (created on first start) or
    /// `postgres://USER@HOST:PORT/DB`. Defaults to `switchyard.db` in the
    /// working directory.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://switchyard.db")]
    pub database_url: String,

    /// Most connections the server keeps open to PostgreSQL, plus one that
    /// listens for committed deliveries in a process that sends them (SQLite
    /// uses one writer and this many readers, plus a few for token lookups).
    #[arg(long, env = "SWITCHYARD_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// SQLite only: `full` makes every commit survive power loss (an fsync per
    /// commit); `normal` survives a crash of the process but may lose the last
    /// commits on power loss, for more write throughput.
    #[arg(long, env = "SWITCHYARD_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSynchronous::Full)]
    pub sqlite_synchronous: SqliteSynchronous,
}

/// SQLite's `synchronous` pragma, restricted to the two settings that make
/// sense with write-ahead logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

/// Everything `switchyard serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address the HTTP API listens on. Port 0 picks a free port.
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL clients reach this server at (scheme, host, port, no
    /// trailing slash), used in the endpoint URLs shown to admins. Defaults
    /// to `http://<listen address>`.
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "SWITCHYARD_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// How long a shutdown (SIGTERM or Ctrl-C) waits for in-flight requests
    /// before exiting anyway, in seconds.
    #[arg(long, env = "SWITCHYARD_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,

    /// Directory where compiled plugins are kept, so a restart does not
    /// compile every plugin again. It must be writable only by this server.
    #[arg(
        long,
        env = "SWITCHYARD_PLUGIN_ARTIFACT_DIR",
        default_value = "switchyard-plugin-artifacts"
    )]
    pub plugin_artifact_dir: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub outbound: OutboundConfig,

    #[command(flatten)]
    pub metrics: MetricsConfig,

    #[command(flatten)]
    pub flood: FloodConfig,
}

/// Inbound flood control that applies to the whole server; see the
/// README's "Flood control" section. (An import's rate limit is a setting
/// of the import.)
#[derive(Debug, Clone, Args)]
pub struct FloodConfig {
    /// Most deliveries an account may have waiting to be sent (first
    /// sends, retries, batch windows). Past it, requests that would change
    /// the account's leads (inbound updates, lead writes) are refused with
    /// 429 and `Retry-After`, and nothing is written, until its webhooks
    /// catch up. Counted every --pending-deliveries-refresh-ms, so an
    /// account can go past it by what it writes in that time. Off when
    /// not set.
    #[arg(long, env = "SWITCHYARD_MAX_PENDING_DELIVERIES_PER_ACCOUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pending_deliveries_per_account: Option<u64>,

    /// How often the undelivered deliveries of every account are counted
    /// for --max-pending-deliveries-per-account, in milliseconds.
    #[arg(
        long,
        env = "SWITCHYARD_PENDING_DELIVERIES_REFRESH_MS",
        default_value_t = 1_000,
        hide = true
    )]
    pub pending_deliveries_refresh_ms: u64,
}

impl Default for FloodConfig {
    fn default() -> Self {
        Self {
            max_pending_deliveries_per_account: None,
            pending_deliveries_refresh_ms: 1_000,
        }
    }
}

/// Where Prometheus metrics (`GET /metrics`) are served; see the README's
/// "Metrics" section.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsConfig {
    /// `on`: serve `GET /metrics` (on the API's listener, or on
    /// --metrics-listen); `off`: serve no metrics.
    #[arg(
        long = "metrics",
        env = "SWITCHYARD_METRICS",
        value_enum,
        default_value_t
    )]
    pub mode: MetricsMode,

    /// Serve `/metrics` on this address (e.g. `10.0.0.5:9464`, or
    /// `127.0.0.1:0` for a free port) instead of the API's listener, for a
    /// scraper on a private network. Port 0 picks a free port.
    #[arg(long, env = "SWITCHYARD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Require `Authorization: Bearer <token>` on `/metrics`. Without it the
    /// endpoint is open to whoever reaches its listener: it shows counts,
    /// route templates and plugin ids, never lead data.
    #[arg(long, env = "SWITCHYARD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// See [`MetricsConfig::mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MetricsMode {
    #[default]
    On,
    Off,
}

/// Settings of outbound webhook delivery.
#[derive(Debug, Clone, Args)]
pub struct OutboundConfig {
    /// Address ranges (CIDR, comma-separated) that webhooks may be sent to
    /// even though they are private, loopback or link-local, e.g.
    /// `127.0.0.0/8` for a receiver on this machine. Empty: only public
    /// addresses.
    #[arg(long, env = "SWITCHYARD_OUTBOUND_ALLOW_CIDR", default_value = "")]
    pub outbound_allow_cidr: String,

    /// Deliveries sent at once by this process.
    #[arg(long, env = "SWITCHYARD_DELIVERY_CONCURRENCY", default_value_t = 256)]
    pub delivery_concurrency: usize,

    /// A webhook whose delivery attempts have all failed for this many
    /// hours is deactivated (default: 5 days).
    #[arg(
        long,
        env = "SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS",
        default_value_t = 120
    )]
    pub webhook_disable_after_hours: u64,

    /// Delivery logs (attempts and finished deliveries) older than this
    /// many days are deleted.
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERY_LOG_RETENTION_DAYS",
        default_value_t = 30
    )]
    pub delivery_log_retention_days: u64,

    /// How often the delivery worker deactivates failing webhooks and
    /// purges old logs, in milliseconds.
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERY_MAINTENANCE_INTERVAL_MS",
        default_value_t = 60_000,
        hide = true
    )]
    pub delivery_maintenance_interval_ms: u64,

    /// How long a delivery worker's claim on a delivery lasts unless
    /// renewed, in seconds. A live worker renews its claims three times a
    /// lease while their attempts run, however long the receiver takes;
    /// after a crash, another process (or this one, restarted) sends what
    /// the dead one held once this has passed.
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERY_LEASE_SECONDS",
        default_value_t = 10,
        hide = true
    )]
    pub delivery_lease_seconds: u64,

    /// How often the delivery worker looks for due deliveries when nothing
    /// wakes it (retries falling due; on SQLite, deliveries enqueued by
    /// other processes), in milliseconds. On PostgreSQL, other processes'
    /// commits wake it at once (`LISTEN`/`NOTIFY`).
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERY_POLL_INTERVAL_MS",
        default_value_t = 200,
        hide = true
    )]
    pub delivery_poll_interval_ms: u64,

    /// What this process does: `all` (the HTTP API and the delivery
    /// worker), `api` (no deliveries sent from here) or `worker` (sends
    /// deliveries; HTTP serves only /healthz and /readyz). Several processes
    /// on one PostgreSQL can take different roles.
    #[arg(long, env = "SWITCHYARD_ROLE", value_enum, default_value_t = Role::All)]
    pub role: Role,
}

/// See [`OutboundConfig::role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    All,
    Api,
    Worker,
}

impl Role {
    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    pub fn sends_deliveries(self) -> bool {
        self != Role::Api
    }
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            outbound_allow_cidr: String::new(),
            delivery_concurrency: 256,
            webhook_disable_after_hours: 120,
            delivery_log_retention_days: 30,
            delivery_maintenance_interval_ms: 60_000,
            delivery_lease_seconds: 10,
            delivery_poll_interval_ms: 200,
            role: Role::All,
        }
    }
}

impl ServeConfig {
    /// The configuration tests and tools start from: a free loopback port and
    /// the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            max_body_bytes: 1024 * 1024,
            shutdown_grace_seconds: 5,
            plugin_artifact_dir: None,
            database: DatabaseConfig {
                database_url: database_url.into(),
                db_max_connections: 8,
                sqlite_synchronous: SqliteSynchronous::Full,
            },
            outbound: OutboundConfig::default(),
            metrics: MetricsConfig::default(),
            flood: FloodConfig::default(),
        }
    }
}
