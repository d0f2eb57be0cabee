//! Returning users pin a backend that came back (recovered, or added by a
//! deploy or scale-out) cold: users who keep their cookies between visits
//! (`cookie_jar = "user"`) go back to the backend of their last visit, so
//! only new users reach it. Measured as the backend's share of requests in
//! the windows after it went (back) into service, against its fair share.

use super::text::{clock, join_and};
use crate::report::charts::loss::pct_label;
use crate::report::data::RunData;
use crate::routing::StrategyKind;

/// Width of one window after the comeback, seconds (or one bucket if wider).
const WINDOW_S: f64 = 600.0;
/// Windows measured after a comeback.
const WINDOWS: usize = 3;
/// A backend below this fraction of its fair share in the first window is cold.
const COLD: f64 = 0.5;

/// One backend's return to service and its share of requests after it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Comeback {
    /// The backend slot.
    pub(super) backend: u32,
    /// When it went (back) into service, seconds.
    pub(super) at_s: f64,
    /// A new instance (as opposed to one that recovered).
    pub(super) launched: bool,
    /// Its share of requests in each whole window after `at_s`.
    pub(super) shares: Vec<f64>,
    /// One over the mean number of backends in service in the first window.
    pub(super) fair: f64,
}

/// Strategy `s`'s comebacks after the warm-up with at least one whole
/// window of requests.
pub(super) fn comebacks(data: &RunData, s: usize) -> Vec<Comeback> {
    let warm = data.warmup_s();
    let end = data.end_s();
    let width = WINDOW_S.max(data.meta.bucket_s);
    let mut out = Vec::new();
    for sp in data.service_spans(s) {
        if sp.from_s <= 0.0 || sp.from_s < warm {
            continue;
        }
        let until = sp.to_s.min(end);
        let mut shares = Vec::new();
        let mut fair = 0.0;
        for k in 0..WINDOWS {
            let (w0, w1) = (
                sp.from_s + k as f64 * width,
                sp.from_s + (k + 1) as f64 * width,
            );
            if w1 > until + 1e-9 {
                break;
            }
            // Buckets starting in the window.
            let (mut mine, mut all) = (0.0, 0.0);
            let mut up = std::collections::BTreeMap::<i64, u32>::new();
            for r in data.backend_rows(s) {
                if r.t_start_s < w0 - 1e-9 || r.t_start_s >= w1 - 1e-9 {
                    continue;
                }
                all += r.requests;
                if r.backend == sp.backend {
                    mine += r.requests;
                }
                *up.entry((r.t_start_s * 1000.0).round() as i64).or_default() += u32::from(r.lb_up);
            }
            if all <= 0.0 || up.is_empty() {
                break;
            }
            if k == 0 {
                let mean_up = up.values().sum::<u32>() as f64 / up.len() as f64;
                fair = 1.0 / mean_up.max(1.0);
            }
            shares.push(mine / all);
        }
        if !shares.is_empty() {
            out.push(Comeback {
                backend: sp.backend,
                at_s: sp.from_s,
                launched: sp.launched,
                shares,
                fair,
            });
        }
    }
    out
}

/// The finding, when some users return with their cookies and a cookie
/// strategy left a backend that came back below half its fair share.
pub(super) fn returning_cold_finding(data: &RunData) -> Option<String> {
    let facts = data.meta.scenario_facts.as_ref()?;
    let returning: Vec<&str> = facts
        .clients
        .iter()
        .filter(|c| c.returning)
        .map(|c| c.name.as_str())
        .collect();
    if returning.is_empty() {
        return None;
    }
    let sm = &data.summary;
    let n = data.strategies.len();
    let cookie = |s: usize| matches!(sm.kind(s), StrategyKind::LbCookie | StrategyKind::AppCookie);
    let pct = |x: f64| format!("{} %", pct_label(100.0 * x));
    let mut cold: Vec<(usize, Comeback)> = Vec::new();
    for s in (0..n).filter(|&s| cookie(s)) {
        // The coldest comeback of the strategy.
        let worst = comebacks(data, s)
            .into_iter()
            .filter(|c| c.shares[0] < COLD * c.fair)
            .min_by(|a, b| (a.shares[0] / a.fair).total_cmp(&(b.shares[0] / b.fair)));
        if let Some(c) = worst {
            cold.push((s, c));
        }
    }
    let (s0, c0) = cold.first()?;
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let backend = data.meta.backend_name(c0.backend);
    let how = if c0.launched {
        "went into service"
    } else {
        "came back into service"
    };
    let width = WINDOW_S.max(data.meta.bucket_s);
    let shares: Vec<String> = c0.shares.iter().map(|&x| pct(x)).collect();
    let mut line = format!(
        "Returning users keep {} off {backend} after it {how} at {}: it took {} of requests in \
         the {} after, against a fair share of {}.",
        name(*s0),
        clock(c0.at_s),
        join_and(&shares),
        if shares.len() == 1 {
            format!("{} window", clock(width))
        } else {
            format!("successive {} windows", clock(width))
        },
        pct(c0.fair)
    );
    let others: Vec<String> = cold[1..]
        .iter()
        .map(|(s, c)| format!("{} {}", name(*s), pct(c.shares[0])))
        .collect();
    if !others.is_empty() {
        line.push_str(&format!(
            " Also cold in the first window under {}.",
            join_and(&others)
        ));
    }
    // The same comeback under a strategy without cookies, for contrast.
    let contrast = (0..n).filter(|&s| !sm.sticky(s)).find_map(|s| {
        comebacks(data, s)
            .into_iter()
            .find(|c| c.backend == c0.backend && (c.at_s - c0.at_s).abs() < width)
            .map(|c| (s, c.shares[0]))
    });
    if let Some((s, share)) = contrast {
        line.push_str(&format!(
            " Without affinity ({}) it took {} at once.",
            name(s),
            pct(share)
        ));
    }
    line.push_str(&format!(
        " Users of {} keep their cookies between visits (`cookie_jar = \"user\"`): they come \
         back to the backend of their last visit while the cookie lives, so only new users and \
         expired cookies reach a backend that was away or is new — a cookie that lives a day \
         (ALB's default) keeps it cold for up to a day. A shorter cookie TTL, or state that \
         survives a move (a shared store), lets it fill up sooner.",
        join_and(
            &returning
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
        )
    ));
    Some(line)
}
