//! A [`Comparison`] as text (stdout), Markdown (`compare.md`) and JSON.

use super::*;

/// Decimals for numbers of the size of `x`.
fn decimals(x: f64) -> usize {
    let a = x.abs();
    if a >= 100.0 {
        1
    } else if a >= 1.0 {
        3
    } else {
        4
    }
}

fn pm(mean: f64, hw: Option<f64>, d: usize) -> String {
    match hw {
        Some(h) => format!("{mean:.d$} ± {h:.d$}"),
        None => format!("{mean:.d$}"),
    }
}

impl ColumnChange {
    fn digits(&self) -> usize {
        decimals(self.a.abs().max(self.b.abs()))
    }

    /// A's value as shown (`mean ± hw`).
    pub fn a_text(&self) -> String {
        pm(self.a, self.a_hw, self.digits())
    }

    /// B's value as shown.
    pub fn b_text(&self) -> String {
        pm(self.b, self.b_hw, self.digits())
    }

    /// `B − A` as shown, signed, with its interval and relative change.
    pub fn diff_text(&self) -> String {
        let d = self.digits();
        let mut s = match self.diff_hw {
            Some(h) => format!("{:+.d$} ± {h:.d$}", self.diff),
            None => format!("{:+.d$}", self.diff),
        };
        if let Some(r) = self.rel_pct.filter(|_| self.diff != 0.0) {
            let _ = write!(s, " ({r:+.1} %)");
        }
        s
    }
}

/// Text made safe for a Markdown table cell or line.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn side_line(s: &Side) -> String {
    format!(
        "{} (scenario {}, hash {}, seed {}, {} replication{}{})",
        s.dir,
        s.scenario,
        s.scenario_hash,
        s.seed,
        s.replications,
        if s.replications == 1 { "" } else { "s" },
        if s.overrides.is_empty() {
            String::new()
        } else {
            format!(", --set {}", s.overrides.join(" "))
        }
    )
}

impl Comparison {
    /// Whether B is worse on a `--fail-if-worse` column for any strategy.
    pub fn failed(&self) -> bool {
        !self.worse.is_empty()
    }

    fn gate_sentence(&self) -> Option<String> {
        if self.fail_if_worse.is_empty() {
            return None;
        }
        let cols = self.fail_if_worse.join(", ");
        Some(if self.worse.is_empty() {
            format!("--fail-if-worse {cols}: pass (B is not worse on any strategy)")
        } else {
            let w: Vec<String> = self
                .worse
                .iter()
                .map(|w| format!("{} on {}", w.strategy, w.column))
                .collect();
            format!(
                "--fail-if-worse {cols}: FAIL (B is worse: {})",
                w.join("; ")
            )
        })
    }

    /// The comparison as plain text, for stdout.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "A: {}", side_line(&self.a));
        let _ = writeln!(o, "B: {}", side_line(&self.b));
        if self.inputs.is_empty() {
            let _ = writeln!(
                o,
                "inputs: the same scenario, overrides, seed and replications"
            );
        } else {
            let _ = writeln!(o, "inputs that differ (A → B):");
            for d in &self.inputs {
                let _ = writeln!(o, "  {}: {} → {}", d.what, d.a, d.b);
            }
        }
        let _ = writeln!(o, "intervals: {}", self.method_reason);
        for s in &self.strategies {
            o.push('\n');
            if s.columns.is_empty() {
                let _ = writeln!(o, "{}: no column differs", s.strategy);
                continue;
            }
            let _ = writeln!(o, "{}:", s.strategy);
            let mut rows = vec![[
                "column".to_string(),
                "A".to_string(),
                "B".to_string(),
                "B − A".to_string(),
                String::new(),
            ]];
            for c in &s.columns {
                rows.push([
                    c.column.to_string(),
                    c.a_text(),
                    c.b_text(),
                    c.diff_text(),
                    c.judgement.name().to_string(),
                ]);
            }
            let w: Vec<usize> = (0..5)
                .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                .collect();
            for r in rows {
                let pad = |i: usize| " ".repeat(w[i] - r[i].chars().count());
                let line = format!(
                    "  {}{}  {}{}  {}{}  {}{}  {}",
                    r[0],
                    pad(0),
                    pad(1),
                    r[1],
                    pad(2),
                    r[2],
                    pad(3),
                    r[3],
                    r[4]
                );
                let _ = writeln!(o, "{}", line.trim_end());
            }
        }
        if !self.only_in_a.is_empty() || !self.only_in_b.is_empty() {
            o.push('\n');
        }
        if !self.only_in_a.is_empty() {
            let _ = writeln!(o, "only in A: {}", self.only_in_a.join(", "));
        }
        if !self.only_in_b.is_empty() {
            let _ = writeln!(o, "only in B: {}", self.only_in_b.join(", "));
        }
        if let Some(g) = self.gate_sentence() {
            let _ = writeln!(o, "\n{g}");
        }
        o
    }

    /// The comparison as `compare.md`.
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Comparison\n");
        let _ = writeln!(o, "- **A** (before): {}", esc(&side_line(&self.a)));
        let _ = writeln!(o, "- **B** (after): {}\n", esc(&side_line(&self.b)));
        if self.inputs.is_empty() {
            let _ = writeln!(
                o,
                "Both runs have the same scenario, overrides, seed and replications.\n"
            );
        } else {
            let _ = writeln!(
                o,
                "## What differs in the inputs\n\n| input | A | B |\n|---|---|---|"
            );
            for d in &self.inputs {
                let _ = writeln!(o, "| {} | {} | {} |", esc(&d.what), esc(&d.a), esc(&d.b));
            }
            o.push('\n');
        }
        let _ = writeln!(
            o,
            "Intervals: {}. A difference whose interval covers 0 is *indistinguishable*; \
             *better* and *worse* follow each column's direction (lower is better for losses, \
             latency, rejections and imbalance).\n",
            self.method_reason
        );
        if let Some(g) = self.gate_sentence() {
            let _ = writeln!(o, "**{}**\n", esc(&g));
        }
        let _ = writeln!(o, "## Per strategy\n");
        for s in &self.strategies {
            let _ = writeln!(o, "### {}\n", esc(&s.strategy));
            if s.columns.is_empty() {
                let _ = writeln!(o, "No column differs.\n");
                continue;
            }
            let _ = writeln!(o, "| column | A | B | B − A | |\n|---|---|---|---|---|");
            for c in &s.columns {
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} | {} | {} |",
                    c.column,
                    c.a_text(),
                    c.b_text(),
                    c.diff_text(),
                    c.judgement.name()
                );
            }
            o.push('\n');
        }
        if !self.only_in_a.is_empty() {
            let _ = writeln!(o, "Only in A: {}.\n", esc(&self.only_in_a.join(", ")));
        }
        if !self.only_in_b.is_empty() {
            let _ = writeln!(o, "Only in B: {}.\n", esc(&self.only_in_b.join(", ")));
        }
        o
    }

    /// The comparison as JSON.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a comparison serialises");
        s.push('\n');
        s
    }
}
