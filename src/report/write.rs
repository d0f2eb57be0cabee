//! Writing a run's files and its report into a directory, all or nothing.

use super::{
    charts, data, data_files, data_files_replicated, markdown, single, NamedFile, ReportError,
    RunMeta, StrategyResult,
};
use crate::metrics::RunSummary;
use crate::outdir::OutDir;
#[cfg(test)]
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Writes `files` (name, contents) into `dir` as one result set, all or
/// nothing, keeping the entries of `dir` they do not replace (see
/// [`crate::outdir`]: the directory is locked, the set written beside it
/// and swapped in whole). Contents are text or bytes (`String`, `Vec<u8>`,
/// `&[u8]`).
pub fn write_all_or_nothing<C: AsRef<[u8]>>(dir: &Path, files: &[(&str, C)]) -> io::Result<()> {
    OutDir::lock(dir)?.publish(files, &|_| false)
}

/// Whether `name` is one of the files a run's result set may hold: those a
/// new set does not have are dropped with the previous set (a
/// `replications.csv` or a chart of an earlier run would contradict it).
pub fn is_run_file(name: &str) -> bool {
    RUN_DATA_FILES.contains(&name)
        || name == "report.md"
        || name == "report.html"
        || charts::RUN_CHARTS.iter().any(|(n, _, _)| *n == name)
}

/// The data files a run may write (see [`data_files_replicated`]).
const RUN_DATA_FILES: &[&str] = super::data::INPUT_FILES;

/// Renders and writes a run's data files into `dir` (no charts, no
/// report); returns the paths written.
pub fn write_run(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
) -> io::Result<Vec<PathBuf>> {
    let files = data_files(meta, results);
    OutDir::lock(dir)?.publish(&files, &is_run_file)?;
    Ok(files.iter().map(|(n, _)| dir.join(n)).collect())
}

/// The report's files drawn from `data`: `report.md`, `report.html`, then
/// the charts (unless `!charts`), each `(file name, contents)`. Also
/// returns how long drawing the charts took.
pub fn report_files(
    data: &data::RunData,
    charts: bool,
) -> Result<(Vec<NamedFile>, std::time::Duration), ReportError> {
    let t0 = std::time::Instant::now();
    let drawn = if charts {
        charts::render_run_charts(data)?
    } else {
        Vec::new()
    };
    let took = t0.elapsed();
    let shown: Vec<(&str, &str)> = charts::run_chart_names(data)
        .into_iter()
        .filter(|(n, _)| drawn.iter().any(|(p, _)| p == n))
        .collect();
    let md = markdown::report_md(data, &shown);
    let html = run_html(data, &md, &drawn);
    let mut files = vec![
        ("report.md".to_string(), md.into_bytes()),
        ("report.html".to_string(), html.into_bytes()),
    ];
    files.extend(drawn.into_iter().map(|(n, d)| (n.to_string(), d.png)));
    Ok((files, took))
}

/// `report.html` of a run: `report.md` with its charts inlined, the
/// trade-off under the verdict, and the whole of `summary.csv`.
fn run_html(data: &data::RunData, md: &str, drawn: &[(&str, charts::Drawn)]) -> String {
    let refs: Vec<(&str, &charts::Drawn)> = drawn.iter().map(|(n, d)| (*n, d)).collect();
    let sm = &data.summary;
    super::html::render(&super::html::Page {
        title: &format!("Stickiness report: {}", data.meta.scenario),
        markdown: md,
        charts: &refs,
        lead_chart: Some("tradeoff.png"),
        lead_after: "**Answer:**",
        tables: vec![super::html::Table {
            id: "summary-csv".into(),
            heading: "summary.csv".into(),
            note: "The whole of summary.csv, every column as written (click a heading to sort)."
                .into(),
            header: sm.header.clone(),
            rows: sm.rows.clone(),
        }],
    })
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
/// The files of an earlier run that this one does not have (a
/// `replications.csv`, a chart) go with the earlier run; files stickysim
/// did not write are kept.
pub fn write_run_report_replicated(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
    reps: &[Vec<RunSummary>],
    charts: bool,
) -> Result<Written, ReportError> {
    let mut out = OutDir::lock(dir).map_err(|source| io_error(dir, source))?;
    write_run_report_into(&mut out, dir, meta, results, reps, charts)
}

/// [`write_run_report_replicated`] into a directory the caller has locked
/// (`shown` is the directory as the user named it, for the paths returned).
pub fn write_run_report_into(
    out: &mut OutDir,
    shown: &Path,
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
    write_files(out, shown, &files, chart_time, &is_run_file)
}

/// Redraws the charts (unless `!charts`) and `report.md` of the run in
/// `dir` from its files, without touching them (the data files are carried
/// into the new set as they are).
pub fn write_report(dir: &Path, charts: bool) -> Result<Written, ReportError> {
    if !dir.is_dir() {
        // Say what is missing rather than create an empty directory.
        data::RunData::read_dir(dir)?;
    }
    let mut out = OutDir::lock(dir).map_err(|source| io_error(dir, source))?;
    let data = data::RunData::read_dir(dir)?;
    let (files, chart_time) = report_files(&data, charts)?;
    // Charts of an earlier report that this one does not have would
    // contradict it: they go with the earlier set.
    let stale = |n: &str| charts::RUN_CHARTS.iter().any(|(c, _, _)| *c == n);
    write_files(&mut out, dir, &files, chart_time, &stale)
}

fn io_error(dir: &Path, source: io::Error) -> ReportError {
    ReportError::Io {
        dir: dir.display().to_string(),
        source,
    }
}

fn write_files(
    out: &mut OutDir,
    dir: &Path,
    files: &[(String, Vec<u8>)],
    chart_time: std::time::Duration,
    stale: &dyn Fn(&str) -> bool,
) -> Result<Written, ReportError> {
    let named: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), &c[..])).collect();
    out.publish(&named, stale)
        .map_err(|source| io_error(dir, source))?;
    Ok(Written {
        paths: files.iter().map(|(n, _)| dir.join(n)).collect(),
        chart_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_leaves_the_previous_run_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let old: [(&str, String); 3] = [
            ("a.csv", "old a".into()),
            ("b.csv", "old b".into()),
            ("c.csv", "old c".into()),
        ];
        write_all_or_nothing(&dir, &old).unwrap();
        // A FIFO in the directory cannot be carried into the new set, so
        // the write fails after the new files were written.
        let fifo = std::ffi::CString::new(dir.join("pipe").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let r = write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("b.csv", "new b".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        );
        let e = r.unwrap_err().to_string();
        assert!(e.contains("pipe") && e.contains("move it elsewhere"), "{e}");
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
        assert_eq!(fs::read_to_string(dir.join("c.csv")).unwrap(), "old c");
        assert_eq!(
            names(root.path()),
            ["out"],
            "no temporary files left behind"
        );
        fs::remove_file(dir.join("pipe")).unwrap();
        // And a successful write replaces everything it names.
        write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
        assert_eq!(names(&dir), ["a.csv", "b.csv", "c.csv"]);
    }
}
