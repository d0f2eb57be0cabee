//! What a dead or hung backend does to a request and when the load
//! balancer learns of it: attempts held until their timeout on a crashed
//! backend ([`crate::model::failure`]), and the passive health checks
//! ([`crate::control::passive`]) fed with every attempt's outcome, whose
//! verdicts take backends out of the pool and put them back.

use super::event::Ev;
use super::world::World;
use super::TraceKind;
use crate::control::passive::Verdict;
use crate::control::Life;
use crate::metrics::ControlKind;
use crate::model::failure::{attempt_fails_at, held_fails_at, Outcome};
use crate::model::{Epoch, InstanceNo, Pending, Request, SessionId};
use crate::routing::{BackendId, Health};
use crate::scenario::PassiveHealth;
use crate::sim::Nanos;

/// An attempt waiting on a crashed backend for its timeout.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) sid: SessionId,
    pub(super) p: Pending,
    pub(super) b: BackendId,
    /// The backend's incarnation and instance when it was counted
    /// outstanding there.
    epoch: Epoch,
    inst: InstanceNo,
    /// A retry of a failed first attempt.
    retry: bool,
    /// Queued or in service when the backend crashed (fails without a retry).
    in_flight: bool,
    outcome: Outcome,
    /// Failed already, when the instance it waited on stopped; the slab
    /// entry stays until its event comes, so its id is not reused before.
    pub(super) done: bool,
}

impl World<'_> {
    /// An attempt routed to backend `b`, which is not running: refused at
    /// once (`reset`), or held until the connect or read timeout.
    pub(super) fn dead_backend(
        &mut self,
        now: Nanos,
        sid: SessionId,
        b: BackendId,
        p: Pending,
        is_retry: bool,
    ) {
        let mode = self.fleet.slots[b.index()].down_mode;
        match attempt_fails_at(
            mode,
            now,
            self.lb.connect_timeout_ns,
            self.lb.read_timeout_ns,
        ) {
            None => {
                self.passive_result(now, b, Outcome::ConnectFailed);
                self.refused(now, sid, b, p, is_retry);
            }
            Some((at, outcome)) => {
                self.lb.pool.add_outstanding(b);
                self.hold(at, sid, p, b, is_retry, false, outcome);
            }
        }
    }

    /// Request `r`, queued or in service on backend `b` as it crashes now:
    /// held until its read timeout unless the crash resets it (`false`).
    /// The caller counts it outstanding once the crash has cleared the
    /// backend's count.
    pub(super) fn hold_crashed(&mut self, now: Nanos, b: BackendId, r: &Request) -> bool {
        let mode = self.fleet.slots[b.index()].down_mode;
        let sent = r.start_ns.saturating_add(r.retry_wait_ns);
        let Some(at) = held_fails_at(mode, now, sent, self.lb.read_timeout_ns) else {
            self.passive_result(now, b, Outcome::ConnectFailed);
            return false;
        };
        let p = Pending {
            start_ns: r.start_ns,
            demand_s: r.demand_s,
            state_s: 0.0,
            measured: r.measured,
            failed_on: b,
            lb_retries: r.lb_retries,
            again: false,
        };
        self.hold(at, r.session, p, b, false, true, Outcome::TimedOut);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn hold(
        &mut self,
        at: Nanos,
        sid: SessionId,
        p: Pending,
        b: BackendId,
        retry: bool,
        in_flight: bool,
        outcome: Outcome,
    ) {
        let h = self.work.held.insert(Held {
            sid,
            p,
            b,
            epoch: self.fleet.backends[b.index()].epoch,
            inst: self.fleet.slots[b.index()].instance,
            retry,
            in_flight,
            outcome,
            done: false,
        });
        self.q.schedule(at, Ev::Held(h));
    }

    /// A held attempt times out: it fails, and is retried (or not) as a
    /// refused one is.
    pub(super) fn on_held(&mut self, now: Nanos, h: u32) {
        let held = self.work.held.remove(h);
        if held.done {
            return;
        }
        let b = held.b;
        let bi = b.index();
        if self.fleet.backends[bi].epoch == held.epoch {
            self.lb.pool.remove_outstanding(b);
        }
        if self.fleet.slots[bi].instance == held.inst {
            self.passive_result(now, b, held.outcome);
        }
        if held.in_flight {
            if held.p.measured {
                self.out.rec.failed += 1;
            }
            self.log(now, held.sid, TraceKind::Failed(b));
            return self.request_error(now, held.sid, held.p);
        }
        self.refused(now, held.sid, b, held.p, held.retry);
    }

    /// Instance `inst` in slot `b` stopped (end of a drain): what waited on
    /// it fails now, as its connections are gone with it.
    pub(super) fn release_held(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        if self.work.held.is_empty() {
            return;
        }
        let ids: Vec<u32> = (0..self.work.held.capacity_used() as u32)
            .filter(|&h| {
                self.work
                    .held
                    .try_get(h)
                    .is_some_and(|x| !x.done && x.b == b && x.inst == inst)
            })
            .collect();
        for h in ids {
            let held = *self.work.held.get(h);
            self.work.held.get_mut(h).done = true;
            if held.in_flight {
                if held.p.measured {
                    self.out.rec.failed += 1;
                }
                self.log(now, held.sid, TraceKind::Failed(b));
                self.request_error(now, held.sid, held.p);
            } else {
                self.refused(now, held.sid, b, held.p, held.retry);
            }
        }
    }

    // ---- passive health ----

    /// Whether backend `b` is out of the pool for an ejection.
    pub(super) fn passive_holds(&self, b: BackendId) -> bool {
        self.lb.passive.as_ref().is_some_and(|p| p.holds_pool(b))
    }

    /// The active checks' verdict on an ejected backend `b` (`down` or
    /// healthy): kept until the ejection ends.
    pub(super) fn passive_check_result(&mut self, b: BackendId, down: bool) {
        if let Some(p) = &mut self.lb.passive {
            p.set_active_down(b, down);
        }
    }

    /// An attempt on backend `b` ended with `outcome`: the passive checks
    /// learn of it.
    pub(super) fn passive_result(&mut self, now: Nanos, b: BackendId, outcome: Outcome) {
        let Some(p) = &mut self.lb.passive else {
            return;
        };
        let hosts = if matches!(p.cfg(), PassiveHealth::Envoy { .. }) {
            self.fleet
                .slots
                .iter()
                .filter(|s| s.life != Life::Absent)
                .count()
        } else {
            0
        };
        match p.result(now, b, outcome, hosts) {
            Verdict::Keep => {}
            Verdict::Eject { recheck_ns } => {
                self.eject(now, b);
                if let Some(t) = recheck_ns {
                    let inst = self.fleet.slots[b.index()].instance;
                    self.q.schedule(t, Ev::PassiveDue { b, inst });
                }
            }
            Verdict::OnError(action) => {
                let thr = self.sc.health_check.unhealthy_threshold;
                let down = self.fleet.slots[b.index()].health.on_error(action, thr);
                if down && self.lb.pool.get(b).health != Health::Down {
                    self.set_health(now, b, Health::Down);
                    self.event(now, ControlKind::MarkedDown, Some(b));
                }
            }
        }
    }

    /// Takes backend `b` out of the pool for an ejection, if it is in.
    fn eject(&mut self, now: Nanos, b: BackendId) {
        if self.lb.pool.get(b).health != Health::Up || self.passive_holds(b) {
            return;
        }
        self.set_health(now, b, Health::Down);
        if let Some(p) = &mut self.lb.passive {
            p.set_holds_pool(b, true);
        }
        self.event(now, ControlKind::Ejected, Some(b));
    }

    /// Backend `b`'s ejection ended: back in the pool (draining if it was
    /// deregistered meanwhile), unless the active checks found it down
    /// while it was out.
    fn unejected(&mut self, now: Nanos, b: BackendId) {
        let Some(p) = &mut self.lb.passive else {
            return;
        };
        if !p.holds_pool(b) {
            return;
        }
        let checks_down = p.set_holds_pool(b, false);
        let h = match self.fleet.slots[b.index()].life {
            Life::Active => Health::Up,
            Life::Draining => Health::Draining,
            // Stopped meanwhile: the slot has nothing to return.
            Life::Absent | Life::Booting => return,
        };
        if checks_down {
            self.event(now, ControlKind::MarkedDown, Some(b));
            return;
        }
        self.set_health(now, b, h);
        self.event(now, ControlKind::Returned, Some(b));
    }

    /// nginx: instance `inst` in slot `b` may be past its `fail_timeout`.
    pub(super) fn on_passive_due(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        if self.fleet.slots[b.index()].instance != inst {
            return;
        }
        let due = self.lb.passive.as_mut().is_some_and(|p| p.due(now, b));
        if due {
            self.unejected(now, b);
        }
    }

    /// Schedules Envoy's next interval sweep after `now` (with Envoy
    /// outlier detection only).
    pub(super) fn schedule_outlier_sweep(&mut self, now: Nanos) {
        if let Some(PassiveHealth::Envoy { interval_ns, .. }) =
            self.lb.passive.as_ref().map(|p| p.cfg())
        {
            let at = now.saturating_add(*interval_ns);
            if at < self.sc.simulation.duration_ns {
                self.q.schedule(at, Ev::OutlierSweep);
            }
        }
    }

    /// Envoy's interval timer: hosts whose ejection time has passed return.
    pub(super) fn on_outlier_sweep(&mut self, now: Nanos) {
        self.schedule_outlier_sweep(now);
        let mut back = Vec::new();
        if let Some(p) = &mut self.lb.passive {
            p.sweep(now, &mut back);
        }
        for b in back {
            self.unejected(now, b);
        }
    }
}
