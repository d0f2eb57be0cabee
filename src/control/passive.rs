//! Passive health checks: what a load balancer concludes about a backend
//! from the requests it sends there, per product (`passive_health`).
//!
//! - **nginx** `max_fails` / `fail_timeout` (`ngx_http_upstream_round_robin.c`):
//!   a failed attempt does `fails++; accessed = checked = now`; a peer with
//!   `fails >= max_fails` and `now - checked <= fail_timeout` is skipped;
//!   picking a peer whose `now - checked > fail_timeout` sets `checked =
//!   now`; an answer resets `fails` only if `accessed < checked` (a pick
//!   came after the last failure's timeout). So after `max_fails` failures
//!   the peer is out for `fail_timeout`, then gets traffic again, and the
//!   next failure puts it out at once.
//! - **Envoy** `outlier_detection` (`outlier_detection_impl.cc`): every
//!   failure the model makes is a locally-originated one Envoy maps to 503
//!   (connect) or 504 (timeout): a 5xx and a gateway failure. A counter that
//!   reaches its threshold (`==`) ejects the host unless it is ejected
//!   already, if `enforcing_*` is 100 and fewer than `max_ejection_percent`
//!   of the hosts are ejected (`100 × ejected / hosts < max_ejection_percent`,
//!   so the first ejection always happens unless it is 0), and is reset.
//!   An ejection raises the host's back-off (while `backoff × base <
//!   max + base`); the `interval` timer (from the start of the run) returns
//!   an ejected host once `min(base × backoff, max_ejection_time)` has
//!   passed since its ejection (resetting its counters) and lowers the
//!   back-off of every host not ejected by one. An answer resets both counters.
//! - **HAProxy** `observe` / `error-limit` / `on-error` (`check.c`,
//!   `__health_adjust`): `layer4` counts connection errors (a hung server
//!   accepted the connection: that is a layer-4 success), `layer7` read
//!   timeouts too; an answer resets the count; at `error-limit` the
//!   `on-error` action applies to the server's health-check state and the
//!   count restarts.
//!
//! Ejection (nginx, Envoy) takes the backend out of the balancer's pool the
//! way a failed health check does, so every strategy skips it as it skips
//! a backend marked down (an Envoy-style table is rebuilt without it); the
//! engine applies a [`Verdict`] and keeps the active checks' view beside it.
//! Simplifications: nginx's per-worker state is one worker's (or a shared
//! `zone`); nginx's `effective_weight` reduction on failure and Envoy's
//! panic threshold, success-rate and failure-percentage detectors are not
//! modelled; HAProxy `fastinter` changes nothing (the checks keep one
//! interval).

use super::HealthState;
use crate::model::failure::Outcome;
use crate::routing::BackendId;
use crate::scenario::{Observe, OnError, PassiveHealth};
use crate::sim::Nanos;

/// What a result means for the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changes.
    Keep,
    /// Eject it (take it out of the pool); nginx names when to look again
    /// ([`Passive::due`]), Envoy returns hosts at its interval sweep.
    Eject {
        /// nginx: the first instant its `fail_timeout` has passed.
        recheck_ns: Option<Nanos>,
    },
    /// HAProxy: apply this `on-error` action to its health-check state.
    OnError(OnError),
}

/// One backend's passive-health state (every product's fields; each
/// product uses its own).
#[derive(Debug, Clone, Copy, Default)]
struct Peer {
    // nginx
    fails: u32,
    accessed_ns: Nanos,
    checked_ns: Nanos,
    // Envoy
    consecutive_5xx: u32,
    consecutive_gateway: u32,
    backoff: u32,
    ejected_at_ns: Nanos,
    // HAProxy
    errors: u32,
    /// nginx / Envoy: ejected (Envoy: `FAILED_OUTLIER_CHECK`).
    ejected: bool,
    /// The engine took it out of the pool for the ejection (it was up).
    holds_pool: bool,
    /// While held out, the active checks came to find it down.
    active_down: bool,
}

/// The passive-health state of one strategy's load balancer.
#[derive(Debug, Clone)]
pub struct Passive {
    cfg: PassiveHealth,
    peers: Vec<Peer>,
    /// Envoy: hosts ejected now.
    ejected: u32,
}

impl Passive {
    /// No backend has failed yet.
    pub fn new(cfg: PassiveHealth) -> Self {
        Passive {
            cfg,
            peers: Vec::new(),
            ejected: 0,
        }
    }

    /// The configuration.
    pub fn cfg(&self) -> &PassiveHealth {
        &self.cfg
    }

    fn peer(&mut self, b: BackendId) -> &mut Peer {
        if b.index() >= self.peers.len() {
            self.peers.resize(b.index() + 1, Peer::default());
        }
        &mut self.peers[b.index()]
    }

    /// A new instance took slot `b`: it starts with a clean record.
    pub fn reset(&mut self, b: BackendId) {
        let p = self.peer(b);
        let was = p.ejected;
        *p = Peer::default();
        if was {
            self.ejected -= 1;
        }
    }

    /// nginx: the balancer picked `b` at `now` (`get_peer`: a pick after
    /// `fail_timeout` since the last check is a new check).
    #[inline]
    pub fn sent(&mut self, now: Nanos, b: BackendId) {
        if let PassiveHealth::Nginx {
            fail_timeout_ns, ..
        } = self.cfg
        {
            let p = self.peer(b);
            if now.saturating_sub(p.checked_ns) > fail_timeout_ns {
                p.checked_ns = now;
            }
        }
    }

    /// An attempt on `b` ended at `now` with `outcome`; `hosts` is how many
    /// backends the balancer knows (Envoy's `max_ejection_percent`).
    pub fn result(&mut self, now: Nanos, b: BackendId, outcome: Outcome, hosts: usize) -> Verdict {
        let cfg = self.cfg.clone();
        let ejected_now = self.ejected;
        let p = self.peer(b);
        match cfg {
            PassiveHealth::Nginx {
                max_fails,
                fail_timeout_ns,
            } => {
                if outcome == Outcome::Answered {
                    if p.accessed_ns < p.checked_ns {
                        p.fails = 0;
                    }
                    return Verdict::Keep;
                }
                p.fails = p.fails.saturating_add(1);
                p.accessed_ns = now;
                p.checked_ns = now;
                if p.fails >= max_fails {
                    p.ejected = true;
                    return Verdict::Eject {
                        recheck_ns: Some(now.saturating_add(fail_timeout_ns).saturating_add(1)),
                    };
                }
                Verdict::Keep
            }
            PassiveHealth::Envoy {
                consecutive_5xx,
                consecutive_gateway_failure,
                enforcing_5xx,
                enforcing_gateway,
                base_ejection_ns,
                max_ejection_ns,
                max_ejection_percent,
                ..
            } => {
                if outcome == Outcome::Answered {
                    p.consecutive_5xx = 0;
                    p.consecutive_gateway = 0;
                    return Verdict::Keep;
                }
                // Gateway failures are counted first, then 5xx (`putHttpResponseCode`).
                let mut eject = false;
                p.consecutive_gateway = p.consecutive_gateway.saturating_add(1);
                if p.consecutive_gateway == consecutive_gateway_failure && !p.ejected {
                    eject |= enforcing_gateway;
                    p.consecutive_gateway = 0;
                }
                p.consecutive_5xx = p.consecutive_5xx.saturating_add(1);
                if p.consecutive_5xx == consecutive_5xx && !p.ejected {
                    eject |= enforcing_5xx;
                    p.consecutive_5xx = 0;
                }
                let room = hosts > 0
                    && (100.0 * f64::from(ejected_now) / hosts as f64)
                        < f64::from(max_ejection_percent);
                if !(eject && room) {
                    return Verdict::Keep;
                }
                p.ejected = true;
                p.ejected_at_ns = now;
                if u128::from(p.backoff) * u128::from(base_ejection_ns)
                    < u128::from(max_ejection_ns) + u128::from(base_ejection_ns)
                {
                    p.backoff += 1;
                }
                self.ejected += 1;
                Verdict::Eject { recheck_ns: None }
            }
            PassiveHealth::Haproxy {
                observe,
                error_limit,
                on_error,
            } => {
                let error = match outcome {
                    Outcome::Answered => false,
                    Outcome::ConnectFailed => true,
                    Outcome::TimedOut => observe == Observe::Layer7,
                };
                if !error {
                    p.errors = 0;
                    return Verdict::Keep;
                }
                p.errors += 1;
                if p.errors < error_limit {
                    return Verdict::Keep;
                }
                p.errors = 0;
                Verdict::OnError(on_error)
            }
        }
    }

    /// nginx: whether `b`, ejected, is due back at `now` (its
    /// `fail_timeout` has passed since the last check); if so it is no
    /// longer ejected.
    pub fn due(&mut self, now: Nanos, b: BackendId) -> bool {
        let PassiveHealth::Nginx {
            fail_timeout_ns, ..
        } = self.cfg
        else {
            return false;
        };
        let p = self.peer(b);
        if p.ejected && now.saturating_sub(p.checked_ns) > fail_timeout_ns {
            p.ejected = false;
            return true;
        }
        false
    }

    /// Envoy's interval timer at `now`: the hosts whose ejection time has
    /// passed come back (appended to `back`, in slot order); hosts not
    /// ejected lower their back-off.
    pub fn sweep(&mut self, now: Nanos, back: &mut Vec<BackendId>) {
        let PassiveHealth::Envoy {
            base_ejection_ns,
            max_ejection_ns,
            ..
        } = self.cfg
        else {
            return;
        };
        for (i, p) in self.peers.iter_mut().enumerate() {
            if !p.ejected {
                p.backoff = p.backoff.saturating_sub(1);
                continue;
            }
            let span = (u64::from(p.backoff))
                .saturating_mul(base_ejection_ns)
                .min(max_ejection_ns);
            if span <= now.saturating_sub(p.ejected_at_ns) {
                p.ejected = false;
                p.consecutive_5xx = 0;
                p.consecutive_gateway = 0;
                self.ejected -= 1;
                back.push(BackendId::from_index(i));
            }
        }
    }

    /// Whether `b` is ejected.
    pub fn is_ejected(&self, b: BackendId) -> bool {
        self.peers.get(b.index()).is_some_and(|p| p.ejected)
    }

    /// Whether the engine holds `b` out of the pool for an ejection.
    pub fn holds_pool(&self, b: BackendId) -> bool {
        self.peers.get(b.index()).is_some_and(|p| p.holds_pool)
    }

    /// The engine took `b` out of the pool for its ejection (or let go:
    /// `false`, which returns whether the active checks found it down
    /// meanwhile).
    pub fn set_holds_pool(&mut self, b: BackendId, holds: bool) -> bool {
        let p = self.peer(b);
        p.holds_pool = holds;
        let down = p.active_down;
        p.active_down = false;
        down
    }

    /// While `b` is held out, the active checks found it down (`true`) or
    /// healthy again (`false`).
    pub fn set_active_down(&mut self, b: BackendId, down: bool) {
        self.peer(b).active_down = down;
    }
}

impl HealthState {
    /// HAProxy `on-error` on a server with `unhealthy_threshold` (`fall`):
    /// true when the server is now to be marked down. `fail-check` is one
    /// failed check, `sudden-death` leaves it one failed check from down
    /// (or takes it down if it was that close), `mark-down` takes it down.
    pub fn on_error(&mut self, action: OnError, unhealthy_threshold: u32) -> bool {
        match action {
            OnError::Fastinter => false,
            OnError::FailCheck => self.failed(unhealthy_threshold),
            OnError::SuddenDeath => {
                let pre_fatal = unhealthy_threshold.saturating_sub(1);
                self.ok_streak = 0;
                self.fail_streak = self.fail_streak.saturating_add(1).max(pre_fatal);
                self.fail_streak >= unhealthy_threshold
            }
            OnError::MarkDown => {
                self.ok_streak = 0;
                self.fail_streak = self.fail_streak.max(unhealthy_threshold);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: BackendId = BackendId(0);
    const S: Nanos = 1_000_000_000;

    fn nginx(max_fails: u32) -> Passive {
        Passive::new(PassiveHealth::Nginx {
            max_fails,
            fail_timeout_ns: 10 * S,
        })
    }

    fn envoy(max_ejection_percent: u32) -> Passive {
        Passive::new(PassiveHealth::Envoy {
            consecutive_5xx: 5,
            consecutive_gateway_failure: 5,
            enforcing_5xx: true,
            enforcing_gateway: false,
            interval_ns: 10 * S,
            base_ejection_ns: 30 * S,
            max_ejection_ns: 300 * S,
            max_ejection_percent,
        })
    }

    const FAIL: Outcome = Outcome::ConnectFailed;

    #[test]
    fn nginx_disables_a_peer_after_max_fails_for_fail_timeout() {
        let mut p = nginx(3);
        p.sent(S, B);
        assert_eq!(p.result(S, B, FAIL, 4), Verdict::Keep);
        assert_eq!(p.result(2 * S, B, FAIL, 4), Verdict::Keep);
        // Answers within fail_timeout of the last failure do not reset `fails`.
        p.sent(3 * S, B);
        assert_eq!(p.result(3 * S, B, Outcome::Answered, 4), Verdict::Keep);
        assert_eq!(
            p.result(4 * S, B, FAIL, 4),
            Verdict::Eject {
                recheck_ns: Some(14 * S + 1)
            }
        );
        assert!(!p.due(14 * S, B));
        assert!(p.due(14 * S + 1, B));
        // Back with `fails` still at the limit: the next failure puts it out
        // again at once...
        p.sent(15 * S, B);
        assert!(matches!(
            p.result(15 * S, B, FAIL, 4),
            Verdict::Eject { .. }
        ));
        // ...and an answer to a pick made after the timeout clears it.
        assert!(p.due(26 * S, B));
        p.sent(26 * S, B);
        assert_eq!(p.result(26 * S, B, Outcome::Answered, 4), Verdict::Keep);
        assert_eq!(p.result(27 * S, B, FAIL, 4), Verdict::Keep);
    }

    #[test]
    fn nginx_answers_after_a_check_reset_the_count() {
        let mut p = nginx(2);
        assert_eq!(p.result(0, B, FAIL, 4), Verdict::Keep);
        // A pick more than fail_timeout later is a check; its answer clears.
        p.sent(11 * S, B);
        p.result(11 * S, B, Outcome::Answered, 4);
        assert_eq!(p.result(12 * S, B, FAIL, 4), Verdict::Keep);
    }

    #[test]
    fn envoy_ejects_on_the_fifth_consecutive_failure_and_backs_off() {
        let mut p = envoy(10);
        for i in 0..4 {
            assert_eq!(p.result(i, B, FAIL, 8), Verdict::Keep);
        }
        // An answer resets the count.
        p.result(4, B, Outcome::Answered, 8);
        for i in 0..4 {
            assert_eq!(p.result(10 + i, B, FAIL, 8), Verdict::Keep);
        }
        assert_eq!(
            p.result(20, B, FAIL, 8),
            Verdict::Eject { recheck_ns: None }
        );
        // Failures of an ejected host eject nothing more.
        for i in 0..10 {
            assert_eq!(p.result(30 + i, B, FAIL, 8), Verdict::Keep);
        }
        let mut back = Vec::new();
        p.sweep(20 + 30 * S - 1, &mut back);
        assert!(back.is_empty());
        p.sweep(20 + 30 * S, &mut back);
        assert_eq!(back, [B]);
        // Ejected again before a sweep lowered the back-off: twice as long.
        for i in 0..5 {
            p.result(40 * S + i, B, FAIL, 8);
        }
        assert!(p.is_ejected(B));
        back.clear();
        p.sweep(40 * S + 60 * S - 1, &mut back);
        assert!(back.is_empty());
        p.sweep(40 * S + 60 * S + 4, &mut back);
        assert_eq!(back, [B]);
        // Two sweeps while healthy lower it back to nothing; the next
        // ejection lasts `base_ejection_time` again.
        p.sweep(110 * S, &mut back);
        p.sweep(120 * S, &mut back);
        for i in 0..5 {
            p.result(130 * S + i, B, FAIL, 8);
        }
        back.clear();
        p.sweep(130 * S + 30 * S + 4, &mut back);
        assert_eq!(back, [B]);
    }

    #[test]
    fn envoy_keeps_to_max_ejection_percent_but_always_ejects_one() {
        let mut p = envoy(10);
        let c = BackendId(1);
        for i in 0..5 {
            p.result(i, B, FAIL, 8);
        }
        assert!(p.is_ejected(B));
        // 1 of 8 ejected = 12.5 % ≥ 10 %: no second ejection.
        for i in 0..10 {
            assert_eq!(p.result(i, c, FAIL, 8), Verdict::Keep);
        }
        assert!(!p.is_ejected(c));
        // max_ejection_percent 0 never ejects.
        let mut p = envoy(0);
        for i in 0..10 {
            assert_eq!(p.result(i, B, FAIL, 8), Verdict::Keep);
        }
    }

    #[test]
    fn envoy_gateway_failures_eject_only_when_enforced() {
        let mut p = Passive::new(PassiveHealth::Envoy {
            consecutive_5xx: 7,
            consecutive_gateway_failure: 3,
            enforcing_5xx: true,
            enforcing_gateway: true,
            interval_ns: 10 * S,
            base_ejection_ns: 30 * S,
            max_ejection_ns: 300 * S,
            max_ejection_percent: 100,
        });
        p.result(0, B, FAIL, 4);
        p.result(1, B, FAIL, 4);
        assert!(matches!(p.result(2, B, FAIL, 4), Verdict::Eject { .. }));
    }

    #[test]
    fn haproxy_layer4_does_not_see_a_hung_server() {
        let cfg = |observe| PassiveHealth::Haproxy {
            observe,
            error_limit: 2,
            on_error: OnError::MarkDown,
        };
        let mut l4 = Passive::new(cfg(Observe::Layer4));
        let mut l7 = Passive::new(cfg(Observe::Layer7));
        for _ in 0..5 {
            assert_eq!(l4.result(0, B, Outcome::TimedOut, 4), Verdict::Keep);
        }
        assert_eq!(l7.result(0, B, Outcome::TimedOut, 4), Verdict::Keep);
        assert_eq!(
            l7.result(0, B, Outcome::TimedOut, 4),
            Verdict::OnError(OnError::MarkDown)
        );
        // The count restarts after the action.
        assert_eq!(l7.result(0, B, Outcome::TimedOut, 4), Verdict::Keep);
        assert_eq!(l4.result(0, B, FAIL, 4), Verdict::Keep);
        assert_eq!(
            l4.result(0, B, FAIL, 4),
            Verdict::OnError(OnError::MarkDown)
        );
    }

    #[test]
    fn haproxy_on_error_actions_move_the_check_state() {
        let fresh = HealthState::default();
        let mut h = fresh;
        assert!(!h.on_error(OnError::FailCheck, 3));
        assert!(!h.on_error(OnError::FailCheck, 3));
        assert!(h.on_error(OnError::FailCheck, 3));
        let mut h = fresh;
        assert!(!h.on_error(OnError::SuddenDeath, 3));
        assert_eq!(h.fail_streak, 2);
        assert!(h.on_error(OnError::SuddenDeath, 3));
        let mut h = fresh;
        assert!(h.on_error(OnError::SuddenDeath, 1));
        let mut h = fresh;
        assert!(h.on_error(OnError::MarkDown, 3));
        let mut h = fresh;
        assert!(!h.on_error(OnError::Fastinter, 1));
    }
}
