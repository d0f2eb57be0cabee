//! `stickysim merge`: shard outputs → exactly the unsharded sweep's outputs.
//!
//! Each shard directory holds a results log whose first line describes the
//! sweep (with its fingerprint) and the shard. Merging refuses logs of
//! different sweeps, splits of different sizes, a shard given twice, a
//! missing shard, and a shard that is unfinished or holds runs that are not
//! its own; otherwise it renders the union exactly as an unsharded sweep
//! renders its runs.

use super::log::{self, LOG_FILE};
use super::{write_outputs, RunId, RunRecord, Shard, SweepError, SweepMeta};
use crate::outdir::OutDir;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a merge did.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged sweep's identity (the whole sweep).
    pub meta: SweepMeta,
    /// Runs merged.
    pub runs: usize,
    /// The files written, in writing order.
    pub written: Vec<PathBuf>,
    /// The report's recommendation (Markdown).
    pub recommendation: Option<String>,
}

/// Merges the shard directories `dirs` into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, SweepError> {
    if dirs.is_empty() {
        return Err(SweepError::Merge(
            "no shard directories given; usage: stickysim merge DIR... --out DIR".into(),
        ));
    }
    let out_abs = std::fs::canonicalize(out).ok();
    let mut logs: Vec<(PathBuf, log::ReadLog)> = Vec::new();
    for dir in dirs {
        if out_abs.is_some() && std::fs::canonicalize(dir).ok() == out_abs {
            return Err(SweepError::Merge(format!(
                "--out {} is one of the shard directories; write the merged sweep elsewhere",
                out.display()
            )));
        }
        let path = dir.join(LOG_FILE);
        if !path.is_file() {
            return Err(SweepError::Merge(format!(
                "{}: no {LOG_FILE}; expected the --out directory of a `stickysim sweep --shard K/N`",
                dir.display()
            )));
        }
        let read = log::read(&path)?;
        if read.torn {
            return Err(SweepError::Merge(format!(
                "{}: shard {} was interrupted (its last line is cut off); finish it with \
                 `stickysim sweep … --shard {} --resume` first",
                dir.display(),
                read.meta.shard,
                read.meta.shard
            )));
        }
        logs.push((dir.clone(), read));
    }

    let (first_dir, first) = (&logs[0].0, &logs[0].1.meta);
    for (dir, l) in &logs[1..] {
        if l.meta.fingerprint != first.fingerprint {
            let diff = first.differences(&l.meta);
            return Err(SweepError::Merge(format!(
                "{} and {} hold different sweeps ({}); only shards of one sweep can be merged",
                first_dir.display(),
                dir.display(),
                if diff.is_empty() {
                    format!(
                        "fingerprint {} vs {}",
                        first.fingerprint, l.meta.fingerprint
                    )
                } else {
                    diff.join("; ")
                }
            )));
        }
        if l.meta.shard.count != first.shard.count {
            return Err(SweepError::Merge(format!(
                "{} is shard {} but {} is shard {}: shards of different splits cannot be merged",
                first_dir.display(),
                first.shard,
                dir.display(),
                l.meta.shard
            )));
        }
    }

    let count = first.shard.count;
    let mut by_index: HashMap<u32, &PathBuf> = HashMap::new();
    for (dir, l) in &logs {
        if let Some(other) = by_index.insert(l.meta.shard.index, dir) {
            return Err(SweepError::Merge(format!(
                "shard {} is given twice: {} and {}",
                l.meta.shard,
                other.display(),
                dir.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(format!(
            "missing shard{} {} of {count} (given: {})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            logs.iter()
                .map(|(d, l)| format!("{} from {}", l.meta.shard, d.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }

    let whole = first.with_shard(Shard::ALL);
    let shard_of = whole.shard_of_each(count);
    let order: HashMap<String, (RunId, u32)> = whole
        .runs()
        .into_iter()
        .zip(shard_of)
        .map(|(id, s)| (whole.key(id), (id, s)))
        .collect();
    let mut all: Vec<(RunId, RunRecord)> = Vec::with_capacity(whole.runs_total);
    for (dir, l) in logs {
        let shard = l.meta.shard;
        let expected = order.values().filter(|(_, s)| *s == shard.index).count();
        let mut seen: HashMap<RunId, ()> = HashMap::new();
        for rec in l.records {
            let id = match order.get(&rec.key) {
                Some(&(id, s)) if s == shard.index => id,
                _ => {
                    return Err(SweepError::Merge(format!(
                        "{}: run `{}` does not belong to shard {shard}",
                        dir.display(),
                        rec.key
                    )))
                }
            };
            if seen.insert(id, ()).is_some() {
                return Err(SweepError::Merge(format!(
                    "{}: run `{}` appears twice",
                    dir.display(),
                    rec.key
                )));
            }
            all.push((id, rec));
        }
        if seen.len() != expected {
            return Err(SweepError::Merge(format!(
                "{}: shard {shard} is unfinished: {} of its {expected} runs are done; \
                 finish it with `stickysim sweep … --shard {shard} --resume`",
                dir.display(),
                seen.len()
            )));
        }
    }
    all.sort_by_key(|(id, _)| *id);
    let records: Vec<RunRecord> = all.into_iter().map(|(_, r)| r).collect();
    // Only now, with every shard checked, is --out created and locked.
    let mut locked = OutDir::lock(out).map_err(|e| SweepError::io(out, e))?;
    let existing = out.join(LOG_FILE);
    if existing.is_file() {
        let there = log::read(&existing)?;
        if there.meta.fingerprint != whole.fingerprint {
            return Err(SweepError::Merge(format!(
                "--out {} already holds another sweep ({}); merge into an empty directory",
                out.display(),
                whole.differences(&there.meta).join("; ")
            )));
        }
    }
    let (written, recommendation) = write_outputs(&mut locked, out, &whole, &records)?;
    Ok(Merged {
        runs: records.len(),
        meta: whole,
        written,
        recommendation,
    })
}
