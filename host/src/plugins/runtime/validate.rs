//! What a module must look like to be a plugin (ABI v1): its only import
//! `switchyard_v1.log(i32, i32)`; its exports `memory`, `alloc(i32) -> i32`,
//! the kind's entry point `(i32, i32) -> i64` and optionally
//! `_initialize()`. Checked once, at compile time.

use wasmtime::{ExternType, FuncType, Module, ModuleExport, ValType};

use crate::domain::plugin::PluginKind;
use crate::plugins::error::PluginError;

/// The ABI's exports, found once at compile time: looking them up by index
/// spares every call three lookups by name.
pub(super) struct AbiExports {
    pub(super) memory: ModuleExport,
    pub(super) alloc: ModuleExport,
    pub(super) entry: ModuleExport,
    /// `_initialize() -> ()`, which toolchains export to run constructors
    /// (C++, TinyGo, Go): called once per instance, before `alloc`.
    pub(super) initialize: Option<ModuleExport>,
}

/// The value types of the ABI's signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    I32,
    I64,
}

impl Num {
    fn is(self, ty: &ValType) -> bool {
        match self {
            Num::I32 => ty.is_i32(),
            Num::I64 => ty.is_i64(),
        }
    }
}

/// Whether `func` takes exactly `params` and returns exactly `results`.
fn has_signature(func: &FuncType, params: &[Num], results: &[Num]) -> bool {
    func.params().len() == params.len()
        && func.params().zip(params).all(|(ty, num)| num.is(&ty))
        && func.results().len() == results.len()
        && func.results().zip(results).all(|(ty, num)| num.is(&ty))
}

/// Refuses every import but `switchyard_v1.log(i32, i32)`.
pub(super) fn check_imports(module: &Module) -> Result<(), PluginError> {
    for import in module.imports() {
        let allowed = import.module() == "switchyard_v1"
            && import.name() == "log"
            && matches!(import.ty(), ExternType::Func(ref func)
                if has_signature(func, &[Num::I32, Num::I32], &[]));
        if !allowed {
            return Err(PluginError::InvalidModule(format!(
                "it imports `{}.{}`, but plugins may import only `switchyard_v1.log(i32, i32)`: \
                 no WASI, clock, randomness, files or network",
                import.module(),
                import.name()
            )));
        }
    }
    Ok(())
}

/// Requires `memory`, `alloc(i32) -> i32` and the kind's entry point
/// `(i32, i32) -> i64`, and returns where they are.
pub(super) fn check_exports(module: &Module, kind: PluginKind) -> Result<AbiExports, PluginError> {
    let export = |name: &str| {
        module
            .exports()
            .find(|export| export.name() == name)
            .map(|e| e.ty())
    };
    if !matches!(export("memory"), Some(ExternType::Memory(_))) {
        return Err(PluginError::InvalidModule(
            "it does not export `memory`".into(),
        ));
    }
    let has_func = |name: &str, params: &[Num], results: &[Num]| match export(name) {
        Some(ExternType::Func(func)) => has_signature(&func, params, results),
        _ => false,
    };
    if !has_func("alloc", &[Num::I32], &[Num::I32]) {
        return Err(PluginError::InvalidModule(
            "it does not export `alloc(i32) -> i32`".into(),
        ));
    }
    let entry = kind.entry_point();
    if !has_func(entry, &[Num::I32, Num::I32], &[Num::I64]) {
        return Err(PluginError::InvalidModule(format!(
            "a {} plugin must export `{entry}(i32, i32) -> i64`",
            kind.as_str()
        )));
    }
    let initialize = match export("_initialize") {
        None => None,
        Some(ExternType::Func(_)) if has_func("_initialize", &[], &[]) => {
            module.get_export_index("_initialize")
        }
        Some(_) => {
            return Err(PluginError::InvalidModule(
                "it exports `_initialize`, which must be a function taking and returning nothing"
                    .into(),
            ));
        }
    };
    let index = |name: &str| {
        module
            .get_export_index(name)
            .ok_or_else(|| PluginError::InvalidModule(format!("it does not export `{name}`")))
    };
    Ok(AbiExports {
        memory: index("memory")?,
        alloc: index("alloc")?,
        entry: index(entry)?,
        initialize,
    })
}

#[cfg(test)]
mod tests {
    use wasmtime::Engine;

    use super::*;

    fn func_type(params: &[ValType], results: &[ValType]) -> FuncType {
        FuncType::new(
            &Engine::default(),
            params.iter().cloned(),
            results.iter().cloned(),
        )
    }

    #[test]
    fn a_signature_matches_only_its_exact_types_in_order() {
        let entry = func_type(&[ValType::I32, ValType::I32], &[ValType::I64]);
        assert!(has_signature(&entry, &[Num::I32, Num::I32], &[Num::I64]));
        assert!(!has_signature(&entry, &[Num::I32, Num::I32], &[Num::I32]));
        assert!(!has_signature(&entry, &[Num::I32], &[Num::I64]));
        assert!(!has_signature(
            &entry,
            &[Num::I32, Num::I32, Num::I32],
            &[Num::I64]
        ));
        let swapped = func_type(&[ValType::I64, ValType::I32], &[ValType::I64]);
        assert!(!has_signature(&swapped, &[Num::I32, Num::I32], &[Num::I64]));
        let nothing = func_type(&[], &[]);
        assert!(has_signature(&nothing, &[], &[]));
        assert!(!has_signature(&nothing, &[], &[Num::I32]));
    }

    fn module(wat: &str) -> Module {
        Module::new(&Engine::default(), wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn an_import_other_than_the_log_is_named_in_the_refusal() {
        let wasi = module(
            r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#,
        );
        let error = check_imports(&wasi).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("it imports `wasi_snapshot_preview1.fd_write`"),
            "{error}"
        );
        let log_with_a_result = module(
            r#"(module (import "switchyard_v1" "log" (func (param i32 i32) (result i32))))"#,
        );
        assert!(check_imports(&log_with_a_result).is_err());
        let log = module(r#"(module (import "switchyard_v1" "log" (func (param i32 i32))))"#);
        assert_eq!(check_imports(&log), Ok(()));
    }

    #[test]
    fn the_entry_point_of_the_kind_is_required() {
        let transform = module(
            r#"(module (memory (export "memory") 1)
                 (func (export "alloc") (param i32) (result i32) i32.const 0)
                 (func (export "transform") (param i32 i32) (result i64) i64.const 0))"#,
        );
        assert!(check_exports(&transform, PluginKind::InboundTransform).is_ok());
        let error = check_exports(&transform, PluginKind::PayloadBuilder)
            .err()
            .expect("no build_payload export");
        assert_eq!(
            error.to_string(),
            "invalid module: a payload-builder plugin must export `build_payload(i32, i32) -> i64`"
        );
    }
}
