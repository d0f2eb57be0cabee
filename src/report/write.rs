//! Writing a run's files and its report into a directory, all or nothing.

use super::{
    charts, data, data_files, data_files_replicated, markdown, single, NamedFile, ReportError,
    RunMeta, StrategyResult,
};
use crate::metrics::RunSummary;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Writes `files` (name, contents) into `dir`, all or nothing. Each is
/// written to a temporary file first; only when all are written are they
/// renamed into place, each previous version being moved aside first. If
/// any step fails, the new files are removed and the previous ones put
/// back, so the directory holds either the whole new run or the old one.
/// Contents are text or bytes (`String`, `Vec<u8>`, `&[u8]`).
pub fn write_all_or_nothing<C: AsRef<[u8]>>(dir: &Path, files: &[(&str, C)]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let pid = std::process::id();
    let plan: Vec<(PathBuf, PathBuf, PathBuf)> = files
        .iter()
        .map(|(name, _)| {
            (
                dir.join(format!(".{name}.tmp-{pid}")),
                dir.join(name),
                dir.join(format!(".{name}.old-{pid}")),
            )
        })
        .collect();
    // For each file: written to tmp, previous moved to old, tmp moved in.
    let mut written = 0;
    let mut backed_up: Vec<bool> = vec![false; plan.len()];
    let mut placed = 0;
    let result = (|| {
        for ((tmp, _, _), (_, contents)) in plan.iter().zip(files) {
            fs::write(tmp, contents.as_ref())?;
            written += 1;
        }
        for (i, (tmp, dst, old)) in plan.iter().enumerate() {
            if dst.exists() {
                fs::rename(dst, old)?;
                backed_up[i] = true;
            }
            fs::rename(tmp, dst)?;
            placed += 1;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            for (i, (_, _, old)) in plan.iter().enumerate() {
                if backed_up[i] {
                    let _ = fs::remove_file(old);
                }
            }
        }
        Err(_) => {
            for (i, (tmp, dst, old)) in plan.iter().enumerate() {
                if i < placed {
                    let _ = fs::remove_file(dst);
                } else if i < written {
                    let _ = fs::remove_file(tmp);
                }
                if backed_up[i] {
                    let _ = fs::rename(old, dst);
                }
            }
        }
    }
    result
}

/// Renders and writes a run's data files into `dir` (no charts, no
/// report); returns the paths written.
pub fn write_run(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
) -> io::Result<Vec<PathBuf>> {
    let files = data_files(meta, results);
    write_all_or_nothing(dir, &files)?;
    Ok(files.iter().map(|(n, _)| dir.join(n)).collect())
}

/// The report's files drawn from `data`: `report.md`, then the charts
/// (unless `!charts`), each `(file name, contents)`. Also returns how long
/// drawing the charts took.
pub fn report_files(
    data: &data::RunData,
    charts: bool,
) -> Result<(Vec<NamedFile>, std::time::Duration), ReportError> {
    let t0 = std::time::Instant::now();
    let pngs = if charts {
        charts::render_run_charts(data)?
    } else {
        Vec::new()
    };
    let took = t0.elapsed();
    let shown: Vec<(&str, &str)> = charts::run_chart_names(data)
        .into_iter()
        .filter(|(n, _)| pngs.iter().any(|(p, _)| p == n))
        .collect();
    let mut files = vec![(
        "report.md".to_string(),
        markdown::report_md(data, &shown).into_bytes(),
    )];
    files.extend(pngs.into_iter().map(|(n, b)| (n.to_string(), b)));
    Ok((files, took))
}

/// What [`write_run_report`] and [`write_report`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The files written, in writing order.
    pub paths: Vec<PathBuf>,
    /// Time spent drawing and encoding the charts.
    pub chart_time: std::time::Duration,
}

/// Writes a run's data files, its charts (unless `!charts`) and
/// `report.md` into `dir`, all or nothing. The report is drawn from the data
/// files as rendered (read back through [`data::RunData`]), exactly as
/// `stickysim report DIR` would draw it from disk.
pub fn write_run_report(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
    charts: bool,
) -> Result<Written, ReportError> {
    write_run_report_replicated(dir, meta, results, &single(results), charts)
}

/// [`write_run_report`] of a replicated run (see [`data_files_replicated`]).
/// A `replications.csv` left by an earlier run with more replications is
/// removed when this run has one.
pub fn write_run_report_replicated(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
    reps: &[Vec<RunSummary>],
    charts: bool,
) -> Result<Written, ReportError> {
    let mut files: Vec<(String, Vec<u8>)> = data_files_replicated(meta, results, reps)
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.into_bytes()))
        .collect();
    let data = data::RunData::from_files(&files)?;
    let (report, chart_time) = report_files(&data, charts)?;
    files.extend(report);
    let written = write_files(dir, &files, chart_time)?;
    if !files.iter().any(|(n, _)| n == "replications.csv") {
        let _ = fs::remove_file(dir.join("replications.csv"));
    }
    Ok(written)
}

/// Redraws the charts (unless `!charts`) and `report.md` of the run in
/// `dir` from its files, without touching them.
pub fn write_report(dir: &Path, charts: bool) -> Result<Written, ReportError> {
    let data = data::RunData::read_dir(dir)?;
    let (files, chart_time) = report_files(&data, charts)?;
    write_files(dir, &files, chart_time)
}

fn write_files(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    chart_time: std::time::Duration,
) -> Result<Written, ReportError> {
    let named: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), &c[..])).collect();
    write_all_or_nothing(dir, &named).map_err(|source| ReportError::Io {
        dir: dir.display().to_string(),
        source,
    })?;
    // Charts of an earlier report that this one does not have would
    // contradict it: remove them.
    for (name, _, _) in charts::RUN_CHARTS {
        if !files.iter().any(|(n, _)| n == name) {
            let _ = fs::remove_file(dir.join(name));
        }
    }
    Ok(Written {
        paths: files.iter().map(|(n, _)| dir.join(n)).collect(),
        chart_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_run_whole() {
        let dir = std::env::temp_dir().join(format!("stickysim-aon-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let old: [(&str, String); 3] = [
            ("a.csv", "old a".into()),
            ("b.csv", "old b".into()),
            ("c.csv", "old c".into()),
        ];
        write_all_or_nothing(&dir, &old).unwrap();
        // Block the third file's backup path with a non-empty directory, so
        // moving the old c.csv aside fails after a.csv and b.csv were replaced.
        let blocker = dir.join(format!(".c.csv.old-{}", std::process::id()));
        fs::create_dir_all(blocker.join("x")).unwrap();
        let r = write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("b.csv", "new b".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        );
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
        assert_eq!(fs::read_to_string(dir.join("c.csv")).unwrap(), "old c");
        fs::remove_dir_all(&blocker).unwrap();
        let mut left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["a.csv", "b.csv", "c.csv"],
            "no temporary files left behind"
        );
        // And a successful write replaces everything.
        write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
