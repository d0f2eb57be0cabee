//! `stickysim init [--from NAME] [FILE]`: a commented starter scenario,
//! either a bundled one or one written from a few answers (flags, or
//! questions on a terminal), with the rates and offered load worked out.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The scenarios shipped in `scenarios/`, by name.
pub(crate) const BUNDLED: [(&str, &str); 8] = [
    ("checkout", include_str!("../../scenarios/checkout.toml")),
    (
        "corporate_nat",
        include_str!("../../scenarios/corporate_nat.toml"),
    ),
    (
        "mobile_api",
        include_str!("../../scenarios/mobile_api.toml"),
    ),
    (
        "rolling_deploy",
        include_str!("../../scenarios/rolling_deploy.toml"),
    ),
    (
        "flash_sale",
        include_str!("../../scenarios/flash_sale.toml"),
    ),
    ("banking", include_str!("../../scenarios/banking.toml")),
    (
        "checkout_passive",
        include_str!("../../scenarios/checkout_passive.toml"),
    ),
    (
        "retry_storm",
        include_str!("../../scenarios/retry_storm.toml"),
    ),
];

/// Strategy kinds `init` can write without further keys, with the name
/// it gives them.
const STRATEGIES: [(&str, &str); 6] = [
    ("round_robin", "round-robin"),
    ("least_conn", "least-conn"),
    ("p2c", "p2c"),
    ("lb_cookie", "cookie-1d"),
    ("source_ip", "source-ip"),
    ("bounded_load", "bounded-load"),
];

/// `stickysim init`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::INIT)]
pub struct InitArgs {
    /// Where to write the scenario [default: stdout]; an existing file is
    /// not overwritten without `--force`.
    pub file: Option<PathBuf>,
    /// Start from a bundled scenario: checkout, corporate_nat, mobile_api,
    /// rolling_deploy, flash_sale, banking, checkout_passive, retry_storm.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["users", "sessions_per_hour", "requests_per_session", "think_time", "service_time", "backends", "workers", "nat_share", "strategies"])]
    pub from: Option<String>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Distinct users [default: 10000].
    #[arg(long, value_name = "N")]
    pub users: Option<u64>,
    /// New sessions per hour, all users together [default: 3600].
    #[arg(long, value_name = "N")]
    pub sessions_per_hour: Option<f64>,
    /// Mean requests per session [default: 8].
    #[arg(long, value_name = "N")]
    pub requests_per_session: Option<f64>,
    /// Mean pause between two clicks, seconds [default: 10].
    #[arg(long, value_name = "SECONDS")]
    pub think_time: Option<f64>,
    /// Mean backend work per request, seconds [default: 0.05].
    #[arg(long, value_name = "SECONDS")]
    pub service_time: Option<f64>,
    /// Backends [default: 4].
    #[arg(long, value_name = "N")]
    pub backends: Option<u32>,
    /// Requests each backend serves in parallel [default: 4].
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,
    /// Share of users behind a corporate NAT, 0 to 1 [default: 0].
    #[arg(long, value_name = "SHARE")]
    pub nat_share: Option<f64>,
    /// Strategy kinds to compare, comma-separated: round_robin, least_conn,
    /// p2c, lb_cookie, source_ip, bounded_load [default:
    /// round_robin,lb_cookie,source_ip].
    #[arg(long, value_name = "KIND[,KIND…]", value_delimiter = ',')]
    pub strategies: Vec<String>,
}

/// The answers a starter scenario is written from.
#[derive(Debug, Clone, PartialEq)]
struct Answers {
    users: u64,
    sessions_per_hour: f64,
    requests_per_session: f64,
    think_time: f64,
    service_time: f64,
    backends: u32,
    workers: u32,
    nat_share: f64,
    strategies: Vec<String>,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            users: 10_000,
            sessions_per_hour: 3600.0,
            requests_per_session: 8.0,
            think_time: 10.0,
            service_time: 0.05,
            backends: 4,
            workers: 4,
            nat_share: 0.0,
            strategies: ["round_robin", "lb_cookie", "source_ip"]
                .map(String::from)
                .to_vec(),
        }
    }
}

pub(super) fn run(args: InitArgs) -> Result<ExitCode> {
    let text = match &args.from {
        Some(name) => match BUNDLED.iter().find(|(n, _)| n == name) {
            Some((_, text)) => text.to_string(),
            None => {
                let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
                bail!(
                    "--from: expected one of {}, found `{name}`{}",
                    names.join(", "),
                    crate::scenario::did_you_mean(name, &names)
                );
            }
        },
        None => {
            let flags_given = args.users.is_some()
                || args.sessions_per_hour.is_some()
                || args.requests_per_session.is_some()
                || args.think_time.is_some()
                || args.service_time.is_some()
                || args.backends.is_some()
                || args.workers.is_some()
                || args.nat_share.is_some()
                || !args.strategies.is_empty();
            let answers = if !flags_given && std::io::stdin().is_terminal() {
                ask(&mut std::io::stdin().lock(), &mut std::io::stderr())?
            } else {
                from_flags(&args)
            };
            starter(&answers)?
        }
    };
    let name = args
        .file
        .as_ref()
        .and_then(|f| f.file_stem())
        .map_or("starter".to_string(), |s| s.to_string_lossy().into_owned());
    // What is written must validate; say what it offers.
    let sc = crate::scenario::from_str(&text, "the starter scenario", &name, &[])
        .context("the starter scenario does not validate (a bug)")?;
    let load = crate::scenario::sanity::check(&sc).load;
    match &args.file {
        Some(path) => {
            if path.exists() && !args.force {
                bail!("{} exists; pass --force to overwrite it", path.display());
            }
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => super::print_stdout(&text)?,
    }
    eprintln!(
        "offered load per worker: ρ = {:.2} ({} backends × {} workers); check it with `stickysim validate`",
        load.rho,
        sc.backends.count(),
        sc.backends.workers
    );
    Ok(ExitCode::SUCCESS)
}

fn from_flags(a: &InitArgs) -> Answers {
    let d = Answers::default();
    Answers {
        users: a.users.unwrap_or(d.users),
        sessions_per_hour: a.sessions_per_hour.unwrap_or(d.sessions_per_hour),
        requests_per_session: a.requests_per_session.unwrap_or(d.requests_per_session),
        think_time: a.think_time.unwrap_or(d.think_time),
        service_time: a.service_time.unwrap_or(d.service_time),
        backends: a.backends.unwrap_or(d.backends),
        workers: a.workers.unwrap_or(d.workers),
        nat_share: a.nat_share.unwrap_or(d.nat_share),
        strategies: if a.strategies.is_empty() {
            d.strategies
        } else {
            a.strategies.clone()
        },
    }
}

/// Asks the questions on `out`, reading answers from `input`; an empty
/// answer keeps the default shown.
fn ask(input: &mut dyn BufRead, out: &mut dyn Write) -> Result<Answers> {
    let d = Answers::default();
    let mut q = |question: &str, default: String| -> Result<String> {
        write!(out, "{question} [{default}]: ")?;
        out.flush()?;
        let mut line = String::new();
        input.read_line(&mut line)?;
        let line = line.trim();
        Ok(if line.is_empty() {
            default
        } else {
            line.to_string()
        })
    };
    fn num<T: std::str::FromStr>(what: &str, s: String) -> Result<T> {
        s.parse()
            .map_err(|_| anyhow::anyhow!("{what}: expected a number, found `{s}`"))
    }
    Ok(Answers {
        users: num("users", q("How many distinct users?", d.users.to_string())?)?,
        sessions_per_hour: num(
            "sessions per hour",
            q("How many sessions start per hour (all users)?", d.sessions_per_hour.to_string())?,
        )?,
        requests_per_session: num(
            "requests per session",
            q("How many requests in a session, on average?", d.requests_per_session.to_string())?,
        )?,
        think_time: num(
            "pause",
            q("Pause between two clicks, in seconds?", d.think_time.to_string())?,
        )?,
        service_time: num(
            "service time",
            q("Backend work per request, in seconds?", d.service_time.to_string())?,
        )?,
        backends: num("backends", q("How many backends?", d.backends.to_string())?)?,
        workers: num(
            "workers",
            q("Requests each backend serves at once?", d.workers.to_string())?,
        )?,
        nat_share: num(
            "NAT share",
            q("Share of users behind a corporate NAT (0 to 1)?", d.nat_share.to_string())?,
        )?,
        strategies: q(
            "Strategies to compare (round_robin, least_conn, p2c, lb_cookie, source_ip, bounded_load)?",
            d.strategies.join(","),
        )?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect(),
    })
}

/// A commented scenario from the answers, with the rates and the offered
/// load worked out in its comments.
fn starter(a: &Answers) -> Result<String> {
    let bad =
        |what: &str, v: String| anyhow::anyhow!("--{what}: expected a positive number, found {v}");
    for (what, v) in [
        ("sessions-per-hour", a.sessions_per_hour),
        ("requests-per-session", a.requests_per_session),
        ("think-time", a.think_time),
        ("service-time", a.service_time),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(bad(what, v.to_string()));
        }
    }
    if a.requests_per_session < 1.0 {
        bail!(
            "--requests-per-session: expected at least 1, found {}",
            a.requests_per_session
        );
    }
    if a.users == 0 || a.backends == 0 || a.workers == 0 {
        bail!("--users, --backends and --workers: expected at least 1 each");
    }
    if !(0.0..=1.0).contains(&a.nat_share) {
        bail!(
            "--nat-share: expected a share from 0 to 1, found {}",
            a.nat_share
        );
    }
    let mut kinds = Vec::new();
    for k in &a.strategies {
        let Some(&(kind, name)) = STRATEGIES.iter().find(|(kind, _)| kind == k) else {
            let names: Vec<&str> = STRATEGIES.iter().map(|(k, _)| *k).collect();
            bail!(
                "--strategies: expected kinds among {}, found `{k}`{}",
                names.join(", "),
                crate::scenario::did_you_mean(k, &names)
            );
        };
        if !kinds.iter().any(|(k2, _)| *k2 == kind) {
            kinds.push((kind, name));
        }
    }
    if kinds.is_empty() {
        bail!("--strategies: expected at least one strategy kind");
    }
    let rate = a.sessions_per_hour / 3600.0;
    let session_s = (a.requests_per_session - 1.0) * a.think_time;
    let busy = rate * a.requests_per_session * a.service_time;
    let slots = f64::from(a.backends) * f64::from(a.workers);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# A starter scenario (`stickysim init`): edit, then `stickysim validate` and"
    );
    let _ = writeln!(t, "# `stickysim run` it. Keys: docs/scenario.md.");
    let _ = writeln!(t, "#");
    let _ = writeln!(
        t,
        "# Offered load: {rate:.4} sessions/s x {} requests x {} s = {busy:.2} busy workers",
        a.requests_per_session, a.service_time
    );
    let _ = writeln!(
        t,
        "# on average, of {} x {} = {slots} -> about {:.0} % utilisation.",
        a.backends,
        a.workers,
        busy / slots * 100.0
    );
    let _ = writeln!(
        t,
        "# A session lasts about {session_s:.0} s ({} pauses of {} s), so about {:.0} are open at once.",
        a.requests_per_session - 1.0,
        a.think_time,
        rate * session_s
    );
    // Warm-up: enough mean sessions (with their service) to fill the system.
    let with_service = session_s + a.requests_per_session * a.service_time;
    let warmup = (crate::scenario::sanity::WARMUP_SESSIONS * with_service * 1.05)
        .max(60.0)
        .ceil();
    let _ = writeln!(t, "\n[simulation]");
    let _ = writeln!(t, "duration = \"2h\"");
    let _ = writeln!(
        t,
        "warmup = {warmup}            # a few session lengths: fills the system; not measured"
    );
    let _ = writeln!(
        t,
        "seed = 1                # same seed -> byte-identical results"
    );
    let _ = writeln!(t, "\n[workload]");
    let _ = writeln!(
        t,
        "session_rate = {rate}   # new sessions per second ({} an hour)",
        a.sessions_per_hour
    );
    let _ = writeln!(
        t,
        "requests_per_session = {{ dist = \"geometric\", mean = {} }}",
        a.requests_per_session
    );
    let _ = writeln!(
        t,
        "think_time = {{ dist = \"exponential\", mean = {} }}   # pause between clicks, s",
        a.think_time
    );
    let _ = writeln!(
        t,
        "service_time = {{ dist = \"lognormal\", mean = {}, cv = 1.0 }}   # backend work per request, s",
        a.service_time
    );
    let nat_users = ((a.users as f64) * a.nat_share).round() as u64;
    let direct_users = a.users - nat_users;
    if nat_users > 0 && direct_users > 0 {
        let _ = writeln!(t, "\n[[clients]]\nname = \"direct\"\nshare = {}\nusers = {direct_users}\nnetwork = \"direct\"", 1.0 - a.nat_share);
    }
    if nat_users > 0 {
        let per_ip = nat_users.clamp(1, 250);
        let _ = writeln!(
            t,
            "\n# Users behind a corporate NAT share egress addresses."
        );
        let _ = writeln!(
            t,
            "[[clients]]\nname = \"nat\"\nshare = {}\nusers = {nat_users}\nnetwork = \"nat\"\nusers_per_ip = {per_ip}",
            if direct_users > 0 { a.nat_share } else { 1.0 }
        );
    } else {
        let _ = writeln!(t, "\n[[clients]]\nname = \"direct\"\nshare = 1.0\nusers = {direct_users}\nnetwork = \"direct\"");
    }
    let _ = writeln!(
        t,
        "\n[backends]\ncount = {}\nworkers = {}",
        a.backends, a.workers
    );
    let _ = writeln!(
        t,
        "\n# Session state in the backend's memory: what stickiness protects."
    );
    let _ = writeln!(t, "[session_state]\nplacement = \"local\"");
    for (kind, name) in kinds {
        let _ = writeln!(t, "\n[[strategies]]\nname = \"{name}\"\nkind = \"{kind}\"");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_questions_fill_the_answers_and_empty_keeps_defaults() {
        let mut input: &[u8] = b"500\n7200\n\n5\n\n2\n\n0.3\nround_robin,source_ip\n";
        let mut out = Vec::new();
        let a = ask(&mut input, &mut out).unwrap();
        let d = Answers::default();
        assert_eq!(a.users, 500);
        assert_eq!(a.sessions_per_hour, 7200.0);
        assert_eq!(a.requests_per_session, d.requests_per_session);
        assert_eq!(a.think_time, 5.0);
        assert_eq!(a.backends, 2);
        assert_eq!(a.workers, d.workers);
        assert_eq!(a.nat_share, 0.3);
        assert_eq!(a.strategies, vec!["round_robin", "source_ip"]);
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.contains("How many distinct users? [10000]: "),
            "{shown}"
        );
        let text = starter(&a).unwrap();
        let sc = crate::scenario::from_str(&text, "t", "t", &[]).unwrap();
        assert_eq!(sc.backends.count(), 2);
        assert_eq!(sc.clients.len(), 2);
        assert!((sc.workload.session_rate - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_bad_answer_names_the_question() {
        let mut input: &[u8] = b"many\n";
        let e = ask(&mut input, &mut Vec::new()).unwrap_err();
        assert!(
            e.to_string()
                .contains("users: expected a number, found `many`"),
            "{e}"
        );
    }
}
