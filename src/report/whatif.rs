//! Safe what-ifs: what a run records about the command line's changes to
//! its scenario, and the guard that keeps a run from replacing the results
//! of another scenario.
//!
//! A run directory belongs to one scenario hash (the validated scenario
//! after `--set` and `--seed`). [`guard_output_dir`] refuses to write a
//! run of another hash into a directory that already holds one, naming the
//! directory and both fixes: `--out DIR` for a directory of its own, or
//! `--force`, which first moves the previous results aside to
//! `DIR.<their hash>` (never deletes them). A rerun of the same scenario
//! and seed replaces its own, identical, results.

use super::RunMeta;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The part of a previous run's `summary.json` the guard reads.
#[derive(Debug, Deserialize)]
struct Previous {
    scenario: String,
    seed: u64,
    scenario_hash: String,
    #[serde(default)]
    overrides: Vec<String>,
}

/// What [`guard_output_dir`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Nothing of another scenario was there: write.
    Clear,
    /// `--force`: the previous results of another scenario were moved to
    /// this directory.
    MovedAside(PathBuf),
}

/// Checks that `dir` may receive a run whose scenario hash is `hash`.
///
/// Clear when `dir` has no `summary.json` or one of the same hash. When it
/// holds another hash's results (or a `summary.json` that cannot be read):
/// an error naming the directory, both runs and the fixes, or with `force`
/// the directory is renamed to `DIR.<previous hash>` (`.2`, `.3`, … appended
/// when that exists) and the run writes a fresh `dir`.
pub fn guard_output_dir(dir: &Path, hash: &str, force: bool) -> anyhow::Result<Guard> {
    let path = dir.join("summary.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Guard::Clear),
        Err(e) => anyhow::bail!("{}: cannot be read: {e}", path.display()),
    };
    let previous: Option<Previous> = serde_json::from_str(&text).ok();
    let (what, their_hash) = match &previous {
        Some(p) if p.scenario_hash == hash => return Ok(Guard::Clear),
        Some(p) => (
            format!(
                "results of scenario `{}`, seed {}, hash {}{}",
                p.scenario,
                p.seed,
                p.scenario_hash,
                if p.overrides.is_empty() {
                    String::new()
                } else {
                    format!(", overrides {}", p.overrides.join(" "))
                }
            ),
            p.scenario_hash.clone(),
        ),
        None => (
            "a summary.json stickysim cannot read".to_string(),
            "unknown".to_string(),
        ),
    };
    if !force {
        anyhow::bail!(
            "{} already holds {what}; this run's scenario hash is {hash}, so its results \
             would replace them. Write this run elsewhere with --out DIR, or pass --force \
             to move the previous results aside to {} first",
            dir.display(),
            aside_name(dir, &their_hash).display()
        );
    }
    let aside = aside_name(dir, &their_hash);
    std::fs::rename(dir, &aside).map_err(|e| {
        anyhow::anyhow!(
            "--force: moving the previous results {} aside to {}: {e}",
            dir.display(),
            aside.display()
        )
    })?;
    Ok(Guard::MovedAside(aside))
}

/// `DIR.<hash>`, or the first of `DIR.<hash>.2`, `.3`, … that does not exist.
fn aside_name(dir: &Path, hash: &str) -> PathBuf {
    let base = format!("{}.{hash}", dir.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

/// The Markdown lines `report.md` shows at its top for a run made with
/// `--set`/`--seed` changes (`None` without any): each override, as typed.
pub fn overrides_markdown(meta: &RunMeta) -> Option<String> {
    if meta.overrides.is_empty() {
        return None;
    }
    let list: Vec<String> = meta
        .overrides
        .iter()
        .map(|o| crate::text::code(o))
        .collect();
    Some(format!(
        "**What-if:** this run changes the scenario file with {} (scenario hash {}).\n",
        list.join(", "),
        meta.scenario_hash
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(overrides: &[&str]) -> RunMeta {
        RunMeta {
            scenario: "s".into(),
            seed: 1,
            scenario_hash: "abc".into(),
            stickysim_version: "0".into(),
            bucket_s: 60.0,
            workers: 1,
            scenario_facts: None,
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
            replications: 1,
            decision: None,
            warnings: Vec::new(),
            backend_names: Vec::new(),
        }
    }

    #[test]
    fn the_overrides_line_lists_each_override() {
        assert_eq!(overrides_markdown(&meta(&[])), None);
        let line =
            overrides_markdown(&meta(&["workload.session_rate=60", "simulation.seed=7"])).unwrap();
        assert!(
            line.contains("`workload.session_rate=60`, `simulation.seed=7`"),
            "{line}"
        );
    }
}
