//! Fuzzing as part of the test suite: proptest mutates the committed corpus
//! (`tests/fuzz/corpus/`, see its README) and feeds the scenario loader, the
//! `--set` parser, `report`'s readers and the sweep log reader `merge` and
//! `--resume` use. The property: every input is accepted or refused with an
//! error — no panic, no hang, no allocation sized by the input (the bounded
//! inputs make each case finish). Accepted scenarios are also run for one
//! simulated second, accepted run directories rendered as `report.md`.
//!
//! Cases per target: `STICKYSIM_FUZZ_CASES` (default 48, a few seconds in
//! CI); a longer local run:
//! `STICKYSIM_FUZZ_CASES=20000 cargo test --test it fuzz:: -- --nocapture`
//! (test builds are optimised; `STICKYSIM_FUZZ_SEED=N` for other cases).
//! A failure prints the minimal mutation list that reproduces it.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> u32 {
    std::env::var("STICKYSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// A runner with a fixed seed (the same cases on every run, so a CI
/// failure reproduces) unless `STICKYSIM_FUZZ_SEED` says otherwise.
fn runner() -> TestRunner {
    let seed: u64 = std::env::var("STICKYSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases: cases(),
            failure_persistence: None,
            max_shrink_iters: 2000,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Every file with extension `ext` in `dirs` (relative to the crate), sorted.
fn files_in(dirs: &[&str], ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = fs::read_dir(root().join(d)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == ext) {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Tokens the mutations insert: syntax, extreme numbers, control bytes,
/// markup, and the shapes of the reproducers.
const TOKENS: &[&str] = &[
    "\n", "=", "[", "]", "{", "}", "\"", "'", ",", ".", "..", ":", "#", "\\", "\u{0}", "\u{1b}[2J",
    "\u{7}", "\u{feff}", "\u{202e}", "<script>", "<!--", "## Recommendation", "../", "/",
    "0", "-1", "1e-9", "1e-300", "1e308", "2e16", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551557", "9223372036854775807",
    "-9223372036854775808", "nan", "inf", "-inf", "1979-05-27T07:32:00Z", "\"1h 30m\"",
    "\"0.0000001s\"", "b4294967295", "b4294967294",
    "{ dist = \"geometric\", mean = 2e16 }",
    "{ dist = \"gamma\", mean = 0.05, cv = 1e-200 }",
    "{ dist = \"pareto\", mean = 1, shape = 1.0000001 }",
    "\n[[strategies]]\nname = \"m\"\nkind = \"source_ip\"\nhash = \"maglev\"\ntable_size = 5000011\n",
    "\n[[deploys]]\nevery = 1\nfrom = 0\n",
    "\n[sweep]\nparams = { \"backends.count\" = \"1..10000\" }\n",
    "\n[autoscaling]\nmin = 1\nmax = 10000\n",
];

/// One edit of the input.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip bit `bit` of the byte at `at` (modulo the length).
    Flip { at: usize, bit: u8 },
    /// Insert `TOKENS[token]` at `at`.
    Insert { at: usize, token: usize },
    /// Delete up to `len` bytes from `at`.
    Delete { at: usize, len: usize },
    /// Copy up to `len` bytes from `at` to `to`.
    Duplicate { at: usize, len: usize, to: usize },
    /// Replace the digits of the `n`-th number with `TOKENS[token]`.
    Number { n: usize, token: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1usize..256, any::<usize>())
            .prop_map(|(at, len, to)| Mutation::Duplicate { at, len, to }),
        (0usize..200, 0..TOKENS.len()).prop_map(|(n, token)| Mutation::Number { n, token }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 0..6)
}

fn apply(input: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = input.to_vec();
    for m in muts {
        let n = b.len().max(1);
        match *m {
            Mutation::Flip { at, bit } => {
                if !b.is_empty() {
                    b[at % n] ^= 1 << bit;
                }
            }
            Mutation::Insert { at, token } => {
                let at = at % (b.len() + 1);
                b.splice(at..at, TOKENS[token].bytes());
            }
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Mutation::Duplicate { at, len, to } => {
                if !b.is_empty() {
                    let at = at % b.len();
                    let end = (at + len).min(b.len());
                    let piece = b[at..end].to_vec();
                    let to = to % (b.len() + 1);
                    b.splice(to..to, piece);
                }
            }
            Mutation::Number { n: k, token } => {
                let mut count = 0;
                let mut i = 0;
                while i < b.len() {
                    if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
                        let mut j = i;
                        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                            j += 1;
                        }
                        if count == k {
                            b.splice(i..j, TOKENS[token].bytes());
                            break;
                        }
                        count += 1;
                        i = j;
                    } else {
                        i += 1;
                    }
                }
            }
        }
    }
    b
}

/// Loads a scenario (and its `[sweep]`, planned as `sweep` would) from
/// `text`; an accepted scenario runs its first strategy for one simulated
/// second. Returns whether it was accepted.
fn load_and_run(text: &str, overrides: &[String]) -> bool {
    let Ok((sc, sweep)) =
        stickysim::scenario::from_str_with_sweep(text, "fuzz.toml", "fuzz", overrides)
    else {
        return false;
    };
    if sweep.is_some() {
        let req = stickysim::sweep::SweepRequest {
            scenario: "fuzz.toml".into(),
            set: overrides.to_vec(),
            ..Default::default()
        };
        let _ = stickysim::sweep::plan_text(text, "fuzz.toml", "fuzz", &req);
    }
    let _ = stickysim::scenario::sanity::check(&sc);
    // One simulated second (bounded by the events limit), when the
    // scenario still validates that short.
    let mut short = overrides.to_vec();
    short.extend([
        "simulation.duration=1".to_string(),
        "simulation.warmup=0".to_string(),
    ]);
    if let Ok(sc1) = stickysim::scenario::from_str(text, "fuzz.toml", "fuzz", &short) {
        if !sc1.strategies.is_empty() {
            let _ = stickysim::engine::run_strategy(&sc1, 0);
        }
    }
    true
}

#[test]
fn fuzz_scenario_loader_never_panics_or_hangs() {
    let seeds = files_in(
        &[
            "scenarios",
            "tests/data",
            "tests/data/bad",
            "tests/data/limits",
        ],
        "toml",
    );
    assert!(seeds.len() >= 30, "the corpus is there: {}", seeds.len());
    let accepted = std::cell::Cell::new(0u32);
    runner()
        .run(&(0..seeds.len(), mutations()), |(i, muts)| {
            let bytes = apply(&seeds[i].1, &muts);
            let text = String::from_utf8_lossy(&bytes);
            if load_and_run(&text, &[]) {
                accepted.set(accepted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "fuzz scenario: {} cases, {} accepted",
        cases(),
        accepted.get()
    );
}

#[test]
fn fuzz_set_overrides_never_panic_or_hang() {
    let tiny = fs::read_to_string(root().join("tests/data/tiny.toml")).unwrap();
    let lines: Vec<Vec<u8>> =
        fs::read_to_string(root().join("tests/fuzz/corpus/set/reproducers.txt"))
            .unwrap()
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
    runner()
        .run(
            &(proptest::collection::vec((0..lines.len(), mutations()), 1..3)),
            |sets| {
                let overrides: Vec<String> = sets
                    .iter()
                    .map(|(i, muts)| String::from_utf8_lossy(&apply(&lines[*i], muts)).into_owned())
                    .collect();
                for o in &overrides {
                    let _ = stickysim::scenario::parse_override(o);
                }
                load_and_run(&tiny, &overrides);
                Ok(())
            },
        )
        .unwrap();
}

/// The data files of each run directory of `tests/fuzz/corpus/report/`.
fn report_seeds() -> Vec<Vec<(String, Vec<u8>)>> {
    let dir = root().join("tests/fuzz/corpus/report");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(d)
                .unwrap()
                .map(|e| {
                    let p = e.unwrap().path();
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        fs::read(&p).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        })
        .collect()
}

#[test]
fn fuzz_report_readers_never_panic_or_allocate_by_the_input() {
    let seeds = report_seeds();
    assert!(seeds.len() >= 4);
    // The unmutated base run is accepted; the F03 and F09 reproducers are
    // refused.
    let base = &seeds[seeds.iter().position(|s| s.len() == 5).unwrap()];
    assert!(stickysim::report::data::RunData::from_files(base).is_ok());
    let accepted = std::cell::Cell::new(0u32);
    runner()
        .run(
            &(0..seeds.len(), 0usize..5, mutations(), any::<u8>()),
            |(i, f, muts, chart)| {
                let mut files = seeds[i].clone();
                let f = f % files.len();
                files[f].1 = apply(&files[f].1, &muts);
                if let Ok(data) = stickysim::report::data::RunData::from_files(&files) {
                    accepted.set(accepted.get() + 1);
                    let md = stickysim::report::markdown::report_md(&data, &[]);
                    prop_assert!(md.starts_with('#'));
                    // Charts are slower: one case in 16.
                    if chart % 16 == 0 {
                        let _ = stickysim::report::charts::render_run_charts(&data);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    eprintln!(
        "fuzz report: {} cases, {} accepted",
        cases(),
        accepted.get()
    );
}

static LOG_DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

#[test]
fn fuzz_sweep_log_reader_never_panics_or_trusts_names() {
    let seeds = files_in(&["tests/fuzz/corpus/log"], "jsonl");
    assert!(seeds.len() >= 5);
    let dir = LOG_DIR
        .get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_path_buf();
    let path = dir.join("runs.jsonl");
    runner()
        .run(&(0..seeds.len(), mutations()), |(i, muts)| {
            fs::write(&path, apply(&seeds[i].1, &muts)).unwrap();
            if let Ok(log) = stickysim::sweep::log::read(&path) {
                // What merge does with a log: every name is a safe file
                // name and the grid is small enough to enumerate.
                for s in &log.meta.strategies {
                    prop_assert!(stickysim::scenario::is_valid_name(s), "{s:?}");
                }
                prop_assert!(log.meta.points() <= stickysim::sweep::MAX_POINTS);
                let runs = log.meta.runs();
                prop_assert!(runs.len() <= stickysim::sweep::MAX_RUNS);
                for r in &log.records {
                    prop_assert!(log.meta.strategies.contains(&r.strategy));
                }
                if let Some(&id) = runs.first() {
                    let _ = log.meta.key(id);
                }
            }
            Ok(())
        })
        .unwrap();
}
