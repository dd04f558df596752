-- The source of plugins built from JavaScript or TypeScript, kept beside the
-- module it was built into (so it can be shown and edited), and the build
-- cache: `build_key` hashes the engine, the language, the file name and the
-- source, so uploading the same script again reuses the module.
CREATE TABLE plugin_sources (
    build_key TEXT PRIMARY KEY,
    module_sha256 TEXT NOT NULL REFERENCES plugin_modules (sha256),
    language TEXT NOT NULL,
    filename TEXT NOT NULL,
    -- The functions the script exports (`transform`, `buildPayload`),
    -- space-separated: the kinds the module can serve.
    entry_points TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX plugin_sources_module ON plugin_sources (module_sha256);
