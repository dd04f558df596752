//! The plugins compiled to Wasm from `plugins/` by `build.rs` and embedded in
//! the binary: the built-ins, which every account can use by the id
//! `builtin:NAME`, and the examples, embedded so tests and the docs can
//! upload them. Built-ins run in the same sandbox as users' plugins.

use super::PluginKind;

/// A plugin compiled from this repository's sources.
#[derive(Debug, Clone, Copy)]
pub struct CompiledFromSource {
    pub name: &'static str,
    pub kind: &'static str,
    pub builtin: bool,
    pub module: &'static [u8],
}

impl CompiledFromSource {
    pub fn kind(&self) -> PluginKind {
        PluginKind::from_stored(self.kind)
    }
}

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Prefix of built-in plugin ids: `builtin:json-mapper`.
pub const BUILTIN_ID_PREFIX: &str = "builtin:";

/// Every built-in plugin.
pub fn builtins() -> impl Iterator<Item = &'static CompiledFromSource> {
    COMPILED_PLUGINS.iter().filter(|plugin| plugin.builtin)
}

/// A built-in plugin by name.
pub fn builtin(name: &str) -> Option<&'static CompiledFromSource> {
    builtins().find(|plugin| plugin.name == name)
}

/// An example plugin (not built in) by name.
pub fn example(name: &str) -> Option<&'static [u8]> {
    COMPILED_PLUGINS
        .iter()
        .find(|plugin| !plugin.builtin && plugin.name == name)
        .map(|plugin| plugin.module)
}
