//! The findings of `report.md`: plain sentences, each with the numbers
//! behind it, one function per finding.

use super::cold::cold_instances_finding;
use super::store::store_outage;
use super::text::{clock, count, join_and, median, num};
use crate::metrics::{ControlKind, LossCause};
use crate::report::charts::loss::pct_label;
use crate::report::data::RunData;
use crate::routing::StrategyKind;

/// The findings: plain sentences, each with the numbers behind it, in
/// report order.
pub fn findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(tradeoff_findings(data));
    out.extend(balance_findings(data));
    out.extend(loss_findings(data));
    // Placement: what a shared store or replicas saved, and what it cost.
    let best = best_local(data);
    for s in 0..data.strategies.len() {
        if let Some(line) = placement_finding(data, s, best) {
            out.push(line);
            out.extend(store_outage_finding(data, s));
        }
    }
    let store = store_failed(data);
    let hits = dead_hits(data, &store);
    out.extend(dead_backend_finding(data, &hits, &store));
    out.extend(least_conn_findings(data, &hits));
    out.extend(super::passive::passive_health_findings(data, &hits));
    // New instances start cold under sticky routing.
    if let Some(line) = cold_instances_finding(data) {
        out.push(line);
    }
    // Returning users keep a recovered or added backend cold.
    out.extend(super::returning::returning_cold_finding(data));
    out.extend(super::storm::retry_storm_findings(data));
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
    let Ok(v) = crate::report::verdict::verdict_of(data) else {
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
                crate::report::verdict::num(c.diff.mean),
                crate::report::verdict::num(lo),
                crate::report::verdict::num(hi)
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

/// Per strategy: requests a shared-store outage failed, about (0 without
/// one).
fn store_failed(data: &RunData) -> Vec<f64> {
    (0..data.strategies.len())
        .map(|s| store_outage(data, s).map_or(0.0, |o| o.failed_est))
        .collect()
}

/// Per strategy: requests that hit a crashed or stopped backend (failed,
/// or failed and were retried elsewhere), not counting the `store` outage's.
fn dead_hits(data: &RunData, store: &[f64]) -> Vec<f64> {
    let v = |s: usize, c: &str| data.summary.num(s, c);
    (0..data.strategies.len())
        .map(|s| (v(s, "failed") + v(s, "retried") - store[s]).max(0.0))
        .collect()
}

/// Requests that reached a crashed or stopped backend, strategy by
/// strategy (`hits` from [`dead_hits`], `store` from [`store_failed`]).
fn dead_backend_finding(data: &RunData, hits: &[f64], store: &[f64]) -> Option<String> {
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| data.summary.num(s, c);
    if !hits.iter().any(|&h| h > 0.0) {
        return None;
    }
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
        let hit = hits[s];
        if hit <= 0.0 {
            none.push(name(s));
            continue;
        }
        let failed = (v(s, "failed") - store[s]).max(0.0);
        let mut p = format!(
            "{} {} ({}% of requests",
            name(s),
            count(hit),
            pct_label(100.0 * hit / v(s, "requests").max(1.0))
        );
        if v(s, "retried") > 0.0 {
            p.push_str(&format!(
                "; {} retried elsewhere, {} failed",
                count(v(s, "retried")),
                count(failed)
            ));
        }
        if store[s] > 0.0 {
            p.push_str(&format!(
                "; not counting about {} failed by the store outage",
                count(store[s])
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
    Some(line)
}

/// The least-connections black hole after a crash, per least-connections
/// strategy that sent a crashed backend far more than the others' median
/// (`hits` from [`dead_hits`]).
fn least_conn_findings(data: &RunData, hits: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let crashed = |s: usize| data.events.is_none() || data.has_event(s, ControlKind::Crash);
    for s in 0..n {
        if sm.kind(s) != StrategyKind::LeastConn || !crashed(s) {
            continue;
        }
        let others: Vec<f64> = (0..n)
            .filter(|&o| o != s && sm.kind(o) != StrategyKind::LeastConn)
            .map(|o| hits[o])
            .collect();
        if others.is_empty() {
            continue;
        }
        let median = median(&others);
        let hit = hits[s];
        if hit > 2.0 * median.max(1.0) {
            let mut line = format!(
                "{} sent {} requests to a crashed backend, {:.1}× the other strategies' median of {}: a crashed backend has no outstanding requests, so least-connections pours requests into it until the health check notices",
                name(s),
                count(hit),
                hit / median.max(1.0),
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

/// The strategies whose session state is in backend memory.
fn local_strategies(data: &RunData) -> Vec<usize> {
    (0..data.strategies.len())
        .filter(|&s| data.summary.text(s, "placement") == "local")
        .collect()
}

/// The local-state strategy that lost the fewest sessions (then: the
/// lowest p99).
fn best_local(data: &RunData) -> Option<usize> {
    let v = |s: usize, c: &str| data.summary.num(s, c);
    local_strategies(data).into_iter().min_by(|&a, &b| {
        v(a, "sessions_lost_pct")
            .total_cmp(&v(b, "sessions_lost_pct"))
            .then(v(a, "latency_p99_ms").total_cmp(&v(b, "latency_p99_ms")))
            .then(a.cmp(&b))
    })
}

/// Per strategy whose state is `shared` or `replicated`: the losses it
/// avoided and its latency cost, against local state (`best_local` from
/// [`best_local`]); `None` for local state.
fn placement_finding(data: &RunData, s: usize, best_local: Option<usize>) -> Option<String> {
    let sm = &data.summary;
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    let placement = |s: usize| sm.text(s, "placement");
    let local = local_strategies(data);
    let (what, cost) = match placement(s) {
        "shared" => ("shared store", "store round trip"),
        "replicated" => ("replicated state", "replication write"),
        _ => return None,
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
    Some(line)
}

/// The effect of strategy `s`'s shared-store outages, if it had any.
fn store_outage_finding(data: &RunData, s: usize) -> Option<String> {
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| data.summary.num(s, c);
    let o = store_outage(data, s)?;
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
