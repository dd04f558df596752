//! `/api/v1/plugins`: Wasm modules and the JavaScript or TypeScript
//! sources they are built from.
//!
//! - `upload`: a Wasm module (raw body) or a JavaScript or TypeScript source
//!   (built into a module by the server, its source kept);
//! - `catalog`: list (built-ins too), read, read a script's source, delete
//!   (refused while an import uses it);
//! - `dry_run`: call the plugin and report its output or error, fuel, time
//!   and logs (the call is `plugin_trial`'s);
//! - `views`: what the API answers about a plugin.

mod catalog;
mod dry_run;
mod upload;
mod views;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

pub(crate) use dry_run::{DryRunRequest, DryRunResult, run_once};
pub(crate) use upload::{UploadParams, upload};
pub(crate) use views::{PluginView, builtin_views};

use super::AppState;
use crate::plugins::runtime::MAX_MODULE_BYTES;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(catalog::router())
        .merge(upload::router())
        .merge(dry_run::router())
        // Modules are larger than ordinary API bodies.
        .layer(DefaultBodyLimit::max(MAX_MODULE_BYTES + 1024))
}
