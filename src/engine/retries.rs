//! Retries, the load balancer's and the user's. The load balancer tries a
//! failed attempt again as its retry policy says (`[[strategies]] retry`;
//! the decision is [`crate::model::lb_retry::decide`]). When it gives up,
//! the user sees the error (`[[clients]] retry`): the request comes back
//! after a delay, as a new request to the load balancer, until the user's
//! retries run out and the session is abandoned (the decision is
//! [`crate::model::retry::after_error`]). This schedules both.

use super::event::Ev;
use super::world::World;
use super::TraceKind;
use crate::model::failure::Outcome;
use crate::model::lb_retry::{decide, AttemptFailure, LbNext};
use crate::model::retry::{after_error, AfterError};
use crate::model::{Pending, Request, RequestId, SessionId};
use crate::routing::BackendId;
use crate::sim::{stream, Nanos, Stream};

impl Pending {
    /// What a request in service drew, to send it again.
    pub(super) fn of(r: &Request) -> Self {
        Pending {
            start_ns: r.start_ns,
            demand_s: r.demand_s,
            state_s: r.state_ns as f64 / 1e9,
            measured: r.measured,
            failed_on: BackendId(u32::MAX),
            lb_retries: 0,
            again: false,
        }
    }
}

impl World<'_> {
    /// Attempt `p` of session `sid` failed on backend `b` with `cause`:
    /// schedules the load balancer's retry and returns `true`, or returns
    /// `false` when there is none (the request then fails or is rejected).
    pub(super) fn lb_retry(
        &mut self,
        now: Nanos,
        sid: SessionId,
        b: BackendId,
        p: Pending,
        cause: AttemptFailure,
    ) -> bool {
        let Some(policy) = &self.lb.retry else {
            return false;
        };
        // A replayed session may have another request waiting for its
        // retry already: this one then gets none.
        let free = self
            .work
            .pending
            .get(sid.index())
            .is_none_or(Option::is_none);
        if !free {
            return false;
        }
        let pool = &self.lb.pool;
        let up_here = pool.get(b).health == crate::routing::Health::Up;
        let others = pool.up().len() - usize::from(up_here);
        let active = pool.total_outstanding() + self.lb.retry_waiting;
        let under_way = self.lb.retry_waiting + self.lb.retry_admitted;
        match decide(policy, cause, p.lb_retries, others, under_way, active) {
            LbNext::GiveUp => false,
            LbNext::OverBudget => {
                if p.measured {
                    self.out.rec.retries_over_budget += 1;
                }
                false
            }
            LbNext::Retry { same_backend } => {
                if p.measured {
                    self.out.rec.retried += 1;
                }
                let pending = &mut self.work.pending;
                if sid.index() >= pending.len() {
                    pending.resize(sid.index() + 1, None);
                }
                pending[sid.index()] = Some(Pending {
                    failed_on: b,
                    lb_retries: p.lb_retries + 1,
                    again: same_backend,
                    ..p
                });
                self.lb.retry_waiting += 1;
                // A dead backend costs the connect timeout; a full one
                // answers its 503 at once.
                let delay = match cause {
                    AttemptFailure::Error => self.sc.health_check.retry_delay_ns,
                    AttemptFailure::Overloaded | AttemptFailure::Timeout => 0,
                };
                self.q.schedule(now.saturating_add(delay), Ev::Retry(sid));
                true
            }
        }
    }

    /// A request of session `sid` (what it drew: `p`) failed or was
    /// rejected, its load balancer's retries spent: the user sends it again
    /// later, gives up, or (without `retry`) goes on with the session.
    pub(super) fn request_error(&mut self, now: Nanos, sid: SessionId, p: Pending) {
        let sc = self.sc;
        let s = self.work.sessions.get_mut(sid);
        let retry = sc.clients[usize::from(s.segment)].retry.as_ref();
        // Replayed requests are the log's: the log already holds the
        // retries its users made.
        if retry.is_none() || self.work.replay.is_some() {
            return self.continue_session(now, sid);
        }
        let index = s.no.wrapping_mul(16) ^ u64::from(s.client_retries);
        let mut rng = stream(sc.simulation.seed, Stream::ClientRetry, index);
        match after_error(retry, s.client_retries, &mut rng) {
            AfterError::GoOn => self.continue_session(now, sid),
            AfterError::Retry { delay_ns } => {
                s.client_retries += 1;
                let resend = &mut self.work.resend;
                if sid.index() >= resend.len() {
                    resend.resize(sid.index() + 1, None);
                }
                debug_assert!(resend[sid.index()].is_none());
                resend[sid.index()] = Some(p);
                self.q
                    .schedule(now.saturating_add(delay_ns), Ev::Resend(sid));
            }
            AfterError::Abandon => {
                if s.measured {
                    self.out.rec.abandoned += 1;
                }
                self.log(now, sid, TraceKind::Abandoned);
                self.close_session(now, sid, true);
            }
        }
    }

    /// The per-try timeout of attempt `tag` (request `rid`, on backend `b`)
    /// passed. If it is still queued or in service, the load balancer gives
    /// up on it — the backend goes on and finishes it for nothing — and
    /// retries it or answers the user with an error.
    pub(super) fn on_try_timeout(&mut self, now: Nanos, rid: RequestId, tag: u64) {
        let Some(r) = self.work.requests.try_get(rid) else {
            return;
        };
        if r.tag != tag || r.orphan {
            return; // answered (its slot reused) or already given up on
        }
        let r = *r;
        let b = r.backend;
        self.work.requests.get_mut(rid).orphan = true;
        self.lb.pool.remove_outstanding(b);
        self.passive_result(now, b, Outcome::TimedOut);
        self.lb.retry_admitted -= u64::from(r.lb_retries > 0);
        let sid = r.session;
        self.log(now, sid, TraceKind::Failed(b));
        let p = Pending {
            failed_on: b,
            lb_retries: r.lb_retries,
            ..Pending::of(&r)
        };
        if self.lb_retry(now, sid, b, p, AttemptFailure::Timeout) {
            return;
        }
        if p.measured {
            self.out.rec.failed += 1;
            self.out.rec.timed_out += 1;
        }
        self.request_error(now, sid, p);
    }

    /// The user of session `sid` sends the request that failed again: a
    /// new request to the load balancer, with what the first one drew.
    pub(super) fn on_resend(&mut self, now: Nanos, sid: SessionId) {
        let p = self.work.resend[sid.index()]
            .take()
            .expect("a resend has its request");
        let measured = self.out.rec.measured(now);
        if measured {
            self.out.rec.requests += 1;
            self.out.rec.client_retries += 1;
        }
        let p = Pending {
            start_ns: now,
            measured,
            failed_on: BackendId(u32::MAX),
            lb_retries: 0,
            again: false,
            ..p
        };
        self.dispatch(now, sid, p, None);
    }
}
