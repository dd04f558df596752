//! End-to-end tests: the real server on a free loopback port, over HTTP,
//! against SQLite and PostgreSQL (see `helpers` for the harness).

mod helpers;
mod receiver;

mod api_contract;
mod api_keys;
mod assemblyscript_plugins;
mod auth;
mod c_plugins;
mod cli;
mod delivery_batch_failures;
mod delivery_claims;
mod delivery_engine;
mod delivery_failover;
mod delivery_fairness;
mod delivery_log_lookups;
mod delivery_recovery;
mod delivery_wakeups;
mod flood_control;
mod funnel_history;
mod funnel_import;
mod funnel_stages;
mod js_plugins;
mod kept_connections;
mod lead_creates;
mod lead_sync;
mod leads;
mod logs;
mod metrics;
mod migrations;
mod new_plugins;
mod plugins;
mod test_sends;
mod transform_trial;
mod ui;
mod ui_forms;
mod webhook_imports;
mod webhooks;
mod write_path;
