//! `report.md`: the scenario in a few lines, findings computed from the
//! numbers, the charts, the summary table (equal to `summary.csv`), and the
//! model's assumptions and limits. Rendered from [`RunData`] alone, so
//! `stickysim report DIR` can redo it from the files.

use super::charts::loss::pct_label;
use super::data::{RunData, ScenarioFacts};
use crate::metrics::{ControlKind, LossCause};
use crate::routing::StrategyKind;
use std::fmt::Write as _;

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
    super::verdict::warnings_md(&mut o, data);
    super::verdict::verdict_md(&mut o, data);
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
    at_a_glance(&mut o, data);
    if !charts.is_empty() {
        o.push_str("## Charts\n\n");
        for (file, alt) in charts {
            let _ = writeln!(o, "### {alt}\n\n![{alt}]({file})\n");
        }
    }
    o.push_str("## Summary table\n\nThe whole of `summary.csv` (column meanings in the project's `docs/output.md`).\n\n");
    summary_table(&mut o, data);
    o.push('\n');
    limits(&mut o, data);
    o
}

fn scenario_lines(o: &mut String, f: &ScenarioFacts, data: &RunData) {
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

/// The findings: plain sentences, each with the numbers behind it, in
/// report order.
pub fn findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(tradeoff_findings(data));
    out.extend(balance_findings(data));
    out.extend(loss_findings(data));
    // Placement: what a shared store or replicas saved, and what it cost.
    out.extend(placement_findings(data));
    out.extend(crash_findings(data));
    // New instances start cold under sticky routing.
    if let Some(line) = cold_instances_finding(data) {
        out.push(line);
    }
    out.extend(rejection_findings(data));
    out.extend(latency_findings(data));
    out
}

/// The trade-off, on the paired intervals of the verdict: which
/// strategies the data tells apart from the recommended one on the
/// objective, and which it cannot. With one replication nothing is called
/// better or worse.
fn tradeoff_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(v) = super::verdict::verdict_of(data) else {
        return out;
    };
    let Some(rec) = &v.recommended else {
        return out;
    };
    if v.comparisons.is_empty() {
        return out;
    }
    let col = v.objective.column;
    if !v.has_intervals() {
        out.push(format!(
            "With 1 replication the {} differences in `{col}` between `{rec}` and the other strategies are single samples: none is called better or worse here (run with `--replications` for paired intervals).",
            v.comparisons.len()
        ));
        return out;
    }
    let same: Vec<String> = v
        .comparisons
        .iter()
        .filter(|c| c.indistinguishable)
        .map(|c| format!("`{}`", c.strategy))
        .collect();
    let differ: Vec<String> = v
        .comparisons
        .iter()
        .filter(|c| !c.indistinguishable)
        .map(|c| {
            let (lo, hi) = c.diff.interval().unwrap_or((c.diff.mean, c.diff.mean));
            format!(
                "`{}` by {} [{}, {}]",
                c.strategy,
                super::verdict::num(c.diff.mean),
                super::verdict::num(lo),
                super::verdict::num(hi)
            )
        })
        .collect();
    let mut line = format!(
        "On `{col}`, paired over {} replications against `{rec}`:",
        v.replications
    );
    if !same.is_empty() {
        line.push_str(&format!(
            " {} cannot be told apart from it (the 95 % interval of the difference covers 0)",
            join_and(&same)
        ));
    }
    if !differ.is_empty() {
        if !same.is_empty() {
            line.push(';');
        }
        line.push_str(&format!(
            " the data tells it apart from {} (difference alternative − `{rec}`, 95 % interval)",
            join_and(&differ)
        ));
    }
    line.push('.');
    out.push(line);
    out
}

/// Balance: the most and the least lopsided strategy.
fn balance_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    let nb = data.backend_count.max(1) as f64;
    let fair = 100.0 * 1.0 / nb;
    let share = |s: usize| 100.0 * v(s, "max_backend_request_share");
    let worst = (0..n).max_by(|&a, &b| share(a).total_cmp(&share(b)).then(b.cmp(&a)));
    let best = (0..n).min_by(|&a, &b| share(a).total_cmp(&share(b)).then(a.cmp(&b)));
    if let (Some(w), Some(b)) = (worst, best) {
        if data.backend_count > 1 {
            let mut line = format!(
                "{} sent {}% of its requests to one backend (an even share is {}% of {} backends); its busiest backend ran at {}% utilisation, {:.2}× the mean",
                name(w),
                pct_label(share(w)),
                pct_label(fair),
                data.backend_count,
                pct_label(100.0 * v(w, "util_max")),
                v(w, "imbalance_util_max_over_mean"),
            );
            let kind = sm.kind(w);
            if kind.follows_source_ip() {
                if let Some((seg, pct)) = largest_address(data) {
                    // The address explains the excess only if it is a
                    // meaningful part of it.
                    let excess = share(w) - fair;
                    if excess > 0.0 && pct >= excess / 4.0 {
                        let how = if kind == StrategyKind::SourceIpTable {
                            "source-address affinity keeps all of one address's sessions on one backend"
                        } else {
                            "a source-address hash sends all of one address's sessions to one backend"
                        };
                        line.push_str(&format!(
                            "; {how}, and the largest address carries {}% of sessions ({seg})",
                            pct_label(pct)
                        ));
                    } else if excess > 0.0 {
                        line.push_str(&format!(
                            "; the largest client address carries only {}% of sessions ({seg}), too little to explain the {} points above an even share",
                            pct_label(pct),
                            pct_label(excess)
                        ));
                    }
                }
            }
            if b != w {
                line.push_str(&format!(
                    "; {}'s busiest backend took {}%",
                    name(b),
                    pct_label(share(b))
                ));
            }
            line.push('.');
            out.push(line);
        }
    }
    out
}

/// Session loss by cause, strategy by strategy.
fn loss_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    for (col, cause) in sm.loss_causes() {
        let mut hit: Vec<(usize, f64)> = (0..n)
            .filter(|&s| v(s, col) > 0.0 && v(s, "sessions") > 0.0)
            .map(|s| (s, 100.0 * v(s, col) / v(s, "sessions")))
            .collect();
        if hit.is_empty() {
            continue;
        }
        hit.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let parts: Vec<String> = hit
            .iter()
            .map(|&(s, p)| {
                format!(
                    "{} lost {}% of sessions ({})",
                    name(s),
                    pct_label(p),
                    count(v(s, col))
                )
            })
            .collect();
        let spared: Vec<String> = (0..n)
            .filter(|s| !hit.iter().any(|h| h.0 == *s))
            .map(name)
            .collect();
        let mut line = format!("{}: {}", cause_phrase(cause), parts.join("; "));
        if !spared.is_empty() {
            line.push_str(&format!("; {} lost none", join_and(&spared)));
        }
        line.push('.');
        out.push(line);
    }
    out
}

/// Requests that hit a crashed or stopped backend (failed, or failed and
/// were retried elsewhere), not counting those the store outage failed;
/// and the least-connections black hole after a crash.
fn crash_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    let store_est: Vec<f64> = (0..n)
        .map(|s| store_outage(data, s).map_or(0.0, |o| o.failed_est))
        .collect();
    let store = |s: usize| store_est[s];
    let hit = |s: usize| (v(s, "failed") + v(s, "retried") - store(s)).max(0.0);
    let crashed = |s: usize| data.events.is_none() || data.has_event(s, ControlKind::Crash);
    if (0..n).any(|s| hit(s) > 0.0) {
        let any_crash = (0..n).any(|s| data.has_event(s, ControlKind::Crash));
        let any_stop = (0..n).any(|s| data.has_event(s, ControlKind::Stopped));
        let what = match (data.events.is_some(), any_crash, any_stop) {
            (true, true, false) => "a crashed backend (sent before the health check marked it down, or in progress when it crashed)",
            (true, false, true) => "a backend that had stopped at the end of a drain (deploy or scale-in; in progress or queued when it stopped)",
            (true, true, true) => "a crashed or stopped backend (a crash: sent before the health check marked it down, or in progress; the end of a drain: in progress or queued when it stopped)",
            _ => "a backend that had stopped (crash, or end of a drain)",
        };
        let mut parts: Vec<String> = Vec::new();
        let mut none: Vec<String> = Vec::new();
        for s in 0..n {
            if hit(s) <= 0.0 {
                none.push(name(s));
                continue;
            }
            let failed = (v(s, "failed") - store(s)).max(0.0);
            let mut p = format!(
                "{} {} ({}% of requests",
                name(s),
                count(hit(s)),
                pct_label(100.0 * hit(s) / v(s, "requests").max(1.0))
            );
            if v(s, "retried") > 0.0 {
                p.push_str(&format!(
                    "; {} retried elsewhere, {} failed",
                    count(v(s, "retried")),
                    count(failed)
                ));
            }
            if store(s) > 0.0 {
                p.push_str(&format!(
                    "; not counting about {} failed by the store outage",
                    count(store(s))
                ));
            }
            p.push(')');
            parts.push(p);
        }
        let mut line = format!("Requests that reached {what}: {}", parts.join(", "));
        if !none.is_empty() {
            line.push_str(&format!("; {} none", join_and(&none)));
        }
        line.push('.');
        out.push(line);
        for s in 0..n {
            if sm.kind(s) != StrategyKind::LeastConn || !crashed(s) {
                continue;
            }
            let others: Vec<f64> = (0..n)
                .filter(|&o| o != s && sm.kind(o) != StrategyKind::LeastConn)
                .map(hit)
                .collect();
            if others.is_empty() {
                continue;
            }
            let median = median(&others);
            if hit(s) > 2.0 * median.max(1.0) {
                let mut line = format!(
                    "{} sent {} requests to a crashed backend, {:.1}× the other strategies' median of {}: a crashed backend has no outstanding requests, so least-connections pours requests into it until the health check notices",
                    name(s),
                    count(hit(s)),
                    hit(s) / median.max(1.0),
                    count(median)
                );
                if let Some((secs, share, fair)) = dead_share(data, s) {
                    line.push_str(&format!(
                        " (in the {} s of time buckets that began with a backend crashed but still marked up, {} sent {}% of its requests to it, against an even share of {}%)",
                        num(secs),
                        name(s),
                        pct_label(share),
                        pct_label(fair)
                    ));
                }
                line.push('.');
                out.push(line);
            }
        }
    }
    out
}

/// Rejections, per strategy.
fn rejection_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    for s in 0..n {
        let r = v(s, "rejected");
        if r > 0.0 {
            out.push(format!(
                "{} rejected {} requests ({}% of requests): no backend up, a full queue, or a pin it would not move.",
                name(s),
                count(r),
                pct_label(100.0 * r / v(s, "requests").max(1.0))
            ));
        }
    }
    out
}

/// Latency spread across the strategies.
fn latency_findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    if n > 1 {
        let by = |c: &str| {
            let lo = (0..n)
                .min_by(|&a, &b| v(a, c).total_cmp(&v(b, c)))
                .unwrap_or(0);
            let hi = (0..n)
                .max_by(|&a, &b| v(a, c).total_cmp(&v(b, c)))
                .unwrap_or(0);
            (lo, hi)
        };
        let (lo, hi) = by("latency_p99_ms");
        if v(lo, "latency_p99_ms") > 0.0 {
            out.push(format!(
                "p99 latency ranges from {} ms ({}) to {} ms ({}), {:.1}×; p50 from {} to {} ms.",
                num(v(lo, "latency_p99_ms")),
                name(lo),
                num(v(hi, "latency_p99_ms")),
                name(hi),
                v(hi, "latency_p99_ms") / v(lo, "latency_p99_ms"),
                num((0..n)
                    .map(|s| v(s, "latency_p50_ms"))
                    .fold(f64::INFINITY, f64::min)),
                num((0..n).map(|s| v(s, "latency_p50_ms")).fold(0.0, f64::max)),
            ));
        }
    }
    out
}

/// Per strategy whose state is `shared` or `replicated`: the losses it
/// avoided and its latency cost, against local state; and the effect of a
/// shared-store outage.
fn placement_findings(data: &RunData) -> Vec<String> {
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    let placement = |s: usize| sm.text(s, "placement");
    let local: Vec<usize> = (0..n).filter(|&s| placement(s) == "local").collect();
    // The local strategy that lost the fewest sessions (then: lowest p99).
    let best_local = local.iter().copied().min_by(|&a, &b| {
        v(a, "sessions_lost_pct")
            .total_cmp(&v(b, "sessions_lost_pct"))
            .then(v(a, "latency_p99_ms").total_cmp(&v(b, "latency_p99_ms")))
            .then(a.cmp(&b))
    });
    let mut out = Vec::new();
    for s in 0..n {
        let (what, cost) = match placement(s) {
            "shared" => ("shared store", "store round trip"),
            "replicated" => ("replicated state", "replication write"),
            _ => continue,
        };
        let mut line = if v(s, "sessions_lost") > 0.0 {
            format!(
                "{} ({what}) lost {}% of sessions ({})",
                name(s),
                pct_label(v(s, "sessions_lost_pct")),
                count(v(s, "sessions_lost"))
            )
        } else {
            format!("{} ({what}) lost no sessions", name(s))
        };
        let same = local.iter().copied().find(|&l| sm.kind(l) == sm.kind(s));
        if let Some(l) = same {
            line.push_str(&format!(
                ", where {} (the same routing, state in backend memory) lost {}% ({})",
                name(l),
                pct_label(v(l, "sessions_lost_pct")),
                count(v(l, "sessions_lost"))
            ));
        }
        line.push_str(&format!(
            ": the {} avoided {} losses (requests that reached a backend without the session's state and found it there: {}% of its requests, {} per session)",
            if placement(s) == "shared" { "store" } else { "replicas" },
            count(v(s, "losses_avoided")),
            pct_label(100.0 * v(s, "losses_avoided") / v(s, "requests").max(1.0)),
            {
                let x = v(s, "losses_avoided") / v(s, "sessions").max(1.0);
                if x >= 1.0 {
                    format!("{x:.1}")
                } else {
                    num(x)
                }
            },
        ));
        line.push_str(&format!(
            ". The cost: {} ms per request on average for the {cost} (mean latency {} ms)",
            num(v(s, "state_latency_mean_ms")),
            num(v(s, "latency_mean_ms"))
        ));
        if let Some(b) = best_local {
            line.push_str(&format!(
                "; p50 {} ms and p99 {} ms against {} ms and {} ms for {}, the local-state strategy that lost the fewest sessions ({}%)",
                num(v(s, "latency_p50_ms")),
                num(v(s, "latency_p99_ms")),
                num(v(b, "latency_p50_ms")),
                num(v(b, "latency_p99_ms")),
                name(b),
                pct_label(v(b, "sessions_lost_pct"))
            ));
        }
        line.push('.');
        out.push(line);
        if let Some(o) = store_outage(data, s) {
            let mut line = format!(
                "The shared store was down {} s in all ({} outage{}, the first at {}): every {} request in that time failed without reaching a backend",
                num(o.down_s),
                o.outages,
                if o.outages == 1 { "" } else { "s" },
                clock(o.first_s),
                name(s)
            );
            if o.buckets > 0 {
                line.push_str(&format!(
                    "; its backends received {} requests in the {} time bucket{} overlapping it against {} for the median local-state strategy, so about {} of its {} failed requests were the store's",
                    count(o.received),
                    o.buckets,
                    if o.buckets == 1 { "" } else { "s" },
                    count(o.baseline),
                    count(o.failed_est),
                    count(v(s, "failed"))
                ));
            } else {
                line.push_str(&format!(
                    "; it failed {} requests in all",
                    count(v(s, "failed"))
                ));
            }
            line.push('.');
            out.push(line);
        }
    }
    out
}

/// A shared-store outage as the files show it.
struct StoreOutage {
    /// Measured seconds the store was down, and how many outages.
    down_s: f64,
    outages: usize,
    first_s: f64,
    /// Measured buckets overlapping an outage; requests the strategy's
    /// backends received in them; the median of the local-state strategies'
    /// (the same workload, untouched by the store).
    buckets: usize,
    received: f64,
    baseline: f64,
    /// `baseline − received`: requests the outage failed, about (0 without
    /// a local-state strategy to compare with).
    failed_est: f64,
}

/// Strategy `s`'s shared-store outages (`store_down`/`store_up` in
/// `events.csv`), within the measured window; `None` if there were none.
fn store_outage(data: &RunData, s: usize) -> Option<StoreOutage> {
    let warm = data
        .meta
        .scenario_facts
        .as_ref()
        .map_or(0.0, |f| f.warmup_s);
    let end = data.end_s();
    let mut windows: Vec<(f64, f64)> = Vec::new();
    let mut down: Option<f64> = None;
    for e in data.events_of(s) {
        match e.event {
            ControlKind::StoreDown => down = down.or(Some(e.time_s)),
            ControlKind::StoreUp => {
                if let Some(t) = down.take() {
                    windows.push((t, e.time_s));
                }
            }
            _ => {}
        }
    }
    if let Some(t) = down {
        windows.push((t, end));
    }
    let windows: Vec<(f64, f64)> = windows
        .into_iter()
        .map(|(a, b)| (a.max(warm), b))
        .filter(|(a, b)| b > a)
        .collect();
    if windows.is_empty() {
        return None;
    }
    let overlaps = |t0: f64, t1: f64| windows.iter().any(|&(a, b)| a < t1 && t0 < b);
    let per_bucket = |x: usize| {
        let mut m: std::collections::BTreeMap<i64, f64> = Default::default();
        for r in data.backend_rows(x) {
            if r.t_start_s >= warm && overlaps(r.t_start_s, r.t_end_s) {
                *m.entry((r.t_start_s * 1000.0).round() as i64).or_default() += r.requests;
            }
        }
        m
    };
    let mine = per_bucket(s);
    let others: Vec<_> = (0..data.strategies.len())
        .filter(|&x| data.summary.text(x, "placement") == "local")
        .map(per_bucket)
        .collect();
    let (mut received, mut baseline, mut buckets) = (0.0, 0.0, 0);
    if !others.is_empty() {
        let keys: std::collections::BTreeSet<i64> =
            others.iter().flat_map(|m| m.keys().copied()).collect();
        for k in keys {
            let base: Vec<f64> = others
                .iter()
                .map(|m| m.get(&k).copied().unwrap_or(0.0))
                .collect();
            received += mine.get(&k).copied().unwrap_or(0.0);
            baseline += median(&base);
            buckets += 1;
        }
    }
    Some(StoreOutage {
        down_s: windows.iter().map(|(a, b)| b - a).sum(),
        outages: windows.len(),
        first_s: windows[0].0,
        buckets,
        received,
        baseline,
        failed_est: (baseline - received).max(0.0),
    })
}

/// Mean utilisation of instances launched during the run against those
/// present from the start, over the measured buckets in which both served
/// the whole bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cold {
    new_mean: f64,
    old_mean: f64,
    buckets: usize,
}

impl Cold {
    fn ratio(&self) -> f64 {
        self.new_mean / self.old_mean
    }
}

/// Strategy `s`'s [`Cold`] figures: over every bucket both kinds served,
/// and over the buckets a launched instance began within `window_s` of
/// first going into service (only those instances counted as new).
fn cold(data: &RunData, s: usize, window_s: f64) -> (Option<Cold>, Option<Cold>) {
    let warm = data
        .meta
        .scenario_facts
        .as_ref()
        .map_or(0.0, |f| f.warmup_s);
    let spans = data.service_spans(s);
    // Per bucket: (old, new, new early) utilisations.
    type Lists = (Vec<f64>, Vec<f64>, Vec<f64>);
    let mut by: std::collections::BTreeMap<i64, Lists> = Default::default();
    for r in data.backend_rows(s) {
        if r.t_start_s < warm {
            continue;
        }
        let Some(sp) = spans
            .iter()
            .find(|p| p.backend == r.backend && p.from_s <= r.t_start_s && r.t_end_s <= p.to_s)
        else {
            continue;
        };
        let e = by.entry((r.t_start_s * 1000.0).round() as i64).or_default();
        if !sp.launched {
            e.0.push(r.utilisation);
        } else {
            e.1.push(r.utilisation);
            if r.t_start_s - sp.first_in_service_s < window_s {
                e.2.push(r.utilisation);
            }
        }
    }
    let pooled = |pick: fn(&Lists) -> &Vec<f64>| {
        let (mut old, mut new, mut buckets) = (Vec::new(), Vec::new(), 0);
        for l in by.values() {
            if !l.0.is_empty() && !pick(l).is_empty() {
                old.extend_from_slice(&l.0);
                new.extend_from_slice(pick(l));
                buckets += 1;
            }
        }
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        (buckets > 0 && mean(&old) > 0.0).then(|| Cold {
            new_mean: mean(&new),
            old_mean: mean(&old),
            buckets,
        })
    };
    (pooled(|l| &l.1), pooled(|l| &l.2))
}

/// New instances (scale-out, deploy) start empty: with affinity, sessions
/// stay on the old ones. Compares, per strategy, the utilisation of
/// instances launched during the run with those present from the start.
fn cold_instances_finding(data: &RunData) -> Option<String> {
    let sm = &data.summary;
    let n = data.strategies.len();
    let launched = |s: usize| {
        data.events_of(s).any(|e| {
            e.event == ControlKind::ScaleOut
                || (e.event == ControlKind::BootStart && e.time_s > 0.0)
        })
    };
    if !(0..n).any(launched) {
        return None;
    }
    let scale = (0..n).any(|s| data.has_event(s, ControlKind::ScaleOut));
    let boots = |s: usize| {
        data.events_of(s)
            .filter(|e| e.event == ControlKind::BootStart && e.time_s > 0.0)
            .count()
    };
    let outs = |s: usize| {
        data.events_of(s)
            .filter(|e| e.event == ControlKind::ScaleOut)
            .count()
    };
    let deploy = (0..n).any(|s| boots(s) > outs(s));
    let by = match (scale, deploy) {
        (true, true) => "scale-out and deploys",
        (true, false) => "scale-out",
        _ => "the deploy",
    };
    // The early window: one mean session (requests × think time), at least
    // one bucket: the time pinned sessions take to move on.
    let bucket = data.meta.bucket_s;
    let session_s = data
        .meta
        .scenario_facts
        .as_ref()
        .map_or(0.0, |f| f.requests_per_session_mean * f.think_time_mean_s);
    let window = session_s.max(bucket);
    let figs: Vec<(usize, Option<Cold>, Option<Cold>)> = (0..n)
        .map(|s| {
            let (whole, early) = cold(data, s, window);
            (s, whole, early)
        })
        .filter(|(_, w, e)| w.is_some() || e.is_some())
        .collect();
    if figs.is_empty() {
        return None;
    }
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let sticky = |s: usize| sm.sticky(s);
    let pct = |x: f64| pct_label(100.0 * x);
    let early: Vec<(usize, Cold)> = figs.iter().filter_map(|f| f.2.map(|c| (f.0, c))).collect();
    let whole: Vec<(usize, Cold)> = figs.iter().filter_map(|f| f.1.map(|c| (f.0, c))).collect();
    // "0.65× under `a` (50.6% vs 77.9%)", sticky strategies first.
    let list = |xs: &[(usize, Cold)], with_pct: bool, affinity: bool| -> String {
        let parts: Vec<String> = xs
            .iter()
            .filter(|(s, _)| sticky(*s) == affinity)
            .map(|&(s, c)| {
                let mut p = format!("{:.2}× under {}", c.ratio(), name(s));
                if with_pct {
                    p.push_str(&format!(" ({}% vs {}%)", pct(c.new_mean), pct(c.old_mean)));
                } else {
                    p.push_str(&format!(" ({} buckets)", c.buckets));
                }
                p
            })
            .collect();
        join_and(&parts)
    };
    let both = |xs: &[(usize, Cold)], with_pct: bool| -> String {
        let (st, free) = (list(xs, with_pct, true), list(xs, with_pct, false));
        match (st.is_empty(), free.is_empty()) {
            (false, false) => format!("{st}, against {free} without affinity"),
            (false, true) => st,
            _ => format!("{free} (no affinity)"),
        }
    };
    let mut line;
    if early.is_empty() {
        line = format!(
            "Instances added by {by}, over the measured buckets in which they and those present from the start served the whole bucket, ran at this fraction of the latter's utilisation: {}",
            both(&whole, true)
        );
    } else {
        let f = data.meta.scenario_facts.as_ref();
        line = format!(
            "Instances added by {by}, in their first {} s in service ({}at least one {} s bucket; whole buckets in service only), ran at this fraction of the utilisation of the instances present from the start: {}",
            num(window),
            f.map_or(String::new(), |f| format!(
                "one mean session of {} requests × {} s think time, ",
                num(f.requests_per_session_mean),
                num(f.think_time_mean_s)
            )),
            num(bucket),
            both(&early, true)
        );
        let free_min = early
            .iter()
            .filter(|(s, _)| !sticky(*s))
            .map(|(_, c)| c.ratio())
            .fold(f64::INFINITY, f64::min);
        let colder: Vec<usize> = early
            .iter()
            .filter(|(s, c)| sticky(*s) && c.ratio() < free_min)
            .map(|&(s, _)| s)
            .collect();
        if free_min.is_finite() && !colder.is_empty() {
            line.push_str(&format!(
                ": under {} the new instances stayed colder than under any strategy without affinity, because sessions pinned to the old instances keep them busy and only new sessions reach the new ones",
                join_and(&colder.iter().map(|&s| name(s)).collect::<Vec<_>>())
            ));
        }
        if !whole.is_empty() {
            line.push_str(&format!(
                ". Over every measured bucket in which both served, the ratio is {}",
                both(&whole, false)
            ));
            let closes = colder.iter().all(|s| {
                let e = early.iter().find(|x| x.0 == *s).map(|x| x.1.ratio());
                let w = whole.iter().find(|x| x.0 == *s).map(|x| x.1.ratio());
                matches!((e, w), (Some(e), Some(w)) if w > e)
            });
            if !colder.is_empty() && closes {
                line.push_str(": the gap closes as the pinned sessions end");
            }
        }
    }
    line.push('.');
    Some(line)
}

/// The share of strategy `s`'s requests, in the buckets that began with a
/// backend crashed but still marked up (the state at the previous bucket's
/// end), that went to such backends: (seconds of such buckets, share %,
/// even share %). `None` when there is no such bucket.
fn dead_share(data: &RunData, s: usize) -> Option<(f64, f64, f64)> {
    let nb = data.backend_count as usize;
    let mut prev: Vec<(bool, bool)> = vec![(true, true); nb];
    // Per bucket start: (requests to dead-but-up backends, all requests, such backends).
    let mut buckets: Vec<(f64, f64, f64, f64)> = Vec::new();
    for r in data.backend_rows(s) {
        let (was_alive, was_up) = prev[r.backend as usize];
        prev[r.backend as usize] = (r.alive, r.lb_up);
        let i = match buckets.iter().position(|b| b.0 == r.t_start_s) {
            Some(i) => i,
            None => {
                buckets.push((r.t_start_s, 0.0, 0.0, 0.0));
                buckets.len() - 1
            }
        };
        let b = &mut buckets[i];
        b.2 += r.requests;
        if !was_alive && was_up {
            b.1 += r.requests;
            b.3 += 1.0;
        }
    }
    let window: Vec<_> = buckets.iter().filter(|b| b.3 > 0.0).collect();
    let total: f64 = window.iter().map(|b| b.2).sum();
    if window.is_empty() || total <= 0.0 {
        return None;
    }
    let to_dead: f64 = window.iter().map(|b| b.1).sum();
    let fair = 100.0 * window.iter().map(|b| b.3).sum::<f64>()
        / window.len() as f64
        / data.backend_count.max(1) as f64;
    Some((
        window.len() as f64 * data.meta.bucket_s,
        100.0 * to_dead / total,
        fair,
    ))
}

/// The client address carrying the largest share of sessions, if shared:
/// (description, % of sessions).
fn largest_address(data: &RunData) -> Option<(String, f64)> {
    let f = data.meta.scenario_facts.as_ref()?;
    f.clients
        .iter()
        .filter(|c| c.network != "direct")
        .map(|c| {
            (
                format!(
                    "{}: {} users behind each of {} addresses",
                    c.name,
                    c.users_per_ip,
                    count(c.addresses() as f64)
                ),
                100.0 * c.share / c.addresses() as f64,
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// How a loss-cause finding begins.
fn cause_phrase(cause: LossCause) -> &'static str {
    match cause {
        LossCause::Failure => "Lost to a backend crash",
        LossCause::IpChange => "Lost to a client address change",
        LossCause::CookieBlocked => "Lost because the client blocks cookies",
        LossCause::TtlExpired => "Lost to affinity-cookie expiry (TTL)",
        LossCause::Rebalanced => {
            "Lost to being sent elsewhere (no affinity, re-hash or redispatch)"
        }
        LossCause::Deploy => "Lost to a deploy",
        LossCause::ScaleIn => "Lost to a scale-in",
        LossCause::TokenRotation => "Lost to a token rotation",
    }
}

fn at_a_glance(o: &mut String, data: &RunData) {
    let sm = &data.summary;
    o.push_str("## At a glance\n\n");
    o.push_str("| strategy | sessions lost | main cause | failed requests | p99 latency | busiest backend | imbalance (max/mean) | top backend's share |\n");
    o.push_str("|---|--:|---|--:|--:|--:|--:|--:|\n");
    for s in 0..data.strategies.len() {
        let main = sm
            .loss_causes()
            .into_iter()
            .filter(|(c, _)| sm.num(s, c) > 0.0)
            .max_by(|a, b| sm.num(s, a.0).total_cmp(&sm.num(s, b.0)))
            .map_or("-", |(_, c)| c.name());
        let _ = writeln!(
            o,
            "| {} | {}% | {} | {} | {} ms | {}% | {:.2} | {}% |",
            md_escape(&data.strategies[s]),
            pct_label(sm.num(s, "sessions_lost_pct")),
            main,
            count(sm.num(s, "failed")),
            num(sm.num(s, "latency_p99_ms")),
            pct_label(100.0 * sm.num(s, "util_max")),
            sm.num(s, "imbalance_util_max_over_mean"),
            pct_label(100.0 * sm.num(s, "max_backend_request_share")),
        );
    }
    o.push('\n');
}

/// `summary.csv` as a Markdown table: same columns, same cells.
fn summary_table(o: &mut String, data: &RunData) {
    let sm = &data.summary;
    let esc: Vec<String> = sm.header.iter().map(|h| md_escape(h)).collect();
    let _ = writeln!(o, "| {} |", esc.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(sm.header.len()));
    for row in &sm.rows {
        let cells: Vec<String> = row.iter().map(|c| md_escape(c)).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
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
        "The load balancer itself never fails and decides instantly; it learns of a crash only through its health checks (no outlier detection), and retries a request that reached a dead backend at most once.".to_string(),
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

/// Escapes the characters that would break a Markdown table cell.
fn md_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|")
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} and {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}

/// A duration in the unit that reads best.
fn duration(s: f64) -> String {
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{} min", num(s / 60.0))
    } else {
        format!("{} s", num(s))
    }
}

/// A point in the run: "3 h 30 min", "2 min 10 s", "0 s".
fn clock(s: f64) -> String {
    let t = s.round().max(0.0) as i64;
    let parts: Vec<String> = [(t / 3600, "h"), ((t % 3600) / 60, "min"), (t % 60, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v} {u}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// A number with at most 3 significant decimals, no trailing zeros.
fn num(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A count with thousands separators: 12,345.
fn count(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two strategies on two backends, with a `lost_deploy` column that the
    /// code does not name: b1 crashes at 10 s and is marked down at 30 s;
    /// `lc` (least connections) sends it most requests meanwhile.
    fn synthetic() -> RunData {
        let summary = "strategy,kind,requests,failed,rejected,sessions,sessions_lost,sessions_lost_pct,\
lost_failure,lost_deploy,latency_p50_ms,latency_p95_ms,latency_p99_ms,latency_p999_ms,util_mean,util_max,\
imbalance_util_max_over_mean,max_backend_request_share\n\
rr,round_robin,1000,10,0,100,20,20.0000,5,15,10,20,30,40,0.5,0.55,1.1,0.52\n\
lc,least_conn,1000,90,0,100,4,4.0000,4,0,11,21,31,41,0.5,0.6,1.2,0.55\n";
        let json = r#"{"scenario":"syn","seed":1,"scenario_hash":"00","stickysim_version":"0","bucket_s":10.0,"workers":1,"strategies":[]}"#;
        let mut backends =
            String::from("strategy,backend,t_start_s,t_end_s,requests,utilisation,alive,lb_up\n");
        for (s, dead_reqs) in [("rr", 50), ("lc", 400)] {
            for (t, alive1, up1) in [(0, 1, 1), (10, 0, 1), (20, 0, 1), (30, 0, 0)] {
                let r1 = if alive1 == 0 && t > 0 && t < 30 {
                    dead_reqs
                } else {
                    50
                };
                backends.push_str(&format!("{s},b0,{t},{},50,0.5,1,1\n", t + 10));
                backends.push_str(&format!("{s},b1,{t},{},{r1},0.5,{alive1},{up1}\n", t + 10));
            }
        }
        RunData::from_files(&[
            ("summary.csv", summary.as_bytes()),
            ("summary.json", json.as_bytes()),
            ("backends.csv", backends.as_bytes()),
        ])
        .unwrap()
    }

    #[test]
    fn findings_cover_every_loss_column_and_the_least_conn_black_hole() {
        let f = findings(&synthetic());
        let all = f.join("\n");
        assert!(
            all.contains("Lost to a deploy: `rr` lost 15.0% of sessions (15); `lc` lost none."),
            "{all}"
        );
        assert!(all.contains("Lost to a backend crash: `rr` lost 5.00% of sessions (5); `lc` lost 4.00% of sessions (4)."), "{all}");
        // lc failed 90 against rr's 10: 9×; in the buckets starting with b1
        // dead but up (20–40 s), lc sent 450 of 550 requests there.
        assert!(
            all.contains("`lc` sent 90 requests to a crashed backend, 9.0×"),
            "{all}"
        );
        assert!(all.contains("in the 20 s of time buckets"), "{all}");
        assert!(
            all.contains("`lc` sent 81.8% of its requests to it, against an even share of 50.0%"),
            "{all}"
        );
        // One replication: no better/worse claim from single samples.
        assert!(
            all.contains("differences in `sessions_lost_pct` between `lc` and the other strategies are single samples"),
            "{all}"
        );
        // No black-hole finding for round robin.
        assert!(!all.contains("`rr` sent 10 requests to a crashed"), "{all}");
        // Every finding has a number behind it.
        for line in &f {
            assert!(
                line.chars().any(|c| c.is_ascii_digit()),
                "no number in: {line}"
            );
        }
    }

    #[test]
    fn the_report_renders_without_scenario_facts_or_charts() {
        let md = report_md(&synthetic(), &[]);
        assert!(md.contains("records no scenario facts"));
        assert!(!md.contains("## Charts"));
        assert!(md.contains("| rr | round_robin | 1000 |"));
    }

    /// `ck` (cookie, local state) and `rr` (round robin, shared store) on
    /// slots b0, b1 from the start; scale-out launches b2 (in service at
    /// 50 s); b1 is scaled in (drain 200 s, stopped 260 s) and its slot
    /// reused by a new instance (in service at 280 s). The store is down
    /// 130–150 s: `rr`'s backends get 60 requests each in that bucket
    /// instead of 100. No scenario facts: the early window is one bucket.
    fn elastic() -> RunData {
        let summary = "strategy,kind,requests,failed,retried,rejected,sessions,sessions_lost,sessions_lost_pct,\
lost_rebalanced,losses_avoided,latency_mean_ms,state_latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,\
latency_p999_ms,util_mean,util_max,imbalance_util_max_over_mean,max_backend_request_share,placement\n\
ck,lb_cookie,3000,0,0,0,100,10,10.0000,10,0,50,0.000,40,100,200,300,0.5,0.6,1.2,0.4,local\n\
rr,round_robin,3000,150,0,0,100,0,0.0000,0,400,52,2.000,41,101,210,310,0.5,0.5,1.0,0.34,shared\n";
        let json = r#"{"scenario":"el","seed":1,"scenario_hash":"00","stickysim_version":"0","bucket_s":60.0,"workers":1}"#;
        let mut events = String::from("strategy,time_s,event,backend\n");
        for s in ["ck", "rr"] {
            for (t, e, b) in [
                (30, "scale_out", "b2"),
                (30, "boot_start", "b2"),
                (50, "in_service", "b2"),
                (200, "scale_in", "b1"),
                (200, "drain_start", "b1"),
                (260, "stopped", "b1"),
                (270, "scale_out", "b1"),
                (270, "boot_start", "b1"),
                (280, "in_service", "b1"),
            ] {
                events.push_str(&format!("{s},{t}.000,{e},{b}\n"));
            }
        }
        events.push_str("rr,130.000,store_down,\nrr,150.000,store_up,\n");
        let mut backends =
            String::from("strategy,backend,t_start_s,t_end_s,requests,utilisation,alive,lb_up\n");
        // (strategy, old utilisation, b2's by bucket, b1's new instance)
        for (s, old, b2, b1_new) in [
            ("ck", 0.6, [0.1, 0.2, 0.5, 0.6, 0.6, 0.6], 0.3),
            ("rr", 0.5, [0.1, 0.4, 0.5, 0.5, 0.5, 0.5], 0.5),
        ] {
            for (i, u2) in b2.into_iter().enumerate() {
                let t = i * 60;
                let req = if s == "rr" && t == 120 { 60 } else { 100 };
                let b1 = if t >= 300 { b1_new } else { old };
                for (b, u) in [(0, old), (1, b1), (2, u2)] {
                    backends.push_str(&format!("{s},b{b},{t},{},{req},{u},1,1\n", t + 60));
                }
            }
        }
        RunData::from_files(&[
            ("summary.csv", summary.as_bytes()),
            ("summary.json", json.as_bytes()),
            ("backends.csv", backends.as_bytes()),
            ("events.csv", events.as_bytes()),
        ])
        .unwrap()
    }

    #[test]
    fn new_instances_are_told_apart_by_boot_start_and_compared_while_both_serve() {
        let d = elastic();
        let spans = d.service_spans(0);
        // b0 from the start; b1 from the start until its drain, then anew
        // from 280 s; b2 from 50 s.
        assert_eq!(spans.len(), 4, "{spans:?}");
        assert!(spans
            .iter()
            .any(|p| p.backend == 1 && !p.launched && p.to_s == 200.0));
        assert!(spans
            .iter()
            .any(|p| p.backend == 1 && p.launched && p.from_s == 280.0));
        let all = findings(&d).join("\n");
        // ck early (buckets at 60 s and 300 s): new 0.2 and 0.3 against old
        // 0.6 → 0.42×; whole (60–360 s): new 0.2, 0.5, 0.6, 0.6, 0.6, 0.3
        // = 0.467 against 0.6 → 0.78×. rr early: 0.4, 0.5 against 0.5 →
        // 0.90×; whole 2.9 / 6 / 0.5 → 0.97×.
        assert!(
            all.contains("in their first 60 s in service (at least one 60 s bucket; whole buckets in service only), ran at this fraction of the utilisation of the instances present from the start: 0.42× under `ck` (25.0% vs 60.0%), against 0.90× under `rr` (45.0% vs 50.0%) without affinity: under `ck` the new instances stayed colder"),
            "{all}"
        );
        assert!(
            all.contains("the ratio is 0.78× under `ck` (5 buckets), against 0.97× under `rr` (5 buckets) without affinity: the gap closes"),
            "{all}"
        );
    }

    #[test]
    fn placement_finding_gives_losses_avoided_latency_cost_and_the_store_outage() {
        let all = findings(&elastic()).join("\n");
        assert!(
            all.contains("`rr` (shared store) lost no sessions: the store avoided 400 losses (requests that reached a backend without the session's state and found it there: 13.3% of its requests, 4.0 per session). The cost: 2 ms per request on average for the store round trip (mean latency 52 ms); p50 41 ms and p99 210 ms against 40 ms and 200 ms for `ck`, the local-state strategy that lost the fewest sessions (10.0%)."),
            "{all}"
        );
        assert!(
            all.contains("The shared store was down 20 s in all (1 outage, the first at 2 min 10 s): every `rr` request in that time failed without reaching a backend; its backends received 180 requests in the 1 time bucket overlapping it against 300 for the median local-state strategy, so about 120 of its 150 failed requests were the store's."),
            "{all}"
        );
        // No crash in events.csv: the failed requests left are drain stops,
        // and the store outage's are not counted again.
        assert!(
            all.contains("Requests that reached a backend that had stopped at the end of a drain (deploy or scale-in; in progress or queued when it stopped): `rr` 30 (1.00% of requests; not counting about 120 failed by the store outage); `ck` none."),
            "{all}"
        );
        assert!(!all.contains("crashed"), "{all}");
    }

    fn with_clients(mut d: RunData, kind: &str, users_per_ip: u32) -> RunData {
        let c = d.summary.header.iter().position(|h| h == "kind").unwrap();
        d.summary.rows[1][c] = kind.to_string();
        d.summary.kinds[1] = StrategyKind::from_name(kind).unwrap();
        d.summary.sticky[1] = d.summary.kinds[1].is_sticky();
        d.meta.scenario_facts = Some(ScenarioFacts {
            duration_s: 40.0,
            warmup_s: 0.0,
            session_rate: 1.0,
            rate_profile: false,
            requests_per_session_mean: 1.0,
            think_time_mean_s: 1.0,
            service_time_mean_s: 0.1,
            clients: vec![super::super::data::ClientFacts {
                name: "office".into(),
                share: 1.0,
                users: 100,
                network: "nat".into(),
                users_per_ip,
                ip_change_rate: 0.0,
                cookie_block: 0.0,
            }],
            backends: 2,
            workers: 1,
            queue_limit: None,
            health_check_interval_s: 10.0,
            unhealthy_threshold: 2,
            healthy_threshold: 2,
            session_state: "local".into(),
            faults: vec![],
        });
        d
    }

    #[test]
    fn the_source_address_explanation_needs_an_address_big_enough() {
        // `lc` takes 55% against an even 50%: 5 points above.
        // 10 users per address: 10 addresses of 10% each explain it.
        let all = findings(&with_clients(synthetic(), "source_ip_table", 10)).join("\n");
        assert!(
            all.contains("; source-address affinity keeps all of one address's sessions on one backend, and the largest address carries 10.0% of sessions"),
            "{all}"
        );
        assert!(!all.contains("hash"), "{all}");
        let all = findings(&with_clients(synthetic(), "source_ip", 10)).join("\n");
        assert!(all.contains("; a source-address hash sends"), "{all}");
        // 1 user per address: 1% each, under a quarter of 5 points.
        let all = findings(&with_clients(synthetic(), "source_ip", 1)).join("\n");
        assert!(
            all.contains("; the largest client address carries only 1.00% of sessions (office: 1 users behind each of 100 addresses), too little to explain the 5.00 points above an even share"),
            "{all}"
        );
        assert!(!all.contains("hash sends"), "{all}");
    }

    #[test]
    fn number_formats() {
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(12.0), "12");
        assert_eq!(num(0.04 * 1000.0), "40");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(duration(14400.0), "4 h");
        assert_eq!(duration(600.0), "10 min");
        assert_eq!(clock(12600.0), "3 h 30 min");
        assert_eq!(clock(130.0), "2 min 10 s");
        assert_eq!(clock(0.0), "0 s");
        assert_eq!(md_escape("a|b"), "a\\|b");
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
