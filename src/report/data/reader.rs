//! Reading one CSV file of a run: its header and records, and each cell
//! parsed with an [`InputError`] naming the file, line and column.

use super::{err, InputError};
use crate::report::RunMeta;
use crate::routing::StrategyKind;

/// A CSV file's header and records, with each record's line number.
pub(super) struct Csv<'a> {
    pub(super) file: &'a str,
    pub(super) header: Vec<String>,
    pub(super) records: Vec<(u64, csv::StringRecord)>,
    /// The file does not end with a newline: its last line was cut off
    /// (every file stickysim writes ends with one).
    cut: bool,
}

impl<'a> Csv<'a> {
    pub(super) fn parse(file: &'a str, bytes: &[u8]) -> Result<Self, InputError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        let csv_err = |e: csv::Error| {
            let line = e.position().map(|p| p.line());
            let mut ie = err(
                file,
                "well-formed CSV with one field per header column",
                e.to_string(),
            );
            ie.line = line;
            ie
        };
        let header: Vec<String> = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(String::from)
            .collect();
        if header.iter().all(|h| h.is_empty()) {
            let mut e = err(file, "a header line", "an empty file");
            e.line = Some(1);
            return Err(e);
        }
        let mut records = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(csv_err)?;
            let line = rec.position().map_or(0, |p| p.line());
            records.push((line, rec));
        }
        Ok(Csv {
            file,
            header,
            records,
            cut: !bytes.is_empty() && !bytes.ends_with(b"\n"),
        })
    }

    pub(super) fn col(&self, name: &str) -> Result<usize, InputError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            let mut e = err(
                self.file,
                format!("a column named `{name}` in the header"),
                format!("`{}`", self.header.join(",")),
            );
            e.line = Some(1);
            e
        })
    }

    pub(super) fn cell_err(
        &self,
        line: u64,
        col: usize,
        expected: &str,
        found: &str,
    ) -> InputError {
        InputError {
            file: self.file.to_string(),
            line: Some(line),
            column: Some(col as u64 + 1),
            column_name: Some(self.header[col].clone()),
            expected: expected.to_string(),
            found: format!("`{}`", crate::text::cut(&crate::text::terminal(found))),
        }
    }

    pub(super) fn f64_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
    ) -> Result<f64, InputError> {
        let s = rec.get(col).unwrap_or("");
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.cell_err(line, col, "a finite number", s)),
        }
    }

    pub(super) fn kind_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
    ) -> Result<StrategyKind, InputError> {
        let s = rec.get(col).unwrap_or("");
        StrategyKind::from_name(s).ok_or_else(|| {
            let names = StrategyKind::names().map(|n| format!("`{n}`")).join(", ");
            self.cell_err(line, col, &format!("a strategy kind ({names})"), s)
        })
    }

    pub(super) fn bool_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
    ) -> Result<bool, InputError> {
        match rec.get(col).unwrap_or("") {
            "1" => Ok(true),
            "0" => Ok(false),
            s => Err(self.cell_err(line, col, "0 or 1", s)),
        }
    }

    /// The positions of the identity columns (`scenario`, `seed`,
    /// `scenario_hash`): `None` when the file has none of them (an older
    /// run's file, accepted unchecked), an error when it has only some.
    pub(super) fn identity_cols(&self) -> Result<Option<[usize; 3]>, InputError> {
        let found =
            crate::report::IDENTITY_COLUMNS.map(|n| self.header.iter().position(|h| h == n));
        match found {
            [Some(a), Some(b), Some(c)] => Ok(Some([a, b, c])),
            [None, None, None] => Ok(None),
            _ => {
                let mut e = err(
                    self.file,
                    "all of the run's identity columns `scenario`, `seed`, `scenario_hash` \
                     or none of them (a file from before they were recorded)",
                    format!("`{}`", self.header.join(",")),
                );
                e.line = Some(1);
                Err(e)
            }
        }
    }

    /// Checks a row's identity cells against `summary.json`'s: a mismatch
    /// means the file was written by another run.
    pub(super) fn check_identity(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        cols: Option<[usize; 3]>,
        meta: &RunMeta,
    ) -> Result<(), InputError> {
        let Some([cn, cs, ch]) = cols else {
            return Ok(());
        };
        // A last line cut off mid-cell is not another run's.
        let last = self.records.last().map(|(l, _)| *l);
        const CUT: &str =
            "the file ends in the middle of this line (cut off while being written or copied?)";
        let other_run = if self.cut && last == Some(line) {
            CUT
        } else {
            "this file comes from another run"
        };
        let mismatch = |col: usize, expected: String, found: String| InputError {
            file: self.file.to_string(),
            line: Some(line),
            column: Some(col as u64 + 1),
            column_name: Some(self.header[col].clone()),
            expected,
            found,
        };
        let name = rec.get(cn).unwrap_or("");
        if name != meta.scenario {
            return Err(mismatch(
                cn,
                format!("`{}` (the run's scenario in summary.json)", meta.scenario),
                format!("`{name}`: {other_run}"),
            ));
        }
        let seed = rec.get(cs).unwrap_or("");
        match seed.parse::<u64>() {
            Ok(v) if v == meta.seed => {}
            Ok(v) => {
                return Err(mismatch(
                    cs,
                    format!("{} (the run's seed in summary.json)", meta.seed),
                    format!("{v}: {other_run}"),
                ))
            }
            Err(_) => {
                return Err(mismatch(
                    cs,
                    format!("{} (the run's seed in summary.json)", meta.seed),
                    format!("`{seed}`"),
                ))
            }
        }
        let hash = rec.get(ch).unwrap_or("");
        if hash != meta.scenario_hash {
            return Err(mismatch(
                ch,
                format!(
                    "{} (the run's scenario_hash in summary.json)",
                    meta.scenario_hash
                ),
                format!("`{hash}`: {other_run}"),
            ));
        }
        Ok(())
    }

    pub(super) fn strategy_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
        strategies: &[String],
    ) -> Result<usize, InputError> {
        let s = rec.get(col).unwrap_or("");
        strategies.iter().position(|n| n == s).ok_or_else(|| {
            self.cell_err(
                line,
                col,
                &format!("a strategy of summary.csv ({})", strategies.join(", ")),
                s,
            )
        })
    }
}
