//! `switchyard plugin new`: the files of a standalone plugin project in each
//! supported language. The SDK of each language and its templates
//! (`plugin-sdk/`) are compiled into the binary, so a project needs neither
//! this repository nor a registry for them; it builds with the command its
//! README names. Pure: the command line writes the files.

use std::fmt;

/// The languages `plugin new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaffoldLanguage {
    Rust,
    Js,
    Ts,
    #[value(name = "assemblyscript")]
    AssemblyScript,
    C,
}

/// A project to write: its files (paths relative to the project folder)
/// and how to build and run it.
#[derive(Debug)]
pub(crate) struct Scaffold {
    pub files: Vec<(String, String)>,
    /// The commands that build the module, run in the project folder (none
    /// for JavaScript and TypeScript, which `plugin run` builds itself).
    pub build: Option<String>,
    /// What `switchyard plugin run` takes: the module or the script.
    pub module: String,
}

/// A project name that cannot become a package name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` cannot name a plugin project: use letters, digits, `-` and `_`, starting with a letter",
            self.0
        )
    }
}

impl std::error::Error for InvalidName {}

mod sdk {
    pub(super) const JS_TYPES: &str = include_str!("../../../plugin-sdk/js/switchyard-plugin.d.ts");
    pub(super) const JS_TRANSFORM_TS: &str =
        include_str!("../../../plugin-sdk/js/template/transform.ts");
    pub(super) const JS_TRANSFORM_JS: &str =
        include_str!("../../../plugin-sdk/js/template/transform.js");
    pub(super) const JS_CONFIG: &str = include_str!("../../../plugin-sdk/js/template/config.json");
    pub(super) const JS_INPUT: &str = include_str!("../../../plugin-sdk/js/template/input.json");
    pub(super) const JS_TSCONFIG: &str =
        include_str!("../../../plugin-sdk/js/template/tsconfig.json");

    pub(super) const RUST_CARGO: &str =
        include_str!("../../../plugin-sdk/templates/rust/Cargo.toml.template");
    pub(super) const RUST_LIB: &str = include_str!("../../../plugin-sdk/templates/rust/src/lib.rs");
    pub(super) const RUST_GITIGNORE: &str =
        include_str!("../../../plugin-sdk/templates/rust/gitignore");
    pub(super) const RUST_SDK_CARGO: &str =
        include_str!("../../../plugin-sdk/templates/rust/sdk-Cargo.toml.template");
    pub(super) const RUST_SDK_LIB: &str = include_str!("../../../plugin-sdk/src/lib.rs");
    pub(super) const RUST_SDK_EVENT: &str = include_str!("../../../plugin-sdk/src/event.rs");
    pub(super) const ABI: &str = include_str!("../../../plugin-sdk/ABI.md");

    pub(super) const C_HEADER: &str = include_str!("../../../plugin-sdk/c/switchyard_plugin.h");
    pub(super) const C_EXAMPLE: &str = include_str!("../../../plugin-sdk/c/example.c");
    pub(super) const C_MAKEFILE: &str = include_str!("../../../plugin-sdk/templates/c/Makefile");

    pub(super) const AS_PACKAGE: &str =
        include_str!("../../../plugin-sdk/templates/assemblyscript/package.json");
    pub(super) const AS_LOCK: &str =
        include_str!("../../../plugin-sdk/assemblyscript/package-lock.json");
    pub(super) const AS_HELPERS: &str =
        include_str!("../../../plugin-sdk/assemblyscript/assembly/switchyard.ts");
    pub(super) const AS_EXAMPLE: &str =
        include_str!("../../../plugin-sdk/assemblyscript/assembly/example.ts");
    pub(super) const AS_GITIGNORE: &str =
        include_str!("../../../plugin-sdk/templates/assemblyscript/gitignore");
}

/// The config and input of the C and AssemblyScript examples, which read
/// one string field of each.
const LEAD_CONFIG: &str = "{\"stage\": \"Won\"}\n";
const LEAD_INPUT: &str = "{\"lead\": \"lead_01JD0000000000000000000000\"}\n";

/// The name a package takes from the project folder's name: its own when
/// it is one (letters, digits, `-`, `_`, starting with a letter).
pub(crate) fn package_name(folder_name: &str) -> Result<String, InvalidName> {
    let valid = folder_name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && folder_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(folder_name.to_ascii_lowercase())
    } else {
        Err(InvalidName(folder_name.to_owned()))
    }
}

/// The project for `language`, named `name` (a [`package_name`]).
pub(crate) fn scaffold(language: ScaffoldLanguage, name: &str) -> Scaffold {
    let file = |path: &str, contents: &str| (path.to_owned(), contents.to_owned());
    let (mut files, build, module) = match language {
        ScaffoldLanguage::Js | ScaffoldLanguage::Ts => {
            let script = if language == ScaffoldLanguage::Ts {
                file("transform.ts", sdk::JS_TRANSFORM_TS)
            } else {
                file("transform.js", sdk::JS_TRANSFORM_JS)
            };
            let module = script.0.clone();
            let files = vec![
                script,
                file("switchyard-plugin.d.ts", sdk::JS_TYPES),
                file("config.json", sdk::JS_CONFIG),
                file("input.json", sdk::JS_INPUT),
                file("tsconfig.json", sdk::JS_TSCONFIG),
            ];
            (files, None, module)
        }
        ScaffoldLanguage::Rust => {
            let files = vec![
                file("Cargo.toml", &sdk::RUST_CARGO.replace("{{name}}", name)),
                file(".gitignore", sdk::RUST_GITIGNORE),
                file("src/lib.rs", sdk::RUST_LIB),
                file(
                    "switchyard-plugin-sdk/Cargo.toml",
                    &sdk::RUST_SDK_CARGO.replace("{{version}}", env!("CARGO_PKG_VERSION")),
                ),
                file("switchyard-plugin-sdk/src/lib.rs", sdk::RUST_SDK_LIB),
                file("switchyard-plugin-sdk/src/event.rs", sdk::RUST_SDK_EVENT),
                file("switchyard-plugin-sdk/ABI.md", sdk::ABI),
                file("config.json", sdk::JS_CONFIG),
                file("input.json", sdk::JS_INPUT),
            ];
            let build = "cargo build --release --target wasm32-unknown-unknown".to_owned();
            let module = format!(
                "target/wasm32-unknown-unknown/release/{}.wasm",
                name.replace('-', "_")
            );
            (files, Some(build), module)
        }
        ScaffoldLanguage::C => {
            let source = sdk::C_EXAMPLE
                .replace("example.wasm", "transform.wasm")
                .replace("Build: see switchyard_plugin.h", "Build: make");
            let files = vec![
                file("transform.c", &source),
                file("switchyard_plugin.h", sdk::C_HEADER),
                file("Makefile", sdk::C_MAKEFILE),
                file("config.json", LEAD_CONFIG),
                file("input.json", LEAD_INPUT),
            ];
            (files, Some("make".to_owned()), "transform.wasm".to_owned())
        }
        ScaffoldLanguage::AssemblyScript => {
            let source = sdk::AS_EXAMPLE
                .replace("example.wasm", "transform.wasm")
                .replace("body.json", "input.json");
            let files = vec![
                file("package.json", &sdk::AS_PACKAGE.replace("{{name}}", name)),
                file(
                    "package-lock.json",
                    &sdk::AS_LOCK.replace("switchyard-plugin-assemblyscript", name),
                ),
                file(".gitignore", sdk::AS_GITIGNORE),
                file("assembly/index.ts", &source),
                file("assembly/switchyard.ts", sdk::AS_HELPERS),
                file("config.json", LEAD_CONFIG),
                file("input.json", LEAD_INPUT),
            ];
            let build = "npm ci && npm run build".to_owned();
            (files, Some(build), "transform.wasm".to_owned())
        }
    };
    files.push(file(
        "README.md",
        &readme(language, name, build.as_deref(), &module),
    ));
    Scaffold {
        files,
        build,
        module,
    }
}

/// The command that runs the project's plugin once on its sample.
pub(crate) fn run_command(module: &str) -> String {
    format!(
        "switchyard plugin run {module} --kind inbound-transform --config config.json --input input.json"
    )
}

fn readme(language: ScaffoldLanguage, name: &str, build: Option<&str>, module: &str) -> String {
    let what = match language {
        ScaffoldLanguage::Rust => "Rust, with the SDK in `switchyard-plugin-sdk/` beside it",
        ScaffoldLanguage::Js => "JavaScript, typed by `switchyard-plugin.d.ts`",
        ScaffoldLanguage::Ts => "TypeScript, typed by `switchyard-plugin.d.ts`",
        ScaffoldLanguage::AssemblyScript => {
            "AssemblyScript, with the ABI helpers in `assembly/switchyard.ts`"
        }
        ScaffoldLanguage::C => "C without a libc, with the ABI in `switchyard_plugin.h`",
    };
    let build = match build {
        Some(command) => format!("{command}\n"),
        None => format!(
            "switchyard plugin build {module} -o transform.wasm   # optional: `plugin run` and an upload build it\n"
        ),
    };
    let target_dir_note = if language == ScaffoldLanguage::Rust {
        "\nWith `CARGO_TARGET_DIR` set, the module is under that folder instead of `target/`.\n"
    } else {
        ""
    };
    format!(
        "# {name}\n\nA Switchyard inbound transform in {what}: `config.json` is the config an \
         admin attaches with it, `input.json` a request body a CRM would send.\n\n\
         ```sh\n{build}{run}\n```\n{target_dir_note}\n\
         `plugin run` calls it once in the server's sandbox, with its limits, and prints the \
         funnel updates, the log, the fuel and the time. Upload the module with \
         `POST /api/v1/plugins?name={name}&kind=inbound-transform` (the module as the body).\n",
        run = run_command(module),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ScaffoldLanguage; 5] = [
        ScaffoldLanguage::Rust,
        ScaffoldLanguage::Js,
        ScaffoldLanguage::Ts,
        ScaffoldLanguage::AssemblyScript,
        ScaffoldLanguage::C,
    ];

    fn contents<'a>(scaffold: &'a Scaffold, path: &str) -> &'a str {
        scaffold
            .files
            .iter()
            .find(|(name, _)| name == path)
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| panic!("{path} is not written"))
    }

    #[test]
    fn every_project_has_a_sample_a_readme_and_no_placeholder_left() {
        for language in ALL {
            let scaffold = scaffold(language, "crm-sync");
            for path in ["config.json", "input.json"] {
                let sample = contents(&scaffold, path);
                assert!(
                    serde_json::from_str::<serde_json::Value>(sample).is_ok(),
                    "{language:?} {path}"
                );
            }
            let readme = contents(&scaffold, "README.md");
            assert!(readme.contains(&run_command(&scaffold.module)), "{readme}");
            for (path, text) in &scaffold.files {
                assert!(
                    !text.contains("{{"),
                    "{language:?} {path} keeps a placeholder"
                );
            }
        }
    }

    #[test]
    fn a_rust_project_names_its_package_and_module_after_the_folder() {
        let scaffold = scaffold(ScaffoldLanguage::Rust, "crm-sync");
        assert!(contents(&scaffold, "Cargo.toml").contains("name = \"crm-sync\""));
        assert_eq!(
            scaffold.module,
            "target/wasm32-unknown-unknown/release/crm_sync.wasm"
        );
        assert!(
            contents(&scaffold, "switchyard-plugin-sdk/Cargo.toml")
                .contains("name = \"switchyard-plugin-sdk\"")
        );
        assert!(
            contents(&scaffold, "switchyard-plugin-sdk/src/lib.rs")
                .contains("macro_rules! export_transform")
        );
    }

    #[test]
    fn an_assemblyscript_lock_file_names_the_project() {
        let scaffold = scaffold(ScaffoldLanguage::AssemblyScript, "crm-sync");
        let lock: serde_json::Value =
            serde_json::from_str(contents(&scaffold, "package-lock.json")).unwrap();
        assert_eq!(lock["name"], "crm-sync");
        assert_eq!(lock["packages"][""]["name"], "crm-sync");
        assert!(contents(&scaffold, "package.json").contains("--outFile transform.wasm"));
    }

    #[test]
    fn package_names_are_checked_not_mangled() {
        assert_eq!(package_name("CRM_sync-2"), Ok("crm_sync-2".to_owned()));
        for bad in ["", "2fast", "my plugin", "../up", "naïve"] {
            assert_eq!(package_name(bad), Err(InvalidName(bad.to_owned())), "{bad}");
        }
    }
}
