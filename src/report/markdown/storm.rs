//! The retry-storm finding: when users retry (`[[clients]] retry`), how
//! much more than the users meant to send each strategy's backends were
//! asked for — the users' retries and the load balancer's — and how many
//! sessions were abandoned; and what a retry budget bought against the
//! strategy that amplified most.

use super::text::count;
use crate::report::data::RunData;

/// One strategy's amplification: requests the users meant to send
/// (`requests − client_retries`), attempts the backends were sent
/// (`requests + retried`), and abandoned sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Amplification {
    pub(super) meant: f64,
    pub(super) sent: f64,
    pub(super) abandoned: f64,
    pub(super) sessions: f64,
    pub(super) over_budget: f64,
}

impl Amplification {
    /// Attempts per request the users meant to send.
    pub(super) fn factor(&self) -> f64 {
        if self.meant > 0.0 {
            self.sent / self.meant
        } else {
            1.0
        }
    }
}

/// Every strategy's amplification, from `summary.csv`.
pub(super) fn amplifications(data: &RunData) -> Vec<Amplification> {
    let sm = &data.summary;
    (0..data.strategies.len())
        .map(|s| {
            let v = |c: &str| sm.num(s, c);
            Amplification {
                meant: v("requests") - v("client_retries"),
                sent: v("requests") + v("retried"),
                abandoned: v("abandoned"),
                sessions: v("sessions"),
                over_budget: v("retries_over_budget"),
            }
        })
        .collect()
}

/// The finding, when users retried or gave up in some strategy's run: the
/// strategy that amplified most (attempts per request meant), its
/// abandoned sessions, and each strategy whose retry budget refused
/// retries against it.
pub(super) fn retry_storm_findings(data: &RunData) -> Vec<String> {
    let sm = &data.summary;
    let a = amplifications(data);
    let users_retry =
        (0..a.len()).any(|s| sm.num(s, "client_retries") > 0.0 || a[s].abandoned > 0.0);
    if !users_retry {
        return Vec::new();
    }
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let pct = |x: f64, of: f64| if of > 0.0 { 100.0 * x / of } else { 0.0 };
    let worst = (0..a.len())
        .max_by(|&x, &y| a[x].factor().total_cmp(&a[y].factor()))
        .expect("a run has strategies");
    let w = a[worst];
    let mut out = vec![format!(
        "Retry storm: under {} the backends were sent {:.2}× the requests the users meant to send ({} attempts for {}: {} user retries and {} load-balancer retries), and {} sessions ({:.1} %) were abandoned when the users' retries ran out.",
        name(worst),
        w.factor(),
        count(w.sent),
        count(w.meant),
        count(sm.num(worst, "client_retries")),
        count(sm.num(worst, "retried")),
        count(w.abandoned),
        pct(w.abandoned, w.sessions),
    )];
    for s in (0..a.len()).filter(|&s| s != worst && a[s].over_budget > 0.0) {
        let b = a[s];
        let fewer = w.abandoned - b.abandoned;
        out.push(format!(
            "What the retry budget bought: {} refused {} retries over its budget and sent {:.2}× the requests meant, against {:.2}× under {}; {} sessions were abandoned ({:.1} %), {} {} than under {}.",
            name(s),
            count(b.over_budget),
            b.factor(),
            w.factor(),
            name(worst),
            count(b.abandoned),
            pct(b.abandoned, b.sessions),
            count(fewer.abs()),
            if fewer >= 0.0 { "fewer" } else { "more" },
            name(worst),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factor_is_attempts_per_request_meant() {
        let a = Amplification {
            meant: 1000.0,
            sent: 1500.0,
            abandoned: 3.0,
            sessions: 300.0,
            over_budget: 0.0,
        };
        assert_eq!(a.factor(), 1.5);
        let none = Amplification { meant: 0.0, ..a };
        assert_eq!(none.factor(), 1.0);
    }
}
