//! The built-in plugins, compiled to Wasm from `plugins/` by `build.rs` and
//! embedded in the binary. They run in the same sandbox as users' plugins.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The module of a built-in plugin, by name.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTIN_PLUGINS
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, module)| *module)
}
