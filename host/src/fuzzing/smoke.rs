//! The fuzz targets on stable Rust, in the unit tests: each runs over its
//! seeds (`fuzz/seeds/TARGET/`) and every regression input
//! (`fuzz/regressions/TARGET/`), then over random mutations of them for
//! `SWITCHYARD_FUZZ_SMOKE_MS` milliseconds (default 1,500). No coverage
//! guidance: this is the smoke run `scripts/test` makes; `scripts/fuzz` runs
//! libFuzzer for real. The mutations are seeded, so a failure repeats (the
//! seed is printed; set `SWITCHYARD_FUZZ_SMOKE_SEED` to replay it).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::TARGETS;

/// Bytes that mean something to the parsers, spliced in by the mutator.
const TOKENS: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b":",
    b",",
    b"%",
    b"+",
    b"@",
    b".",
    b"::",
    b"ffff:",
    b"[::1]",
    b"0x7f",
    b"1e999",
    b"null",
    b"\"lead\":",
    b"\"records\":",
    b"\"ok\":",
    b"\"err\":",
    b"lead.notes",
    b"GMT",
    b"\xff",
    b"\xc3\xa9",
    b"\0",
    b" ",
    b"_",
    b"-",
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, in name order (none if it does not exist).
fn inputs_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path, bytes)
        })
        .collect()
}

/// Runs `target` on `input`, failing the test with the input when it
/// panics.
fn run(name: &str, target: fn(&[u8]), input: &[u8], origin: &str) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        panic!(
            "fuzz target `{name}` failed on {origin}: {input:?} ({:?}). \
             Once fixed, keep the input in fuzz/regressions/{name}/.",
            String::from_utf8_lossy(input)
        );
    }
}

fn mutate(rng: &mut StdRng, pool: &[Vec<u8>]) -> Vec<u8> {
    let mut input = pool[rng.random_range(0..pool.len())].clone();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=input.len());
        match rng.random_range(0..6) {
            0 if !input.is_empty() => {
                let index = rng.random_range(0..input.len());
                input[index] ^= 1 << rng.random_range(0..8);
            }
            1 if !input.is_empty() => {
                let end = rng.random_range(at..=input.len().min(at + 8));
                input.drain(at..end);
            }
            2 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            3 => {
                let other = &pool[rng.random_range(0..pool.len())];
                let from = rng.random_range(0..=other.len());
                let to = rng.random_range(from..=other.len());
                input.splice(at..at, other[from..to].iter().copied());
            }
            4 => input.insert(at, rng.random()),
            _ => {
                let index = rng.random_range(0..=input.len());
                input.truncate(index);
            }
        }
    }
    input
}

#[test]
fn every_fuzz_target_survives_its_seeds_regressions_and_mutations() {
    let budget = Duration::from_millis(
        std::env::var("SWITCHYARD_FUZZ_SMOKE_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(1_500),
    );
    let seed = std::env::var("SWITCHYARD_FUZZ_SMOKE_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("fuzz smoke: seed {seed}, {budget:?} per target");
    for &(name, target) in TARGETS {
        let seeds = inputs_in(&fuzz_dir().join("seeds").join(name));
        let regressions = inputs_in(&fuzz_dir().join("regressions").join(name));
        assert!(!seeds.is_empty(), "fuzz/seeds/{name}/ has no inputs");
        for (path, input) in seeds.iter().chain(&regressions) {
            run(name, target, input, &path.display().to_string());
        }
        let pool: Vec<Vec<u8>> = seeds.into_iter().map(|(_, input)| input).collect();
        let target_seed = name
            .bytes()
            .fold(seed, |hash, byte| hash.rotate_left(7) ^ u64::from(byte));
        let mut rng = StdRng::seed_from_u64(target_seed);
        let started = Instant::now();
        let mut runs = 0u64;
        while started.elapsed() < budget {
            let input = mutate(&mut rng, &pool);
            run(name, target, &input, &format!("a mutation (seed {seed})"));
            runs += 1;
        }
        eprintln!(
            "fuzz smoke: {name}: {} regression inputs, {runs} mutations",
            regressions.len()
        );
    }
}
