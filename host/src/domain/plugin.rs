//! The plugin model: what kind a plugin is (which decides the entry point
//! its module exports) and the limits of one call, with their defaults and
//! the account maxima. The sandbox that enforces them is `plugins`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidInput;

/// Prefix of built-in plugin ids: `builtin:json-mapper`.
pub const BUILTIN_ID_PREFIX: &str = "builtin:";

/// What a plugin does, which decides the entry point it must export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Turns an inbound request into funnel updates: exports `transform`.
    InboundTransform,
    /// Builds an outbound webhook payload: exports `build_payload`.
    PayloadBuilder,
}

impl PluginKind {
    pub const ALL: [PluginKind; 2] = [PluginKind::InboundTransform, PluginKind::PayloadBuilder];

    /// The function the module must export for this kind.
    pub fn entry_point(self) -> &'static str {
        match self {
            PluginKind::InboundTransform => "transform",
            PluginKind::PayloadBuilder => "build_payload",
        }
    }

    /// The kind by its name ([`PluginKind::as_str`]), as stored and as
    /// forms send it.
    pub fn parse(name: &str) -> Result<PluginKind, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "kind must be one of {}, not `{name}`",
                    Self::ALL.map(Self::as_str).join(", ")
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::InboundTransform => "inbound-transform",
            PluginKind::PayloadBuilder => "payload-builder",
        }
    }
}

/// Fuel, memory, time and output limits of a call. The Wasm stack limit is
/// the engine's (`plugins::runtime::MAX_WASM_STACK_BYTES`), the same for
/// every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PluginLimits {
    /// Roughly one unit per Wasm instruction.
    pub fuel: u64,
    /// Largest linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock backstop, in milliseconds.
    pub time_limit_ms: u64,
    /// Largest result, in bytes.
    pub output_bytes: u64,
}

impl PluginLimits {
    /// Defaults: enough for a transform to parse and map a few hundred
    /// kilobytes of JSON.
    pub const DEFAULT: PluginLimits = PluginLimits {
        fuel: 50_000_000,
        memory_bytes: 16 * 1024 * 1024,
        time_limit_ms: 1_000,
        output_bytes: 1024 * 1024,
    };

    /// The most any plugin of an account may be given.
    pub const ACCOUNT_MAXIMUM: PluginLimits = PluginLimits {
        fuel: 2_000_000_000,
        memory_bytes: 64 * 1024 * 1024,
        time_limit_ms: 10_000,
        output_bytes: 16 * 1024 * 1024,
    };

    /// Each limit lowered to at most `maximum`'s.
    pub fn clamped_to(self, maximum: PluginLimits) -> PluginLimits {
        PluginLimits {
            fuel: self.fuel.min(maximum.fuel),
            memory_bytes: self.memory_bytes.min(maximum.memory_bytes),
            time_limit_ms: self.time_limit_ms.min(maximum.time_limit_ms),
            output_bytes: self.output_bytes.min(maximum.output_bytes),
        }
    }

    pub fn time_limit(&self) -> Duration {
        Duration::from_millis(self.time_limit_ms)
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The language of a plugin's source (JavaScript and TypeScript plugins are
/// built from one and keep it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptLanguage {
    JavaScript,
    TypeScript,
}

impl ScriptLanguage {
    /// The language of a file by its extension: `.js`/`.mjs` or `.ts`/`.mts`.
    pub fn from_path(path: &str) -> Option<ScriptLanguage> {
        let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "js" | "mjs" | "cjs" => Some(ScriptLanguage::JavaScript),
            "ts" | "mts" | "cts" => Some(ScriptLanguage::TypeScript),
            _ => None,
        }
    }

    /// The language a content type names (`text/javascript`,
    /// `application/typescript`, ...), if it names one.
    pub fn from_content_type(content_type: &str) -> Option<ScriptLanguage> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "application/ecmascript"
            | "text/ecmascript" => Some(ScriptLanguage::JavaScript),
            "application/typescript"
            | "text/typescript"
            | "application/x-typescript"
            | "video/mp2t" => Some(ScriptLanguage::TypeScript),
            _ => None,
        }
    }

    /// `javascript` or `typescript`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptLanguage::JavaScript => "javascript",
            ScriptLanguage::TypeScript => "typescript",
        }
    }

    /// The language stored as [`ScriptLanguage::as_str`], or parsed from a user's
    /// `js`/`ts`.
    pub fn parse(text: &str) -> Option<ScriptLanguage> {
        match text.trim().to_ascii_lowercase().as_str() {
            "javascript" | "js" => Some(ScriptLanguage::JavaScript),
            "typescript" | "ts" => Some(ScriptLanguage::TypeScript),
            _ => None,
        }
    }

    /// The file name a source is shown under when it has none.
    pub fn default_filename(self, kind: PluginKind) -> &'static str {
        match (self, kind) {
            (ScriptLanguage::JavaScript, PluginKind::InboundTransform) => "transform.js",
            (ScriptLanguage::JavaScript, PluginKind::PayloadBuilder) => "payload.js",
            (ScriptLanguage::TypeScript, PluginKind::InboundTransform) => "transform.ts",
            (ScriptLanguage::TypeScript, PluginKind::PayloadBuilder) => "payload.ts",
        }
    }
}

/// The transform attached to a webhook import: the plugin that turns the
/// import's requests into funnel updates, and its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    pub plugin_id: String,
    /// The config as JSON text: every transformed request passes it to the
    /// plugin as it is, so it is not parsed again per request.
    pub config_json: String,
}

impl Transform {
    /// The transform an import's columns hold: none without a plugin. The
    /// config was written from a JSON value; a missing one is `null`, and
    /// text that is not JSON is refused (the caller names the column)
    /// rather than silently replaced. Checking is cheaper than building
    /// the value again, and the text is kept as it is.
    pub fn from_columns(
        plugin_id: Option<String>,
        config: Option<String>,
    ) -> Result<Option<Transform>, String> {
        let Some(plugin_id) = plugin_id else {
            return Ok(None);
        };
        let config_json = match config {
            None => "null".to_owned(),
            Some(config) => match serde_json::from_str::<serde::de::IgnoredAny>(&config) {
                Ok(_) => config,
                Err(error) => return Err(format!("the config is not JSON: {error}")),
            },
        };
        Ok(Some(Transform {
            plugin_id,
            config_json,
        }))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_transform_is_read_from_its_columns_and_a_broken_config_refused() {
        assert_eq!(Transform::from_columns(None, Some("{}".into())), Ok(None));
        assert_eq!(
            Transform::from_columns(
                Some("builtin:json-mapper".into()),
                Some(r#"{"a": 1}"#.into())
            ),
            Ok(Some(Transform {
                plugin_id: "builtin:json-mapper".into(),
                config_json: r#"{"a": 1}"#.into(),
            }))
        );
        assert_eq!(
            Transform::from_columns(Some("pl_1".into()), None),
            Ok(Some(Transform {
                plugin_id: "pl_1".into(),
                config_json: "null".into(),
            }))
        );
        let refused = Transform::from_columns(Some("pl_1".into()), Some("{oops".into()));
        assert!(
            refused.as_ref().is_err_and(
                |error| error.starts_with("the config is not JSON: key must be a string")
            ),
            "{refused:?}"
        );
    }

    use super::*;

    #[test]
    fn clamping_lowers_each_limit_to_the_maximum() {
        let generous = PluginLimits {
            fuel: u64::MAX,
            memory_bytes: 1,
            time_limit_ms: 60_000,
            output_bytes: 10,
        };
        let clamped = generous.clamped_to(PluginLimits::ACCOUNT_MAXIMUM);
        assert_eq!(clamped.fuel, PluginLimits::ACCOUNT_MAXIMUM.fuel);
        assert_eq!(clamped.memory_bytes, 1);
        assert_eq!(clamped.time_limit_ms, 10_000);
        assert_eq!(clamped.output_bytes, 10);
    }

    #[test]
    fn kinds_parse_from_their_names_and_nothing_else() {
        for kind in PluginKind::ALL {
            assert_eq!(PluginKind::parse(kind.as_str()), Ok(kind));
        }
        // An unknown kind used to be read as an inbound transform.
        assert_eq!(
            PluginKind::parse("payload_builder").unwrap_err().0,
            "kind must be one of inbound-transform, payload-builder, not `payload_builder`"
        );
    }
}
