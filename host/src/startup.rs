//! Building and running the server. [`Application::build`] connects to the
//! database, migrates it and binds the listener (port 0 picks a free port),
//! so tests start exactly what `switchyard serve` starts.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::config::{MetricsMode, ServeConfig};
use crate::http::flood_control::{Counting, FloodControl};
use crate::http::{self, AppContext, AppState};
use crate::metrics::endpoint::MetricsEndpoint;
use crate::outbound::client::{DestinationPolicy, WebhookClient};
use crate::outbound::delivery::{Deliverer, DeliveryWorker, WorkerConfig, WorkerHandle};
use crate::plugins::registry::PluginRegistry;
use crate::plugins::runtime::PluginRuntime;
use crate::storage::Database;
use crate::storage::funnel_updates::FunnelWriter;

/// A server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics` on a listener of its own (`--metrics-listen`).
    metrics: Option<(TcpListener, Router)>,
    /// The delivery worker, unless this process serves the API only.
    worker: Option<WorkerHandle>,
    /// Counts undelivered deliveries for the cap, when one is set.
    pending_counting: Option<Counting>,
    db: Database,
    shutdown_grace: Duration,
}

impl Application {
    /// Connects to (and migrates) the configured database, then binds.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        let db = Database::connect(&config.database).await.with_context(|| {
            format!(
                "could not open the database {}",
                redact(&config.database.database_url)
            )
        })?;
        db.migrate()
            .await
            .context("could not migrate the database")?;
        Self::build_with_database(config, db).await
    }

    /// Binds a server on an already migrated database.
    pub async fn build_with_database(config: &ServeConfig, db: Database) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("could not listen on {}", config.listen))?;
        let bound = listener
            .local_addr()
            .context("the listener has no address")?;
        let public_url = config
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{bound}"));
        let runtime = PluginRuntime::new(config.plugin_artifact_dir.clone())
            .map_err(|error| anyhow::anyhow!("cannot start the plugin runtime: {error}"))?;
        let plugins = PluginRegistry::new(Arc::new(runtime), db.clone());
        let policy = DestinationPolicy::parse_list(&config.outbound.outbound_allow_cidr)
            .map_err(|error| anyhow::anyhow!("--outbound-allow-cidr: {error}"))?;
        let client = WebhookClient::new(policy)?;
        let deliverer = Deliverer {
            db: db.clone(),
            plugins: plugins.clone(),
            client,
        };
        let worker = config.outbound.role.sends_deliveries().then(|| {
            let outbound = &config.outbound;
            DeliveryWorker::new(
                deliverer.clone(),
                WorkerConfig {
                    concurrency: outbound.delivery_concurrency.max(1),
                    disable_failing_after: Duration::from_secs(
                        outbound.webhook_disable_after_hours * 3_600,
                    ),
                    log_retention: Duration::from_secs(
                        outbound.delivery_log_retention_days * 24 * 3_600,
                    ),
                    lease: Duration::from_secs(outbound.delivery_lease_seconds.max(1)),
                    maintenance_interval: Duration::from_millis(
                        outbound.delivery_maintenance_interval_ms.max(10),
                    ),
                    poll_interval: Duration::from_millis(
                        outbound.delivery_poll_interval_ms.max(10),
                    ),
                },
            )
            .start()
        });
        let flood_control = FloodControl::new(config.flood.max_pending_deliveries_per_account);
        // Only a process that takes writes counts undelivered deliveries.
        let pending_counting = flood_control
            .pending_cap()
            .filter(|_| config.outbound.role.serves_api())
            .map(|cap| {
                let interval =
                    Duration::from_millis(config.flood.pending_deliveries_refresh_ms.max(10));
                cap.keep_counting(db.clone(), interval)
            });
        let state = AppState::new(AppContext {
            deliverer,
            plugins,
            db: db.clone(),
            public_url,
            max_body_bytes: config.max_body_bytes,
            funnel_writer: FunnelWriter::start(db.clone()),
            directory_cache: Default::default(),
            flood_control,
        });
        let mut router = if config.outbound.role.serves_api() {
            // The admin web UI under `/`, beside the API under `/api`.
            let ui = crate::ui::router(state.clone());
            http::router(state, ui, config.max_body_bytes)
        } else {
            http::health_only_router(state)
        };
        let metrics_config = &config.metrics;
        let endpoint = MetricsEndpoint::new(db.clone(), metrics_config.metrics_token.as_deref());
        let metrics = match (metrics_config.mode, metrics_config.metrics_listen) {
            (MetricsMode::Off, Some(_)) => {
                anyhow::bail!("--metrics-listen was given with --metrics off: drop one of them")
            }
            (MetricsMode::Off, None) => None,
            (MetricsMode::On, None) => {
                router = endpoint.add_to(router);
                None
            }
            (MetricsMode::On, Some(address)) => {
                let listener = TcpListener::bind(address).await.with_context(|| {
                    format!("could not listen on {address} for metrics (--metrics-listen)")
                })?;
                Some((listener, endpoint.router()))
            }
        };
        Ok(Self {
            listener,
            router,
            metrics,
            worker,
            pending_counting,
            db,
            shutdown_grace: Duration::from_secs(config.shutdown_grace_seconds),
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The address `/metrics` is served on when it has a listener of its
    /// own (`--metrics-listen`).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves until `shutdown` completes, then stops accepting connections
    /// and waits for in-flight requests, at most the configured grace period.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        // The delivery worker stops claiming as soon as shutdown begins, and
        // finishes what it has in flight while the HTTP server drains.
        let grace = self.shutdown_grace;
        let worker_stopped = self.worker.map(|worker| {
            let mut stopping = stopping_rx.clone();
            tokio::spawn(async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
                worker.shutdown(grace).await;
            })
        });
        // The metrics listener stops when shutdown begins, like the API's.
        if let Some((listener, router)) = self.metrics {
            let mut stopping = stopping_rx.clone();
            let stopped = async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
            };
            tokio::spawn(async move {
                let served = axum::serve(listener, router).with_graceful_shutdown(stopped);
                if let Err(error) = served.await {
                    tracing::error!(%error, "the metrics listener failed");
                }
            });
        }
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutdown requested: no new connections, finishing requests in flight");
            let _ = stopping_tx.send(true);
        });
        let grace_elapsed = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server.into_future() => served.context("the HTTP server failed")?,
            () = grace_elapsed => tracing::warn!(?grace, "shutdown grace period elapsed; exiting with requests still in flight"),
        }
        if let Some(worker) = worker_stopped {
            let _ = worker.await;
        }
        drop(self.pending_counting);
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_from_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://switchyard.db"), "sqlite://switchyard.db");
    }
}
