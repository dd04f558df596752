//! Compiled modules kept on disk across restarts, so a start does not
//! compile every plugin again. An artifact's file name holds the module's
//! hash and the engine's compatibility hash, so an upgraded engine never
//! loads stale code.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use wasmtime::{Engine, Module};

/// The artifact folder of a runtime, if it has one.
#[derive(Debug)]
pub(super) struct ArtifactStore {
    dir: Option<PathBuf>,
}

impl ArtifactStore {
    /// Creates the folder if it is missing; without it, modules are
    /// compiled on every start (and a warning says so).
    pub(super) fn open(dir: Option<PathBuf>) -> Self {
        if let Some(dir) = &dir
            && let Err(error) = std::fs::create_dir_all(dir)
        {
            tracing::warn!(%error, dir = %dir.display(), "cannot create the plugin artifact directory; plugins will be compiled on each start");
        }
        Self { dir }
    }

    fn path(&self, engine: &Engine, sha256: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(dir.join(artifact_file_name(sha256, hasher.finish())))
    }

    /// The module compiled from the bytes with this hash, if an artifact of
    /// it is there and this engine can use it.
    pub(super) fn load(&self, engine: &Engine, sha256: &str) -> Option<Module> {
        let path = self.path(engine, sha256)?;
        // Read into memory rather than map the file: a mapped file truncated
        // by someone else would crash the process (SIGBUS).
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: artifacts are written only by `store`, with
        // `Module::serialize` of an engine with the same compatibility hash
        // (part of the file name), into the server's own artifact directory,
        // which must not be writable by anyone else. wasmtime also checks the
        // artifact's header against this engine and refuses a mismatch.
        match unsafe { Module::deserialize(engine, &bytes) } {
            Ok(module) => Some(module),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "ignoring an unusable plugin artifact");
                None
            }
        }
    }

    /// Keeps a compiled module; a failure is logged and costs only a
    /// compilation at the next start.
    pub(super) fn store(&self, engine: &Engine, sha256: &str, module: &Module) {
        let Some(path) = self.path(engine, sha256) else {
            return;
        };
        let written = module
            .serialize()
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                // Write then rename, so a reader never sees half a file.
                let partial = path.with_extension(format!("partial-{}", std::process::id()));
                std::fs::write(&partial, bytes)
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot store a plugin artifact");
        }
    }
}

/// `<module sha256>-<engine compatibility hash, 16 hex digits>.cwasm`.
fn artifact_file_name(sha256: &str, engine_hash: u64) -> String {
    format!("{sha256}-{engine_hash:016x}.cwasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_holds_both_hashes_at_a_fixed_width() {
        assert_eq!(
            artifact_file_name("ab12", 0x2a),
            "ab12-000000000000002a.cwasm"
        );
        assert_ne!(artifact_file_name("ab12", 1), artifact_file_name("ab12", 2));
    }
}
