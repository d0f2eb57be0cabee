//! `stickysim validate SCENARIO`: check a file without running it.

use crate::scenario::{Location, ScenarioError};
use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// `stickysim validate`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::VALIDATE)]
pub struct ValidateArgs {
    /// The scenario file (TOML); `-` reads it from standard input.
    pub scenario: PathBuf,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the outcome as one JSON object on stdout: the scenario's facts
    /// and warnings, or the error's parts (file, line, column, key,
    /// expected, found, suggestion). The exit status is the same.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: ValidateArgs) -> Result<ExitCode> {
    let src = crate::scenario::read_source(&args.scenario);
    let loaded = src.and_then(|src| {
        crate::scenario::from_str_with_sweep(&src.text, &src.origin, &src.name_hint, &args.set)
            .map(|(sc, sweep)| (src, sc, sweep.is_some()))
    });
    // A `[sweep]` is checked as `sweep` would build it: every grid point
    // validated, the grid's size bounded.
    let loaded = match loaded {
        Ok((src, sc, true)) => {
            let req = crate::sweep::SweepRequest {
                scenario: args.scenario.clone(),
                set: args.set.clone(),
                ..Default::default()
            };
            if let Err(e) = crate::sweep::plan_text(&src.text, &src.origin, &src.name_hint, &req) {
                if args.json {
                    super::print_stdout(&format!(
                        "{:#}\n",
                        json!({ "ok": false, "error": { "kind": "sweep", "message": e.to_string() } })
                    ))?;
                    return Ok(ExitCode::from(super::EXIT_ERROR));
                }
                return Err(e.into());
            }
            Ok((src.origin, sc))
        }
        Ok((src, sc, false)) => Ok((src.origin, sc)),
        Err(e) => Err(e),
    };
    let (origin, sc) = match loaded {
        Ok(x) => x,
        Err(e) if args.json => {
            super::print_stdout(&format!(
                "{:#}\n",
                json!({ "ok": false, "error": error_json(&e) })
            ))?;
            return Ok(ExitCode::from(super::EXIT_ERROR));
        }
        Err(e) => return Err(e.into()),
    };
    let sanity = crate::scenario::sanity::check(&sc);
    let peak_fleet = if sc.autoscaling.is_some() {
        "autoscaling's largest fleet"
    } else {
        "the initial fleet"
    };
    let strategies: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
    if args.json {
        let warnings: Vec<Value> = sanity
            .warnings
            .iter()
            .map(|w| json!({ "code": w.code.name(), "message": w.message }))
            .collect();
        let out = json!({
            "ok": true,
            "file": origin,
            "scenario": sc.name,
            "duration_s": sc.simulation.duration_ns as f64 / 1e9,
            "warmup_s": sc.simulation.warmup_ns as f64 / 1e9,
            "backends": sc.backends.count(),
            "workers": sc.backends.workers,
            "client_segments": sc.clients.len(),
            "strategies": strategies,
            "offered_load": {
                "rho": sanity.load.rho,
                "rho_peak": sanity.load.rho_peak,
                "peak_fleet": if sc.autoscaling.is_some() { "autoscaling_max" } else { "initial" },
            },
            "warnings": warnings,
        });
        super::print_stdout(&format!("{out:#}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    super::print_stdout(&format!(
        "ok: {origin}: scenario `{}`, {} s ({} s warm-up), {} backends × {} workers, {} client segments, {} strategies: {}\n",
        sc.name,
        sc.simulation.duration_ns as f64 / 1e9,
        sc.simulation.warmup_ns as f64 / 1e9,
        sc.backends.count(),
        sc.backends.workers,
        sc.clients.len(),
        sc.strategies.len(),
        strategies.join(", "),
    ))?;
    super::print_stdout(&format!(
        "offered load per worker: ρ = {:.2} on the initial fleet (at the rate profile's peak, on {peak_fleet}: {:.2})\n",
        sanity.load.rho, sanity.load.rho_peak
    ))?;
    for w in &sanity.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A scenario error as JSON: what kind, where (file, line, column, or the
/// `--set` flag), which key, and the message with its parts apart; a part
/// the check does not know is `null`.
fn error_json(e: &ScenarioError) -> Value {
    let mut out = json!({
        "kind": null, "file": null, "line": null, "column": null, "set_by": null,
        "key": null, "expected": null, "found": null, "suggestion": null,
        "message": e.to_string(),
    });
    match e {
        ScenarioError::Read { path, cause } => {
            out["kind"] = json!("read");
            out["file"] = json!(path);
            out["found"] = json!(cause.to_string());
        }
        ScenarioError::Syntax {
            origin,
            line,
            column,
            message,
        } => {
            out["kind"] = json!("syntax");
            out["file"] = json!(origin);
            out["line"] = json!(line);
            out["column"] = json!(column);
            out["found"] = json!(message);
        }
        ScenarioError::Override {
            origin,
            flag,
            reason,
        } => {
            out["kind"] = json!("override");
            out["file"] = json!(origin);
            out["set_by"] = json!(flag);
            out["found"] = json!(reason);
        }
        ScenarioError::Invalid {
            origin,
            key,
            location,
            detail,
            ..
        } => {
            out["kind"] = json!("invalid");
            out["file"] = json!(origin);
            if !key.is_empty() {
                out["key"] = json!(key);
            }
            match location {
                Location::Span { line, column } => {
                    out["line"] = json!(line);
                    out["column"] = json!(column);
                }
                Location::Flag(flag) => out["set_by"] = json!(flag),
                Location::Unknown => {}
            }
            out["expected"] = json!(detail.expected);
            out["found"] = json!(detail.found);
            out["suggestion"] = json!(detail.suggestion);
        }
    }
    out
}
