//! New instances start cold: the utilisation of instances launched during
//! the run against those present from the start, for the findings.

use super::text::{join_and, num};
use crate::metrics::ControlKind;
use crate::report::charts::loss::pct_label;
use crate::report::data::RunData;

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
    let warm = data.warmup_s();
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
pub(super) fn cold_instances_finding(data: &RunData) -> Option<String> {
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
