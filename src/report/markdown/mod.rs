//! `report.md`: the scenario in a few lines, findings computed from the
//! numbers, the charts, the summary table (equal to `summary.csv`), and the
//! model's assumptions and limits. Rendered from [`RunData`] alone, so
//! `stickysim report DIR` can redo it from the files.

mod cold;
mod findings;
mod passive;
mod replay;
mod returning;
mod store;
mod storm;
mod text;

use super::data::{RunData, ScenarioFacts};
pub use findings::findings;
use std::fmt::Write as _;
use text::{count, duration, md_escape, num};

/// Renders `report.md`. `charts` lists the charts written beside it
/// (file name, alt text), in the order they are shown.
pub fn report_md(data: &RunData, charts: &[(&str, &str)]) -> String {
    let m = &data.meta;
    let mut o = String::new();
    let _ = writeln!(o, "# Stickiness report: {}\n", m.scenario);
    let mut sources = vec!["`summary.csv`", "`backends.csv`"];
    if data.events.is_some() {
        sources.push("`events.csv`");
    }
    if data.instances.is_some() {
        sources.push("`instances.csv`");
    }
    if data.replications.is_some() {
        sources.push("`replications.csv`");
    }
    let _ = writeln!(
        o,
        "Scenario `{}`, seed {}, scenario hash `{}`, stickysim {}. \
         Every figure below comes from {} and `summary.json` in this \
         directory; `stickysim report <this directory>` redraws the charts \
         and this report from them.\n",
        m.scenario,
        m.seed,
        m.scenario_hash,
        m.stickysim_version,
        sources.join(", ")
    );
    if let Some(what_if) = super::whatif::overrides_markdown(m) {
        let _ = writeln!(o, "{what_if}");
    }
    super::verdict::verdict_md(&mut o, data);
    super::verdict::warnings_md(&mut o, data);
    at_a_glance(&mut o, data);
    o.push_str("## The scenario\n\n");
    match &m.scenario_facts {
        Some(f) => scenario_lines(&mut o, f, data),
        None => o.push_str("- (this run's `summary.json` records no scenario facts)\n"),
    }
    let _ = writeln!(
        o,
        "- Strategies: {}.\n",
        (0..data.strategies.len())
            .map(|s| format!(
                "`{}` ({})",
                data.strategies[s],
                data.summary.text(s, "kind")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    o.push_str("## Findings\n\n");
    let found = findings(data);
    if found.is_empty() {
        o.push_str("- Nothing stood out: no sessions lost, no failed requests.\n");
    }
    for f in found {
        let _ = writeln!(o, "- {f}");
    }
    o.push('\n');
    if !charts.is_empty() {
        o.push_str("## Charts\n\n");
        for (file, alt) in charts {
            let _ = writeln!(o, "### {alt}\n\n![{alt}]({file})\n");
        }
    }
    full_results(&mut o, data);
    limits(&mut o, data);
    o
}

fn scenario_lines(o: &mut String, f: &ScenarioFacts, data: &RunData) {
    if let Some(r) = &f.replay {
        replay::replay_lines(o, f, r);
    } else {
        synthetic_lines(o, f);
    }
    backend_lines(o, f, data);
}

fn synthetic_lines(o: &mut String, f: &ScenarioFacts) {
    let _ = writeln!(
        o,
        "- {} simulated, the first {} a warm-up that is not measured; {} new sessions/s{} of {} requests on average, {} s think time between them, {} ms mean service time per request.",
        duration(f.duration_s),
        duration(f.warmup_s),
        num(f.session_rate),
        if f.rate_profile { " (varied over time by a rate profile)" } else { "" },
        num(f.requests_per_session_mean),
        num(f.think_time_mean_s),
        num(f.service_time_mean_s * 1000.0),
    );
    let clients: Vec<String> = f
        .clients
        .iter()
        .map(|c| {
            let mut s = format!(
                "{} {}% of sessions, {} users",
                c.name,
                num(c.share * 100.0),
                count(c.users as f64)
            );
            match c.network.as_str() {
                "direct" => s.push_str(" on their own addresses"),
                "nat" => s.push_str(&format!(
                    " behind {} NAT addresses ({} users each)",
                    count(c.addresses() as f64),
                    c.users_per_ip
                )),
                other => s.push_str(&format!(
                    " on a {other} pool of {} addresses ({} users each)",
                    count(c.addresses() as f64),
                    c.users_per_ip
                )),
            }
            if c.ip_change_rate > 0.0 {
                s.push_str(&format!(
                    ", address change every {} s on average",
                    num(1.0 / c.ip_change_rate)
                ));
            }
            if c.cookie_block > 0.0 {
                s.push_str(&format!(", {}% block cookies", num(c.cookie_block * 100.0)));
            }
            s
        })
        .collect();
    let _ = writeln!(o, "- Clients: {}.", clients.join("; "));
}

fn backend_lines(o: &mut String, f: &ScenarioFacts, data: &RunData) {
    let _ = writeln!(
        o,
        "- Backends: {} × {} workers{}; health check every {} s, marked down after {} failed checks and up after {} good ones. Session state lives {}.",
        f.backends,
        f.workers,
        f.queue_limit
            .map_or(String::new(), |q| format!(", at most {q} queued each")),
        num(f.health_check_interval_s),
        f.unhealthy_threshold,
        f.healthy_threshold,
        match f.session_state.as_str() {
            "local" => {
                "in the memory of the backend that created it: a request that lands elsewhere loses it"
            }
            "replicated" => {
                "in the memory of the backend that created it, copied to other backends on every write"
            }
            _ => "in a shared store: nothing is lost, every request pays a store round trip",
        }
    );
    if f.faults.is_empty() {
        o.push_str("- Faults and fleet changes: none.\n");
    } else {
        let _ = writeln!(o, "- Faults and fleet changes: {}.", f.faults.join("; "));
    }
    let _ = data;
}

/// The decision-relevant columns of `## At a glance`: `(column, heading, scale)`;
/// a fraction shown as a percentage has scale 100.
const GLANCE: &[(&str, &str, f64)] = &[
    ("sessions_lost_pct", "sessions lost %", 1.0),
    ("failed_pct", "failed %", 1.0),
    ("rejected_pct", "rejected %", 1.0),
    ("latency_p99_ms", "p99 ms", 1.0),
    ("util_max", "busiest backend util %", 100.0),
    ("imbalance_util_max_over_mean", "imbalance max/mean", 1.0),
    ("max_backend_request_share", "top backend share %", 100.0),
];

/// `## At a glance`: the decision-relevant columns per strategy, each a
/// mean ± 95 % half-width over the replications (the value alone with one).
fn at_a_glance(o: &mut String, data: &RunData) {
    let sm = &data.summary;
    let est = super::replicated::estimates_of(data);
    let recommended = super::verdict::verdict_of(data)
        .ok()
        .and_then(|v| v.recommended);
    o.push_str("## At a glance\n\n");
    let _ = writeln!(
        o,
        "{}\n",
        if data.meta.replications > 1 {
            format!(
                "Each figure is a mean ± the half-width of its 95 % interval over {} replications.",
                data.meta.replications
            )
        } else {
            "One replication: each figure is a single sample, without an interval.".to_string()
        }
    );
    let heads: Vec<&str> = GLANCE.iter().map(|(_, h, _)| *h).collect();
    let _ = writeln!(o, "| strategy | {} | main cause |", heads.join(" | "));
    let _ = writeln!(o, "|---|{}---|", "--:|".repeat(GLANCE.len()));
    for s in 0..data.strategies.len() {
        let main = sm
            .loss_causes()
            .into_iter()
            .filter(|(c, _)| sm.num(s, c) > 0.0)
            .max_by(|a, b| sm.num(s, a.0).total_cmp(&sm.num(s, b.0)))
            .map_or("-", |(_, c)| c.name());
        let cells: Vec<String> = GLANCE
            .iter()
            .map(|(col, _, scale)| {
                est.get(s)
                    .and_then(|m| m.get(*col))
                    .map_or("-".to_string(), |e| {
                        super::verdict::est(&crate::decision::Estimate {
                            mean: e.mean * scale,
                            half_width: e.half_width.map(|h| h * scale),
                        })
                    })
            })
            .collect();
        let mark = if recommended.as_deref() == Some(data.strategies[s].as_str()) {
            " (recommended)"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "| {}{mark} | {} | {main} |",
            md_escape(&data.strategies[s]),
            cells.join(" | "),
        );
    }
    o.push_str("\nMain cause: the loss cause that took the most sessions (replication 0).\n\n");
}

/// `## Full results`: where every column is.
fn full_results(o: &mut String, data: &RunData) {
    let _ = writeln!(
        o,
        "## Full results\n\nEvery column for every strategy ({} columns: loss by cause, \
         latency p50…p99.9, utilisation, …{}) is in [`summary.csv`](summary.csv); \
         column meanings in the project's `docs/output.md`.{}\n",
        data.summary.header.len(),
        if data.meta.replications > 1 {
            ", each figure with its `_hw95` half-width"
        } else {
            ""
        },
        if data.replications.is_some() {
            " Every replication's row is in [`replications.csv`](replications.csv)."
        } else {
            ""
        }
    );
}

/// How the load balancers of the run learn of a crash: through their
/// health checks alone unless a strategy's passive checks ejected a backend.
fn learns_of_crash(data: &RunData) -> &'static str {
    let ejected =
        (0..data.strategies.len()).any(|s| data.has_event(s, crate::metrics::ControlKind::Ejected));
    if ejected {
        "through its health checks and, for strategies with passive health checks (`passive_health`), from the requests that fail"
    } else {
        "only through its health checks (no outlier detection)"
    }
}

fn limits(o: &mut String, data: &RunData) {
    o.push_str("## Assumptions and limits\n\n");
    let bucket = data.meta.bucket_s;
    let items = [
        if data.meta.replications > 1 {
            format!("{} replications: `summary.csv` and the verdict give means with 95 % intervals; the charts, `backends.csv`, `events.csv` and `instances.csv` show replication 0 (the master seed) alone.", data.meta.replications)
        } else {
            "One run, one seed: every figure is a single sample, without a confidence interval. Differences of a few tenths of a percent can be noise; run with `--replications` to see the spread.".to_string()
        },
        "Every strategy faces the identical workload (same arrivals, clients, address changes, think and service times, faults); only routing differs.".to_string(),
        "A session counts as lost once, under the cause of its first loss; `loss_events` counts every loss.".to_string(),
        "Latency is queue wait + service time (+ one store round trip with shared state, + the replication write with replicated state, + the connect timeout and second attempt for a request retried after reaching a dead backend). Network time, TLS, load-balancer processing and client retries are not modelled; percentiles come from an HDR histogram with 3 significant digits.".to_string(),
        "Think times and service times are drawn independently from the scenario's distributions; users act independently of one another; the users behind a NAT or CGNAT pool share its addresses evenly.".to_string(),
        format!("The load balancer itself never fails and decides instantly; it learns of a crash {}, and retries a request that reached a dead backend at most once.", learns_of_crash(data)),
        "Autoscaling is target tracking on the mean utilisation of in-service instances; it does not replace crashed instances, and new instances have the first backend's speed.".to_string(),
        format!("Time series are in {} s buckets, warm-up included; the summary excludes the warm-up.", num(bucket)),
        if data.events.is_some() {
            "Events on the charts come from `events.csv`.".to_string()
        } else {
            format!("This run has no `events.csv`: crashes, recoveries and health-check marks are read off the backends' state at each bucket's end, so they are placed to within one bucket ({} s).", num(bucket))
        },
        "Utilisation averages every backend over the measured window, crashed time included, so a crash raises the imbalance figure of every strategy.".to_string(),
    ];
    for i in items {
        let _ = writeln!(o, "- {i}");
    }
    let palette = super::charts::PALETTE.len();
    if data.strategies.len() > palette {
        let _ = writeln!(
            o,
            "- With {} strategies and {palette} colours, chart colours repeat: tell strategies apart by their labels.",
            data.strategies.len()
        );
    }
}

#[cfg(test)]
mod tests;
