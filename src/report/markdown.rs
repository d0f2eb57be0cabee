//! `report.md`: the scenario in a few lines, findings computed from the
//! numbers, the charts, the summary table (equal to `summary.csv`), and the
//! model's assumptions and limits. Rendered from [`RunData`] alone, so
//! `stickysim report DIR` can redo it from the files.

use super::charts::loss::pct_label;
use super::data::{RunData, ScenarioFacts};
use std::fmt::Write as _;

/// Renders `report.md`. `charts` lists the charts written beside it
/// (file name, alt text), in the order they are shown.
pub fn report_md(data: &RunData, charts: &[(&str, &str)]) -> String {
    let m = &data.meta;
    let mut o = String::new();
    let _ = writeln!(o, "# Stickiness report: {}\n", m.scenario);
    let _ = writeln!(
        o,
        "Scenario `{}`, seed {}, scenario hash `{}`, stickysim {}. \
         Every figure below comes from `summary.csv`, `backends.csv` and \
         `summary.json` in this directory; `stickysim report <this directory>` \
         redraws the charts and this report from them.\n",
        m.scenario, m.seed, m.scenario_hash, m.stickysim_version
    );
    o.push_str("## The scenario\n\n");
    match &m.facts {
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
        if f.session_state == "local" {
            "in the memory of the backend that created it: a request that lands elsewhere loses it"
        } else {
            "in a shared store: nothing is lost, every request pays a store round trip"
        }
    );
    if f.faults.is_empty() {
        o.push_str("- Faults: none.\n");
    } else {
        let _ = writeln!(o, "- Faults: {}.", f.faults.join("; "));
    }
    let _ = data;
}

/// The findings: plain sentences, each with the numbers behind it.
pub fn findings(data: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);

    // The trade-off: strategies no other beats on both balance and loss.
    if n > 1 {
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|s| {
                (
                    v(s, "imbalance_util_max_over_mean"),
                    v(s, "sessions_lost_pct"),
                )
            })
            .collect();
        let front: Vec<usize> = (0..n)
            .filter(|&a| {
                !(0..n).any(|b| {
                    b != a
                        && pts[b].0 <= pts[a].0
                        && pts[b].1 <= pts[a].1
                        && (pts[b].0 < pts[a].0 || pts[b].1 < pts[a].1)
                })
            })
            .collect();
        let desc: Vec<String> = front
            .iter()
            .map(|&s| {
                format!(
                    "{} (imbalance {:.2}, {}% of sessions lost)",
                    name(s),
                    pts[s].0,
                    pct_label(pts[s].1)
                )
            })
            .collect();
        if front.len() == n {
            out.push(format!(
                "On the trade-off chart, no strategy is matched or beaten on both balance and session loss by another; each buys one with the other: {}.",
                join_and(&desc)
            ));
        } else {
            out.push(format!(
                "On the trade-off chart, no other strategy is at least as good on both balance and session loss as {}; each of the others is matched or beaten on both by one of these.",
                join_and(&desc)
            ));
        }
    }

    // Balance: the most and the least lopsided strategy.
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
            if sm.text(w, "kind").contains("ip") {
                if let Some((seg, pct)) = largest_address(data) {
                    line.push_str(&format!(
                        "; a source-address hash sends all of one address's sessions to one backend, and the largest address carries {}% of sessions ({seg})",
                        pct_label(pct)
                    ));
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

    // Session loss by cause, strategy by strategy.
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

    // Failed requests, and the least-connections black hole after a crash.
    let failed: Vec<(usize, f64)> = (0..n).map(|s| (s, v(s, "failed"))).collect();
    if failed.iter().any(|f| f.1 > 0.0) {
        let parts: Vec<String> = failed
            .iter()
            .map(|&(s, f)| {
                format!(
                    "{} {} ({}% of requests)",
                    name(s),
                    count(f),
                    pct_label(100.0 * f / v(s, "requests").max(1.0))
                )
            })
            .collect();
        out.push(format!(
            "Requests that failed at a crashed backend (sent before the health check marked it down, or in progress when it crashed): {}.",
            parts.join(", ")
        ));
        for s in 0..n {
            if !sm.text(s, "kind").contains("least") {
                continue;
            }
            let others: Vec<f64> = (0..n)
                .filter(|&o| o != s && !sm.text(o, "kind").contains("least"))
                .map(|o| v(o, "failed"))
                .collect();
            if others.is_empty() {
                continue;
            }
            let median = median(&others);
            if v(s, "failed") > 2.0 * median.max(1.0) {
                let mut line = format!(
                    "{} failed {} requests, {:.1}× the other strategies' median of {}: a crashed backend has no outstanding requests, so least-connections pours requests into it until the health check notices",
                    name(s),
                    count(v(s, "failed")),
                    v(s, "failed") / median.max(1.0),
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

    // Rejections.
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

    // Latency spread.
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
    let f = data.meta.facts.as_ref()?;
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

fn cause_phrase(cause: &str) -> String {
    match cause {
        "failure" => "Lost to a backend crash".into(),
        "ip_change" => "Lost to a client address change".into(),
        "cookie_blocked" => "Lost because the client blocks cookies".into(),
        "ttl_expired" => "Lost to affinity-cookie expiry (TTL)".into(),
        "rebalanced" => "Lost to being sent elsewhere (no affinity, re-hash or redispatch)".into(),
        "deploy" => "Lost to a deploy".into(),
        "scale_in" => "Lost to a scale-in".into(),
        "token_rotation" => "Lost to a token rotation".into(),
        other => format!("Lost to `{other}`"),
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
            .map_or("-".to_string(), |(_, c)| c.to_string());
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
        "One run, one seed: every figure is a single sample, without a confidence interval. Differences of a few tenths of a percent can be noise; run other seeds to see the spread.".to_string(),
        "Every strategy faces the identical workload (same arrivals, clients, address changes, think and service times, faults); only routing differs.".to_string(),
        "A session counts as lost once, under the cause of its first loss; `loss_events` counts every loss.".to_string(),
        "Latency is queue wait + service time (+ one store round trip with shared state). Network time, TLS, load-balancer processing and client retries are not modelled; percentiles come from an HDR histogram with 3 significant digits.".to_string(),
        "Think times and service times are drawn independently from the scenario's distributions; users act independently of one another; the users behind a NAT or CGNAT pool share its addresses evenly.".to_string(),
        "The load balancer itself never fails and decides instantly; it learns of a crash only through its health checks.".to_string(),
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
        if i > 0 && (digits.len() - i) % 3 == 0 {
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
        assert!(all.contains("`lc` failed 90 requests, 9.0×"), "{all}");
        assert!(all.contains("in the 20 s of time buckets"), "{all}");
        assert!(
            all.contains("`lc` sent 81.8% of its requests to it, against an even share of 50.0%"),
            "{all}"
        );
        assert!(
            all.contains("no strategy is matched or beaten on both"),
            "{all}"
        );
        // No black-hole finding for round robin.
        assert!(!all.contains("`rr` failed 10 requests,"), "{all}");
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

    #[test]
    fn number_formats() {
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(12.0), "12");
        assert_eq!(num(0.04 * 1000.0), "40");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(duration(14400.0), "4 h");
        assert_eq!(duration(600.0), "10 min");
        assert_eq!(md_escape("a|b"), "a\\|b");
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
