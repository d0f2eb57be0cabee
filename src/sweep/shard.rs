//! `--shard K/N` and the shard a batch system asks for through the environment.

use super::*;

/// One shard of a sweep, 1-based: `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard's number, from 1.
    pub index: u32,
    /// Shards in all.
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `K/N` (1 <= K <= N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected K/N with 1 <= K <= N (e.g. `2/8`), found `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n) = (
            k.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a shard was found in the environment, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFromEnv {
    /// The shard.
    pub shard: Shard,
    /// The batch system and the variables it was read from, for messages.
    pub source: &'static str,
}

/// The shard a batch system asks for, if any: a Slurm job array
/// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`,
/// `SLURM_ARRAY_TASK_STEP`) or a Kubernetes Indexed Job
/// (`JOB_COMPLETION_INDEX`, 0-based, with `STICKYSIM_SHARD_COUNT`).
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<ShardFromEnv>, SweepError> {
    let num = |name: &str| -> Result<Option<i64>, SweepError> {
        match get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                SweepError::flag(
                    format!("environment variable {name}"),
                    format!("expected an integer, found `{v}`"),
                )
            }),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let source = "Slurm job array: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT";
        let Some(count) = num("SLURM_ARRAY_TASK_COUNT")? else {
            return Err(SweepError::flag(
                "environment variable SLURM_ARRAY_TASK_ID",
                "is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard K/N explicitly",
            ));
        };
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = match num("SLURM_ARRAY_TASK_STEP")? {
            None => 1,
            Some(s) if s >= 1 => s,
            Some(s) => {
                return Err(SweepError::flag(
                    "environment variable SLURM_ARRAY_TASK_STEP",
                    format!("expected a step of at least 1, found {s}"),
                ))
            }
        };
        // Checked: the variables are anyone's integers.
        let offset = id.checked_sub(min).unwrap_or(-1);
        let k = offset / step + 1;
        if offset < 0 || offset % step != 0 || k < 1 || k > count || count > u32::MAX as i64 {
            return Err(SweepError::flag(
                "environment variable SLURM_ARRAY_TASK_ID",
                format!(
                    "task {id} of an array with min {min}, step {step} and {count} tasks \
                     does not give a shard from 1 to {count}; pass --shard K/N explicitly"
                ),
            ));
        }
        return Ok(Some(ShardFromEnv {
            shard: Shard {
                index: k as u32,
                count: count as u32,
            },
            source,
        }));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let source = "Kubernetes Indexed Job: JOB_COMPLETION_INDEX, STICKYSIM_SHARD_COUNT";
        let Some(count) = num("STICKYSIM_SHARD_COUNT")? else {
            return Err(SweepError::flag(
                "environment variable JOB_COMPLETION_INDEX",
                "is set but STICKYSIM_SHARD_COUNT is not; set it to the Job's `completions` \
                 (see docs/distributed.md) or pass --shard K/N",
            ));
        };
        if index < 0 || count < 1 || index >= count || count > u32::MAX as i64 {
            return Err(SweepError::flag(
                "environment variable JOB_COMPLETION_INDEX",
                format!(
                    "index {index} with STICKYSIM_SHARD_COUNT={count}: expected 0 <= index < count"
                ),
            ));
        }
        return Ok(Some(ShardFromEnv {
            shard: Shard {
                index: index as u32 + 1,
                count: count as u32,
            },
            source,
        }));
    }
    Ok(None)
}
