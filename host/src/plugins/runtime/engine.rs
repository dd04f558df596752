//! The wasmtime [`Engine`] every plugin runs in: fuel metering, epoch
//! interruption, the stack cap and the pooling allocator; the host API a
//! module may import (`switchyard_v1.log`); and the thread that advances
//! the epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, Linker, PoolingAllocationConfig,
};

use super::call::{CallState, host_log};
use crate::domain::plugin::PluginLimits;
use crate::plugins::error::EngineStartError;

/// Native stack Wasm code may use, for every call.
pub(crate) const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

/// How often the epoch advances: a running plugin yields to the async
/// runtime at every tick.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Sandbox slots: calls running at the same moment.
const POOL_SLOTS: u32 = 256;
/// Memory kept mapped between calls in a pool slot (see `engine`) when only
/// the pages a call dirtied are reset (wasmtime finds the PAGEMAP_SCAN
/// ioctl: Linux 6.7 and later): the 1 MiB initial memory of plugins
/// built from `plugins/`. At most this much per slot in use stays resident
/// (256 MiB if every slot were ever used at once).
const KEEP_RESIDENT_BYTES: usize = 1024 * 1024;
/// The same where every kept page is reset after every call (no
/// PAGEMAP_SCAN): what a typical call touches, measured before dirty-page
/// reset existed.
const KEEP_RESIDENT_BYTES_WITHOUT_PAGEMAP: usize = 256 * 1024;

/// The engine, configured for untrusted code.
pub(super) fn engine() -> Result<Engine, EngineStartError> {
    let max_memory = PluginLimits::ACCOUNT_MAXIMUM.memory_bytes as usize;
    let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
        KEEP_RESIDENT_BYTES
    } else {
        KEEP_RESIDENT_BYTES_WITHOUT_PAGEMAP
    };
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .max_memory_size(max_memory)
        .total_stacks(POOL_SLOTS)
        // When a slot is reused, reset the pages of its memory with
        // memset/memcpy instead of handing them back to the kernel
        // (`madvise`): each would be a page fault on the next call. With
        // PAGEMAP_SCAN (Linux 6.7+) only the pages the call dirtied are
        // reset, a few of a small call's 16; without it, the whole kept
        // region is. Measured in BENCHMARKS.md ("Plugin calls").
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(keep_resident)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK_BYTES)
        // The default reservation (4 GiB plus guard pages per memory, on
        // 64-bit hosts) lets compiled code skip bounds checks; it is
        // address space only, and the pool caps each memory's real size.
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|error| EngineStartError::Engine(error.to_string()))
}

/// The host API, the only imports a module may have.
pub(super) fn linker(engine: &Engine) -> Result<Linker<CallState>, EngineStartError> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("switchyard_v1", "log", host_log)
        .map_err(|error| EngineStartError::HostApi(error.to_string()))?;
    Ok(linker)
}

/// Starts the thread that advances the engine's epoch every tick, until
/// the returned flag is set.
pub(super) fn start_epoch_ticker(engine: &Engine) -> Result<Arc<AtomicBool>, EngineStartError> {
    let stop = Arc::new(AtomicBool::new(false));
    let ticking_engine = engine.clone();
    let stopped = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                ticking_engine.increment_epoch();
            }
        })
        .map_err(|error| EngineStartError::EpochTicker(error.to_string()))?;
    Ok(stop)
}
