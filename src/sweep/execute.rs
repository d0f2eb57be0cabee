//! Running a plan's runs in parallel, logging each as it finishes, and
//! writing the outputs.

use super::*;
use crate::outdir::OutDir;

/// Runs one run of the plan.
pub fn run_one(plan: &Plan, id: RunId) -> RunRecord {
    let mut sc = plan.points[id.point].clone();
    let seed = replication_seed(plan.meta.seed, id.replication);
    sc.simulation.seed = seed;
    let mut out = run_strategy(&sc, plan.strategy_index[id.strategy]);
    // A sweep's log does not carry the latency curve (a run's
    // `latency_percentiles.csv` does): the record must read back equal.
    out.summary.latency_curve_ms = Vec::new();
    RunRecord {
        key: plan.meta.key(id),
        point: id.point,
        params: plan.meta.point_values(id.point),
        strategy: plan.meta.strategies[id.strategy].clone(),
        replication: id.replication,
        seed,
        summary: out.summary,
        shared: false,
    }
}

/// How to execute a plan.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The output directory (results log, CSV, charts, report).
    pub out: PathBuf,
    /// Threads; `None` = rayon's default (one per core).
    pub jobs: Option<usize>,
    /// Continue from `out/runs.jsonl` instead of refusing to overwrite it.
    pub resume: bool,
    /// The part of the sweep this process runs.
    pub shard: Shard,
    /// Test hook: start at most this many new runs, then stop as if killed
    /// (the log is kept; no outputs are written).
    pub stop_after: Option<usize>,
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Runs in this shard.
    pub runs: usize,
    /// Runs found finished in the log and not run again.
    pub reused: usize,
    /// Runs computed now.
    pub ran: usize,
    /// Files written (empty when stopped early).
    pub written: Vec<PathBuf>,
    /// Stopped by `stop_after` before finishing.
    pub stopped: bool,
    /// For a whole finished sweep, the report's recommendation (Markdown).
    pub recommendation: Option<String>,
    /// The log, resumed, ended in a line cut off by an interruption; it
    /// was dropped (its run was done again).
    pub torn: bool,
}

/// Runs the plan's runs of `opts.shard` that `out/runs.jsonl` does not
/// already hold, appending each to the log as it finishes, then writes the
/// outputs (for a shard of several, only the sorted log: `merge` renders).
/// `tick` is called after each run (for a progress bar).
pub fn execute(
    plan: &Plan,
    opts: &ExecOptions,
    tick: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, SweepError> {
    let meta = plan.meta.with_shard(opts.shard);
    let mine = meta.runs_of(opts.shard);
    let keys: HashMap<String, RunId> = mine.iter().map(|&id| (meta.key(id), id)).collect();
    // Held until the outputs are written: a second sweep into the same
    // directory fails at once rather than interleaving its log with ours.
    let mut dir = OutDir::lock(&opts.out).map_err(|e| SweepError::io(&opts.out, e))?;
    let log_path = opts.out.join(log::LOG_FILE);

    let mut done: Vec<(RunId, RunRecord)> = Vec::new();
    let mut torn = false;
    let there = std::fs::symlink_metadata(&log_path).ok();
    if there.as_ref().is_some_and(|m| !m.is_file()) {
        return Err(SweepError::Log {
            path: log_path,
            message: "is not a plain file (a symbolic link or a directory); stickysim does not \
                      write through links: remove it, or choose another --out"
                .into(),
        });
    }
    if there.is_some() {
        if !opts.resume {
            return Err(SweepError::Log {
                path: log_path,
                message: "a sweep's results log is already there; pass --resume to continue \
                          it, or choose another --out"
                    .into(),
            });
        }
        let read = log::read(&log_path)?;
        let mut seen = std::collections::HashSet::new();
        if !meta.same_sweep(&read.meta) {
            let what = meta.differences(&read.meta);
            let what = if what.is_empty() {
                format!("shard {} vs {}", read.meta.shard, meta.shard)
            } else {
                what.join("; ")
            };
            return Err(SweepError::Log {
                path: log_path,
                message: format!(
                    "belongs to another sweep ({what}); --resume continues only the same \
                     sweep: same scenario, --set, grid, replications, seed, strategies and shard"
                ),
            });
        }
        for rec in read.records {
            let Some(&id) = keys.get(&rec.key) else {
                return Err(SweepError::Log {
                    path: log_path,
                    message: format!("holds run `{}`, which is not part of this sweep", rec.key),
                });
            };
            if seen.insert(id) {
                done.push((id, rec));
            }
        }
        torn = read.torn;
        log::truncate_to(&log_path, read.valid_len)?;
    } else {
        log::create(&log_path, &meta)?;
    }

    let finished: std::collections::HashSet<RunId> = done.iter().map(|(id, _)| *id).collect();
    let pending: Vec<RunId> = mine
        .iter()
        .copied()
        .filter(|id| !finished.contains(id))
        .collect();
    let reused = done.len();
    let writer = Mutex::new(log::Appender::open(&log_path)?);
    let started = AtomicUsize::new(0);
    let completed = AtomicUsize::new(reused);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    let total = mine.len();
    tick(reused, total);

    let work = || -> Vec<(RunId, RunRecord)> {
        pending
            .par_iter()
            .with_max_len(1)
            .filter_map(|&id| {
                if let Some(limit) = opts.stop_after {
                    if started.fetch_add(1, Ordering::SeqCst) >= limit {
                        return None;
                    }
                }
                if failure.lock().expect("no panics while held").is_some() {
                    return None;
                }
                let rec = run_one(plan, id);
                let appended = writer.lock().expect("no panics while held").append(&rec);
                if let Err(e) = appended {
                    failure
                        .lock()
                        .expect("no panics while held")
                        .get_or_insert(e);
                    return None;
                }
                tick(completed.fetch_add(1, Ordering::SeqCst) + 1, total);
                Some((id, rec))
            })
            .collect()
    };
    let new = match opts.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| SweepError::flag("--jobs", e.to_string()))?
            .install(work),
        None => work(),
    };
    let synced = writer.into_inner().expect("no panics while held").finish();
    if let Some(e) = failure.into_inner().expect("no panics while held") {
        return Err(e);
    }
    synced?;
    let ran = new.len();
    done.extend(new);
    if done.len() < total {
        return Ok(Outcome {
            runs: total,
            reused,
            ran,
            written: Vec::new(),
            stopped: true,
            recommendation: None,
            torn,
        });
    }
    done.sort_by_key(|(id, _)| *id);
    let records: Vec<RunRecord> = done.into_iter().map(|(_, r)| r).collect();
    let (written, recommendation) = write_outputs(&mut dir, &opts.out, &meta, &records)?;
    Ok(Outcome {
        runs: total,
        reused,
        ran,
        written,
        stopped: false,
        recommendation,
        torn,
    })
}

/// Writes a finished sweep (or shard) into the locked `out` as one result
/// set, all or nothing (see [`crate::outdir`]): the log rewritten in
/// canonical order, and for a whole sweep every output. `dir` is the
/// directory as the user named it. Returns the files written and, for a
/// whole sweep, the report's recommendation.
pub fn write_outputs(
    out: &mut OutDir,
    dir: &Path,
    meta: &SweepMeta,
    records: &[RunRecord],
) -> Result<(Vec<PathBuf>, Option<String>), SweepError> {
    let mut files: Vec<(String, Vec<u8>)> =
        vec![(log::LOG_FILE.into(), log::render(meta, records))];
    let mut recommendation = None;
    if meta.shard.count == 1 {
        let cells = meta.expand_shared(records);
        recommendation = Some(report::recommendation(meta, &cells));
        files.extend(output::render_all(meta, &cells));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    // The log is in the set: `runs.jsonl` is never missing, at any moment.
    out.publish(&refs, &|_| false)
        .map_err(|e| SweepError::io(dir, e))?;
    Ok((
        files.iter().map(|(n, _)| dir.join(n)).collect(),
        recommendation,
    ))
}
