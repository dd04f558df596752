//! Gives the engine a larger shadow stack than the other plugins' 64 KiB
//! (plugins/.cargo/config.toml): QuickJS keeps each JavaScript frame's
//! values there. The last `-zstack-size` on the linker's command line wins,
//! and a build script's link arguments come after RUSTFLAGS'; the same
//! holds for the initial memory, which must hold that stack.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=1048576");
        // The stack, QuickJS's data and a first heap.
        println!("cargo:rustc-link-arg=--initial-memory=2097152");
    }
}
