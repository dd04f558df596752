//! The plugins compiled to Wasm from `plugins/` by `build.rs` and embedded in
//! the binary: the built-ins, which every account can use by the id
//! `builtin:NAME`, and the examples, embedded so tests and the docs can
//! upload them. Built-ins run in the same sandbox as users' plugins.

use crate::domain::plugin::PluginKind;

/// A plugin compiled from this repository's sources.
#[derive(Debug, Clone, Copy)]
pub struct CompiledFromSource {
    pub name: &'static str,
    pub kind: PluginKind,
    pub builtin: bool,
    pub module: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Every built-in plugin.
pub(crate) fn builtins() -> impl Iterator<Item = &'static CompiledFromSource> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::BuiltinFormat;

    /// Every built-in payload format an admin can pick has its plugin.
    #[test]
    fn every_builtin_format_is_a_builtin_payload_builder() {
        for format in BuiltinFormat::ALL {
            let plugin = builtin(format.as_str())
                .unwrap_or_else(|| panic!("no built-in plugin named {}", format.as_str()));
            assert_eq!(
                plugin.kind,
                PluginKind::PayloadBuilder,
                "{}",
                format.as_str()
            );
        }
    }
}
