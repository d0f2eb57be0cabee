//! `stickysim check SCENARIO`: run the scenario, write no results, print
//! the verdict and the assertions; exit 1 when an assertion fails.

use super::run::{execute, judge, SimArgs};
use anyhow::Result;
use clap::Args;
use std::fmt::Write as _;
use std::process::ExitCode;

/// `stickysim check`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::CHECK)]
pub struct CheckArgs {
    #[command(flatten)]
    pub sim: SimArgs,
}

pub(super) fn run(args: CheckArgs) -> Result<ExitCode> {
    let ex = execute(&args.sim, &|_, _| Ok(()))?;
    let v = &ex.verdict;
    let mut out = String::new();
    if let Some(q) = &v.question {
        let _ = writeln!(out, "question: {}", crate::text::terminal(q));
    }
    let _ = writeln!(out, "verdict: {}", crate::report::verdict::one_sentence(v));
    for s in &v.slos {
        let _ = writeln!(
            out,
            "{} {}: {} ({} {})",
            if s.passed { "pass" } else { "FAIL" },
            s.strategy,
            s.slo.constraint,
            s.bound_used.name(),
            crate::report::verdict::num(s.value)
        );
    }
    super::print_stdout(&out)?;
    judge(&ex, args.sim.junit.as_deref())
}
