//! `stickysim fit LOG [--format F] [--out scenario.toml]`: what an access
//! log says about stickiness, printed, and a synthetic scenario fitted to
//! it (see [`crate::fit`]).

use crate::fit::families::{best, fmt_sig, Fitted};
use crate::fit::{scenario, Fit, Fitter, Sample, BANDS, NAT_USERS};
use crate::replay::{time, Format, LineReader};
use crate::scenario::replay::{RawExclude, RawFields, RawReplay, RawSessionId};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// `stickysim fit` arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::FIT)]
pub struct FitArgs {
    /// The access log (gzip is read as such).
    pub(crate) log: PathBuf,
    /// Its format: combined, common, alb, haproxy, jsonl.
    #[arg(long, default_value = "combined", value_name = "FORMAT")]
    pub(crate) format: String,
    /// A `jsonl` field name, as `workload.replay.fields`: `time=ts`,
    /// `client=remote_addr`, `service_time_unit=ms`, … (repeatable).
    #[arg(long = "field", value_name = "KEY=NAME")]
    pub(crate) fields: Vec<String>,
    /// The `jsonl` field holding a session cookie or header [default:
    /// sessions are client address + user agent].
    #[arg(long, value_name = "NAME")]
    pub(crate) session_field: Option<String>,
    /// A session ends after this long without a request [default: 30m].
    #[arg(long, value_name = "TIME")]
    pub(crate) idle: Option<String>,
    /// Lines are sorted by time within this window [default: 10s].
    #[arg(long, value_name = "TIME")]
    pub(crate) reorder_window: Option<String>,
    /// Leave out requests whose path matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub(crate) exclude_path: Vec<String>,
    /// Leave out requests whose user agent matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub(crate) exclude_user_agent: Vec<String>,
    /// Fit from this time on (ISO 8601, e.g. 2026-03-02T09:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// Fit up to (not including) this time (ISO 8601).
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Addresses listed by requests (at most 1000).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub(crate) top: usize,
    /// Write the fitted scenario here (TOML).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Overwrite the --out file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The flag a `workload.replay` key path came from.
fn flag(key: &str) -> &'static str {
    let k = key.strip_prefix("workload.replay.").unwrap_or(key);
    match k.split(['.', '[']).next().unwrap_or("") {
        "format" => "--format",
        "fields" => "--field",
        "session" if k.ends_with("idle") => "--idle",
        "session" => "--session-field",
        "reorder_window" => "--reorder-window",
        "exclude" if k.contains("user_agent") => "--exclude-user-agent",
        "exclude" => "--exclude-path",
        "from" => "--from",
        "to" => "--to",
        _ => "LOG",
    }
}

fn secs(what: &str, v: &Option<String>) -> Result<Option<f64>> {
    v.as_deref()
        .map(|s| crate::scenario::duration::parse_secs(s).map_err(|e| anyhow!("{what}: {e}")))
        .transpose()
}

fn instant(what: &str, v: &Option<String>) -> Result<Option<i64>> {
    v.as_deref()
        .map(|s| {
            time::iso(s.trim()).ok_or_else(|| {
                anyhow!(
                    "{what}: expected a date-time such as \"2026-03-02T09:00:00Z\", found {}",
                    crate::text::quoted(s)
                )
            })
        })
        .transpose()
}

fn raw(args: &FitArgs) -> Result<RawReplay> {
    let mut fields: Option<RawFields> = None;
    for f in &args.fields {
        let Some((k, v)) = f.split_once('=') else {
            bail!(
                "--field: expected KEY=NAME (e.g. time=ts), found {}",
                crate::text::quoted(f)
            );
        };
        let rf = fields.get_or_insert(RawFields {
            time: None,
            client: None,
            port: None,
            request: None,
            method: None,
            path: None,
            status: None,
            user_agent: None,
            service_time: None,
            service_time_unit: None,
        });
        let slot = match k.trim() {
            "time" => &mut rf.time,
            "client" => &mut rf.client,
            "port" => &mut rf.port,
            "request" => &mut rf.request,
            "method" => &mut rf.method,
            "path" => &mut rf.path,
            "status" => &mut rf.status,
            "user_agent" => &mut rf.user_agent,
            "service_time" => &mut rf.service_time,
            "service_time_unit" => &mut rf.service_time_unit,
            other => {
                let keys = [
                    "time",
                    "client",
                    "port",
                    "request",
                    "method",
                    "path",
                    "status",
                    "user_agent",
                    "service_time",
                    "service_time_unit",
                ];
                bail!(
                    "--field: expected a key among {}, found {}{}",
                    keys.join(", "),
                    crate::text::quoted(other),
                    crate::scenario::did_you_mean(other, &keys)
                );
            }
        };
        *slot = Some(v.trim().to_string());
    }
    let session = (args.session_field.is_some() || args.idle.is_some()).then(|| RawSessionId {
        field: args.session_field.clone(),
        idle: None,
    });
    let mut session = session;
    if let Some(s) = &mut session {
        s.idle = secs("--idle", &args.idle)?;
    }
    let exclude =
        (!args.exclude_path.is_empty() || !args.exclude_user_agent.is_empty()).then(|| {
            RawExclude {
                path: Some(args.exclude_path.clone()),
                user_agent: Some(args.exclude_user_agent.clone()),
            }
        });
    Ok(RawReplay {
        log: args.log.display().to_string(),
        format: Some(args.format.clone()),
        fields,
        session,
        reorder_window: secs("--reorder-window", &args.reorder_window)?,
        speed: None,
        scale: None,
        from: instant("--from", &args.from)?,
        to: instant("--to", &args.to)?,
        exclude,
        strict: None,
    })
}

pub(crate) fn run(args: FitArgs) -> Result<ExitCode> {
    if args.top > crate::fit::MAX_TOP {
        bail!(
            "--top: expected at most {}, found {}",
            crate::fit::MAX_TOP,
            args.top
        );
    }
    let spec = crate::scenario::replay::validate(&raw(&args)?)
        .map_err(|p| anyhow!("{}: {}", flag(&p.key.to_string()), p.message))?;
    let log = args.log.display().to_string();
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            bail!("{} exists; pass --force to overwrite it", out.display());
        }
    }
    let lines = LineReader::open(&args.log).with_context(|| format!("reading {log}"))?;
    let fitter = Fitter::new(&spec, lines).map_err(|e| anyhow!("--exclude-*: {e}"))?;
    let fit = fitter.run(args.top);
    let warnings = check(&log, spec.format, &fit)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let mut filters = Vec::new();
    for (what, v) in [
        ("paths", &spec.exclude_path),
        ("user agents", &spec.exclude_user_agent),
    ] {
        if !v.is_empty() {
            filters.push(format!("{what} matching {}", v.join(" or ")));
        }
    }
    if let Some(f) = spec.from_ns {
        filters.push(format!("before {}", time::format_iso(f)));
    }
    if let Some(t) = spec.to_ns {
        filters.push(format!("from {} on", time::format_iso(t)));
    }
    let source = scenario::Source {
        log: args
            .log
            .file_name()
            .map_or(log.clone(), |n| n.to_string_lossy().into_owned()),
        format: spec.format.name().to_string(),
        identity: spec.identity(),
        filters: filters.join("; "),
    };
    super::print_stdout(&report(&fit, &source, args.top))?;
    if let Some(out) = &args.out {
        let name: String = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = if name.is_empty() {
            "fitted".to_string()
        } else {
            name
        };
        let text = scenario::write(&fit, &source, &name);
        crate::scenario::from_str(&text, "the fitted scenario", &name, &[])
            .map_err(|e| anyhow!("the fitted scenario does not validate (a bug): {e}"))?;
        crate::outdir::replace_file(out, text.as_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!(
            "wrote {} (check it with `stickysim validate {}`, then `stickysim run` it)",
            out.display(),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The error an unusable log makes, else the warnings (as `replay` does).
fn check(log: &str, format: Format, fit: &Fit) -> Result<Vec<String>> {
    let c = &fit.counts;
    let first: Vec<String> = c
        .first_bad
        .iter()
        .map(|(n, what)| format!("line {n}: {}", crate::text::terminal(what)))
        .collect();
    if let Some(e) = &c.error {
        bail!("{log}: {}", crate::text::terminal(e));
    }
    if c.lines == 0 {
        bail!("{log}: the log has no lines (format `{format}`)");
    }
    if c.valid == 0 {
        let hint = if format == Format::Jsonl {
            " (see --field for the field names)"
        } else {
            ""
        };
        bail!(
            "{log}: no line parsed as format `{format}`{hint}: {} line{} read, the first: {}",
            c.lines,
            if c.lines == 1 { "" } else { "s" },
            first.first().map_or("", String::as_str)
        );
    }
    if c.requests == 0 {
        bail!(
            "{log}: none of the {} parsed lines is left to fit ({} excluded by --exclude-*, {} \
             before --from or at or after --to, {} too far out of order)",
            c.valid,
            c.excluded,
            c.outside,
            c.late
        );
    }
    let mut w = Vec::new();
    if c.skipped > 0 {
        w.push(format!(
            "{log}: {} bad line{} skipped (of {}); {}",
            c.skipped,
            if c.skipped == 1 { "" } else { "s" },
            c.lines,
            first.join("; ")
        ));
    }
    if c.late > 0 {
        w.push(format!(
            "{log}: {} line{} further out of order than --reorder-window skipped",
            c.late,
            if c.late == 1 { "" } else { "s" }
        ));
    }
    Ok(w)
}

fn pct(a: u64, b: u64) -> String {
    format!("{:.1} %", a as f64 * 100.0 / b.max(1) as f64)
}

fn fits_table(t: &mut String, fits: &[Fitted]) {
    let chosen = best(fits).map(|f| f.family);
    let _ = writeln!(
        t,
        "  {:<12} {:<28} {:>12} {:>12}",
        "family", "fitted", "log-lik", "AIC"
    );
    for f in fits {
        let mark = match (&f.unusable, Some(f.family) == chosen) {
            (Some(why), _) => format!("  not usable: {why}"),
            (None, true) => "  <- lowest AIC".to_string(),
            _ => String::new(),
        };
        let params = f.describe();
        let params = params.trim_start_matches(f.family).trim();
        let _ = writeln!(
            t,
            "  {:<12} {:<28} {:>12.1} {:>12.1}{mark}",
            f.family, params, f.log_lik, f.aic
        );
    }
}

fn times(t: &mut String, title: &str, s: &Sample, fits: &[Fitted], zero: f64) {
    let m = s.with_zeros(zero);
    let _ = writeln!(
        t,
        "\n{title}: n = {}, mean {} s, cv {}, median {} s, p90 {} s, p99 {} s, max {} s",
        s.n(),
        fmt_sig(m.mean()),
        fmt_sig(m.cv()),
        fmt_sig(s.hist.quantile(0.5)),
        fmt_sig(s.hist.quantile(0.9)),
        fmt_sig(s.hist.quantile(0.99)),
        fmt_sig(m.max)
    );
    if s.zeros > 0 {
        let _ = writeln!(
            t,
            "  ({} values of 0 counted as {} s in the fits)",
            s.zeros,
            fmt_sig(zero)
        );
    }
    if fits.is_empty() {
        let _ = writeln!(t, "  (too few or all equal: no family fitted)");
    } else {
        fits_table(t, fits);
    }
}

/// The printed report.
fn report(fit: &Fit, src: &scenario::Source, top: usize) -> String {
    let c = &fit.counts;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} (format `{}`): {} lines, {} parsed, {} skipped, {} reordered, {} too late, {} excluded, \
         {} outside --from/--to: {} requests fitted.",
        src.log, src.format, c.lines, c.valid, c.skipped, c.reordered, c.late, c.excluded, c.outside,
        c.requests
    );
    let first = fit.first_ns.map(time::format_iso).unwrap_or_default();
    let _ = writeln!(
        t,
        "From {first} to {} ({} s). Sessions: {}.",
        fit.last_ns.map(time::format_iso).unwrap_or_default(),
        fmt_sig(fit.span_s()),
        src.identity
    );
    let _ = writeln!(t, "\nBy hour, from the first request:");
    let _ = writeln!(
        t,
        "  {:>4}  {:<27} {:>9} {:>9} {:>11}",
        "hour", "from", "requests", "sessions", "sessions/s"
    );
    for (i, h) in fit.hours.iter().enumerate() {
        let start = fit.first_ns.unwrap_or(0) + i as i64 * 3_600_000_000_000;
        let len = fit.hour_len_s(i);
        let _ = writeln!(
            t,
            "  {i:>4}  {:<27} {:>9} {:>9} {:>11}",
            time::format_iso(start),
            h.requests,
            h.sessions,
            if len > 0.0 {
                fmt_sig(h.sessions as f64 / len)
            } else {
                "-".into()
            }
        );
    }
    let _ = writeln!(
        t,
        "\nRequests per session: {} sessions, mean {}, median {}, p90 {}, p99 {}, max {}",
        fit.sessions,
        fmt_sig(fit.requests_mean()),
        fit.requests_quantile(0.5),
        fit.requests_quantile(0.9),
        fit.requests_quantile(0.99),
        fit.requests_per_session
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    );
    let rf = fit.requests_fits();
    if rf.is_empty() {
        let _ = writeln!(t, "  (too few or all equal: no family fitted)");
    } else {
        let _ = writeln!(
            t,
            "  (continuous families rounded to integers, as the simulator rounds them)"
        );
        fits_table(&mut t, &rf);
    }
    times(
        &mut t,
        "Think time (gap between a session's consecutive requests)",
        &fit.think,
        &fit.think_fits(),
        fit.zero_gap_s(),
    );
    if fit.service.n() > 0 {
        times(
            &mut t,
            "Service time (from the log)",
            &fit.service,
            &fit.service_fits(),
            crate::fit::ZERO_SERVICE_S,
        );
    } else {
        let _ = writeln!(
            t,
            "\nService time: not in this log (format `{}`).",
            src.format
        );
    }
    let _ = writeln!(
        t,
        "\nAddresses: {} client addresses, {} users (a user is an address + user agent).",
        fit.addresses, fit.users
    );
    let _ = writeln!(t, "Top {} by requests:", fit.top.len().min(top));
    let _ = writeln!(
        t,
        "  {:<40} {:>9} {:>8} {:>9} {:>6}",
        "address", "requests", "share", "sessions", "users"
    );
    for a in &fit.top {
        let _ = writeln!(
            t,
            "  {:<40} {:>9} {:>8} {:>9} {:>6}",
            a.addr.to_string(),
            a.requests,
            pct(a.requests, c.requests),
            a.sessions,
            format!("{}{}", if a.more { ">=" } else { "" }, a.users)
        );
    }
    if let Some(a) = fit.top.first() {
        if a.users == 1 && a.requests * 20 >= c.requests && fit.top.len() > 1 {
            let _ = writeln!(
                t,
                "  note: {} sends {} of the requests as one user: a crawler or a health checker? \
                 Leave it out with --exclude-user-agent or --exclude-path.",
                a.addr,
                pct(a.requests, c.requests)
            );
        }
    }
    let _ = writeln!(t, "Users (and user agents) per address:");
    let _ = writeln!(
        t,
        "  {:<10} {:>9} {:>7} {:>9} {:>9} {:>9}",
        "users", "addresses", "users", "sessions", "of sess.", "of req."
    );
    for (&(lo, hi), b) in BANDS.iter().zip(&fit.bands) {
        let label = match (lo, hi) {
            (l, h) if l == h => l.to_string(),
            (l, u64::MAX) => format!(">= {l}"),
            (l, h) => format!("{l}-{h}"),
        };
        let _ = writeln!(
            t,
            "  {label:<10} {:>9} {:>7} {:>9} {:>9} {:>9}",
            b.addresses,
            b.users,
            b.sessions,
            pct(b.sessions, fit.sessions),
            pct(b.requests, c.requests)
        );
    }
    let shared: u64 = fit.bands[1..].iter().map(|b| b.sessions).sum();
    let _ = writeln!(
        t,
        "Sessions sharing an address with another user: {} of {} ({}).",
        shared,
        fit.sessions,
        pct(shared, fit.sessions)
    );
    let _ = writeln!(
        t,
        "NAT estimate: {} of the requests ({} of the sessions) come from the {} address{} with >= {NAT_USERS} users.",
        pct(fit.nat.requests, c.requests),
        pct(fit.nat.sessions, fit.sessions),
        fit.nat.addresses,
        if fit.nat.addresses == 1 { "" } else { "es" }
    );
    let who = if fit.by_field {
        "session keys"
    } else {
        "users"
    };
    let _ = writeln!(
        t,
        "\nReturning {who}: {} of {} came back after the idle gap; {} of {} sessions ({}) were returns{}.",
        fit.returning_identities,
        fit.identities,
        fit.returning_sessions,
        fit.sessions,
        pct(fit.returning_sessions, fit.sessions),
        if fit.identities_full {
            " (a lower bound: too many identities to remember)"
        } else {
            ""
        }
    );
    if fit.by_field {
        let _ = writeln!(
            t,
            "Address changes within sessions: {} changes in {} of {} sessions ({}).",
            fit.address_changes,
            fit.sessions_changed,
            fit.sessions,
            pct(fit.sessions_changed, fit.sessions)
        );
    } else {
        let _ = writeln!(
            t,
            "Address changes within sessions: not measurable (a session is an address + user agent; \
             a jsonl log with --session-field shows them)."
        );
    }
    t
}
