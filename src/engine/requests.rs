//! The life of a request: a session arrives, sends, the router picks a
//! backend (again on a retry), the backend takes it (or fails or refuses
//! it), it completes, and the session thinks and goes on or ends.

use super::event::Ev;
use super::world::{fold, World};
use super::TraceKind;
use crate::model::failure::Outcome;
use crate::model::lb_retry::AttemptFailure;
use crate::model::state::{self, Landing};
use crate::model::{
    token_epoch, Drift, Epoch, JarCookie, Pending, Placement, Replicas, Request, RequestId,
    Session, SessionId,
};
use crate::routing::{BackendId, Decision, RouteRequest};
use crate::scenario::{secs_to_ns as s_to_ns, SessionState};
use crate::sim::{mix64, stream, Nanos, Stream};
use rand::Rng;
use rand_distr::Exp1;

impl World<'_> {
    /// The first arrival at or after `from`, integrating the piecewise
    /// rate exactly (an inhomogeneous Poisson process), or `None` if it falls
    /// after the end.
    pub(super) fn next_arrival(&mut self, from: Nanos) -> Option<Nanos> {
        let w = &self.sc.workload;
        let end = self.sc.simulation.duration_ns;
        let mut need: f64 = self.work.arrivals.sample(Exp1);
        let mut t = from;
        while t < end {
            let (mult, until) = w.profile.at(t);
            let rate = w.session_rate * mult;
            let span_s = (until.min(end) - t) as f64 / 1e9;
            if rate > 0.0 && need <= rate * span_s {
                let at = t + s_to_ns(need / rate);
                return (at < end).then_some(at);
            }
            need -= rate * span_s;
            t = until;
        }
        None
    }

    /// A new session: its attributes from its own stream, then its first
    /// request at once.
    pub(super) fn on_arrival(&mut self, now: Nanos) {
        let sc = self.sc;
        let n = self.work.next_session;
        self.work.next_session += 1;
        let seed = sc.simulation.seed;
        let mut rng = stream(seed, Stream::Session, n);
        let u: f64 = rng.gen();
        let cum = &self.work.cum_shares;
        let segment = cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1);
        let seg = &sc.clients[segment];
        let user = rng.gen_range(0..seg.users);
        let remaining = sc.workload.requests_per_session.sample_count(&mut rng);
        let blocks_cookies = rng.gen::<f64>() < seg.cookie_block;
        let token: u64 = rng.gen();
        let mut net_rng = stream(seed, Stream::Network, n);
        let ip = self.work.addressers[segment].initial(user, &mut net_rng);
        let next_ip_change_ns = if seg.ip_change_rate > 0.0 {
            now.saturating_add(s_to_ns(net_rng.sample::<f64, _>(Exp1) / seg.ip_change_rate))
        } else {
            Nanos::MAX
        };
        let measured = self.out.rec.measured(now);
        if measured {
            self.out.rec.sessions += 1;
        }
        let digest = fold(
            fold(fold(n, now), remaining as u64),
            (segment as u64) << 32 | user as u64,
        );
        self.work.planned_requests += remaining as u64;
        let store_rng =
            (self.place.kind != Placement::Local).then(|| stream(seed, Stream::Store, n));
        let id = self.work.sessions.insert(Session {
            no: n,
            digest,
            store_rng,
            measured,
            segment: segment as u16,
            user,
            remaining,
            rng,
            net_rng,
            next_ip_change_ns,
            ip_changes: 0,
            ip,
            blocks_cookies,
            cookie: None,
            token: seg.token_header.then_some(token),
            token_base: token,
            token_epoch: token_epoch(token, now, seg.token_rotation_ns),
            app_id: None,
            app_issues: 0,
            home: None,
            lost: false,
            drift: Drift::default(),
            last_routed_ns: None,
            client_retries: 0,
        });
        self.place.new_session(id);
        self.work.peak_sessions = self.work.peak_sessions.max(self.work.sessions.len());
        self.log(now, id, TraceKind::Arrived);
        self.open_jar(id, now);
        self.on_send(now, id);
        if let Some(t) = self.next_arrival(now) {
            self.q.schedule(t, Ev::Arrival);
        }
    }

    /// Session `sid` sends its next request: it draws what the request
    /// needs, its client advances to `now`, and the request is routed.
    pub(super) fn on_send(&mut self, now: Nanos, sid: SessionId) {
        let sc = self.sc;
        let s = self.work.sessions.get_mut(sid);
        debug_assert!(s.remaining > 0);
        s.remaining -= 1;
        s.client_retries = 0;
        // Workload draws first, whatever happens to the request.
        let demand_s = sc.workload.service_time.sample(&mut s.rng);
        let state_s = match (self.place.state, &mut s.store_rng) {
            (SessionState::Shared { store_latency, .. }, Some(rng)) => store_latency.sample(rng),
            (SessionState::Replicated { write_latency, .. }, Some(rng)) => {
                write_latency.sample(rng)
            }
            _ => 0.0,
        };
        s.digest = fold(s.digest, demand_s.to_bits());
        let seg = usize::from(s.segment);
        s.advance(now, &sc.clients[seg], &self.work.addressers[seg]);
        if let Some(log) = &mut self.out.access {
            log.push(crate::replay::write::Access {
                t: now,
                addr: s.ip,
                session: s.no,
                user: s.user,
                service_s: demand_s,
            });
        }
        let measured = self.out.rec.measured(now);
        if measured {
            self.out.rec.requests += 1;
        }
        let p = Pending {
            start_ns: now,
            demand_s,
            state_s,
            measured,
            failed_on: BackendId(u32::MAX),
            lb_retries: 0,
            again: false,
        };
        self.dispatch(now, sid, p, None);
    }

    /// The retry of a request that failed on a dead backend: routed again,
    /// the router told which backend to avoid. The pool's health is the
    /// load balancer's belief from its health checks, and a retry leaves it
    /// as it is.
    pub(super) fn on_retry(&mut self, now: Nanos, sid: SessionId) {
        let p = self.work.pending[sid.index()]
            .take()
            .expect("a retry has its pending request");
        self.dispatch(now, sid, p, Some(p.failed_on));
    }

    /// Routes one attempt of a request and hands it to a backend;
    /// `retry_of` is the backend the failed first attempt went to.
    pub(super) fn dispatch(
        &mut self,
        now: Nanos,
        sid: SessionId,
        p: Pending,
        retry_of: Option<BackendId>,
    ) {
        let is_retry = retry_of.is_some();
        if is_retry {
            self.lb.retry_waiting -= 1;
        }
        let measured = p.measured;
        if self.place.store_down && self.place.kind == Placement::Shared {
            // The backend can neither read nor write the session: it fails.
            if measured {
                self.out.rec.failed += 1;
            }
            self.log(now, sid, TraceKind::StoreDown);
            return self.request_error(now, sid, p);
        }
        if self.out.trace.is_some() {
            let s = self.work.sessions.get(sid);
            let (src, header) = (s.ip, s.token);
            self.log(now, sid, TraceKind::Sent { src, header });
        }
        let s = self.work.sessions.get_mut(sid);
        s.routed(now, self.lb.idle_timeout_ns);
        let cookie = if s.blocks_cookies {
            None
        } else {
            s.cookie_at(now)
        };
        let req = RouteRequest {
            now_ns: now,
            src: s.ip,
            cookie,
            header: s.token,
            app_id: s.app_id,
            exclude: retry_of,
        };
        // A retry back to the backend that failed skips the router.
        let forced = retry_of
            .filter(|_| p.again)
            .map(|backend| Decision::Forward {
                backend,
                set_cookie: None,
            });
        let decision =
            forced.unwrap_or_else(|| self.lb.router.route(&req, &self.lb.pool, &mut self.lb.rng));
        let (b, set_cookie) = match decision {
            Decision::Refuse(_) => {
                if measured {
                    self.out.rec.rejected += 1;
                }
                self.log(now, sid, TraceKind::Rejected);
                return self.request_error(now, sid, p);
            }
            Decision::Forward {
                backend,
                set_cookie,
            } => (backend, set_cookie),
        };
        if let Some(ps) = &mut self.lb.passive {
            ps.sent(now, b);
        }
        let be = &self.fleet.backends[b.index()];
        let accepted = be.alive && !be.full();
        self.out.rec.backend_request(b.index(), now, accepted);
        // The Set-Cookie travels with the response: a request that fails or
        // is turned away brings none back.
        if let (Some(c), true, false) = (set_cookie, accepted, s.blocks_cookies) {
            s.cookie = Some(JarCookie {
                value: c.value,
                expires_ns: c.max_age_ns.map(|m| now.saturating_add(m)),
            });
        }
        if !be.alive {
            // The load balancer hasn't noticed yet: refused at once, or
            // held until a timeout, per the crash's mode.
            return self.dead_backend(now, sid, b, p, is_retry);
        }
        if be.full() {
            if self.lb_retry(now, sid, b, p, AttemptFailure::Overloaded) {
                return;
            }
            if measured {
                self.out.rec.rejected += 1;
            }
            self.log(now, sid, TraceKind::Rejected);
            return self.request_error(now, sid, p);
        }
        self.admit(now, sid, b, p);
    }

    /// The attempt reached a dead backend: it is retried when the
    /// strategy's retry policy says so (`is_retry` is in `p.lb_retries`),
    /// else it fails.
    pub(super) fn refused(
        &mut self,
        now: Nanos,
        sid: SessionId,
        b: BackendId,
        p: Pending,
        _is_retry: bool,
    ) {
        self.log(now, sid, TraceKind::Failed(b));
        if self.lb_retry(now, sid, b, p, AttemptFailure::Error) {
            return;
        }
        if p.measured {
            self.out.rec.failed += 1;
        }
        self.request_error(now, sid, p);
    }

    /// Backend `b` takes the request: the session's state is checked, and
    /// the request starts service or waits in the queue.
    fn admit(&mut self, now: Nanos, sid: SessionId, b: BackendId, p: Pending) {
        self.touch_state(now, sid, b);
        self.log(now, sid, TraceKind::Accepted(b));
        let state_ns = s_to_ns(p.state_s);
        let be = &mut self.fleet.backends[b.index()];
        let req = Request {
            session: sid,
            start_ns: p.start_ns,
            demand_s: p.demand_s,
            retry_wait_ns: now - p.start_ns,
            measured: p.measured,
            state_ns,
            lb_retries: p.lb_retries,
            tag: self.work.next_tag,
            backend: b,
            orphan: false,
        };
        self.work.next_tag += 1;
        self.lb.retry_admitted += u64::from(req.lb_retries > 0);
        let tag = req.tag;
        let hold_ns = req.hold_ns(be.speed);
        let rid = self.work.requests.insert(req);
        if let Some(t) = self.lb.retry.and_then(|r| r.per_try_timeout_ns) {
            let ev = Ev::TryTimeout { req: rid, tag };
            self.q.schedule(now.saturating_add(t), ev);
        }
        self.lb.pool.add_outstanding(b);
        let epoch = be.epoch;
        if be.busy() < be.workers {
            be.in_service.push(rid);
            let done = Ev::Done {
                backend: b,
                epoch,
                req: rid,
            };
            self.q.schedule(now.saturating_add(hold_ns), done);
        } else {
            be.queue.push_back(rid);
        }
        self.backend_state(b, now);
    }

    /// The request of session `sid` reached backend `b`: check the
    /// session's state is there; if not it is lost (with its cause) and
    /// recreated here — unless the placement kept it (shared store, replica).
    fn touch_state(&mut self, now: Nanos, sid: SessionId, b: BackendId) {
        let s = self.work.sessions.get_mut(sid);
        let replicas = match self.place.kind {
            Placement::Replicated { .. } => &self.place.replicas[sid.index()],
            _ => &Replicas::EMPTY,
        };
        let landing = state::land(
            s.home,
            b,
            &self.fleet,
            self.place.kind,
            replicas,
            self.lb.affinity,
            s.blocks_cookies,
            s.drift,
        );
        let left_live = match landing {
            Landing::Same => None,
            Landing::New => Some(false),
            Landing::Saved { left_live } => {
                if s.measured {
                    self.out.rec.losses_avoided += 1;
                }
                Some(left_live)
            }
            Landing::Lost { cause, left_live } => {
                if s.measured {
                    self.out.rec.loss(cause, !s.lost);
                }
                s.lost = true;
                if let Some(tr) = &mut self.out.trace {
                    tr.push(super::Trace {
                        t: now,
                        session: s.no,
                        what: TraceKind::Lost(cause),
                    });
                }
                Some(left_live)
            }
        };
        if let Some(left_live) = left_live {
            if let (true, Some((h, _))) = (left_live, s.home) {
                self.fleet.backends[h.index()].pinned -= 1;
            }
            let be = &mut self.fleet.backends[b.index()];
            s.home = Some((b, be.epoch));
            be.pinned += 1;
            self.issue_app_id(now, sid, b);
        }
        self.work.sessions.get_mut(sid).settle();
        if let SessionState::Replicated { copies, .. } = *self.place.state {
            // Every request writes: the state is copied to the next `copies`
            // running in-service backends after `b`, in slot order.
            let up = self.lb.pool.up();
            self.place.replicas[sid.index()] = state::replicate(b, copies, up, &self.fleet);
        }
    }

    /// The application on backend `b` created the session's state and
    /// answers with a new session cookie / id: the load balancer sees it on
    /// the response, and the client keeps it (a cookie-blocking client
    /// drops a cookie, but not a session id carried outside cookies).
    fn issue_app_id(&mut self, now: Nanos, sid: SessionId, b: BackendId) {
        let s = self.work.sessions.get_mut(sid);
        s.app_issues += 1;
        let id =
            mix64(s.no.wrapping_mul(crate::sim::GOLDEN) ^ (u64::from(s.app_issues) << 48) ^ 0xa99);
        let keeps = self.lb.affinity == crate::routing::Affinity::SessionId || !s.blocks_cookies;
        s.app_id = keeps.then_some(id);
        self.lb.router.on_response(now, b, id);
    }

    /// After a request ends (answered, failed or refused): think, then send
    /// the next one, or end the session.
    pub(super) fn continue_session(&mut self, now: Nanos, sid: SessionId) {
        if self.work.replay.is_some() && !self.replay_request_ended(sid) {
            return; // its next request comes from the log
        }
        let s = self.work.sessions.get_mut(sid);
        if s.remaining > 0 {
            let think = self.sc.workload.think_time.sample(&mut s.rng);
            s.digest = fold(s.digest, think.to_bits());
            self.q
                .schedule(now.saturating_add(s_to_ns(think)), Ev::Send(sid));
            return;
        }
        self.end_session(now, sid);
    }

    /// Session `sid` has sent its last request and it ended.
    pub(super) fn end_session(&mut self, now: Nanos, sid: SessionId) {
        self.log(now, sid, TraceKind::Ended);
        self.close_session(now, sid, false);
    }

    /// Session `sid` ends: it finished, or its user `abandoned` it.
    pub(super) fn close_session(&mut self, now: Nanos, sid: SessionId, abandoned: bool) {
        let s = self.work.sessions.remove(sid);
        self.close_jar(&s, now);
        self.work.digest = self.work.digest.wrapping_add(s.digest);
        if let Some((h, e)) = s.home {
            let be = &mut self.fleet.backends[h.index()];
            if be.epoch == e {
                be.pinned -= 1;
            }
        }
        if s.measured && !abandoned {
            self.out.rec.sessions_completed += 1;
            self.out.rec.sessions_completed_lost += u64::from(s.lost);
        }
    }

    /// Request `rid` finished its service on backend `b` (in incarnation
    /// `epoch`): the next queued request starts, and its session goes on.
    pub(super) fn on_done(&mut self, now: Nanos, b: BackendId, epoch: Epoch, rid: RequestId) {
        let be = &mut self.fleet.backends[b.index()];
        if be.epoch != epoch {
            return; // answered by a backend that has since crashed
        }
        let pos = be
            .in_service
            .iter()
            .position(|&r| r == rid)
            .expect("completing request is in service");
        be.in_service.swap_remove(pos);
        if let Some(next) = be.queue.pop_front() {
            be.in_service.push(next);
            // A slow period applies from the start of service.
            let hold = self.work.requests.get(next).hold_ns(be.speed);
            let done = Ev::Done {
                backend: b,
                epoch,
                req: next,
            };
            self.q.schedule(now.saturating_add(hold), done);
        }
        self.backend_state(b, now);
        let r = self.work.requests.remove(rid);
        if r.orphan {
            return; // the load balancer stopped waiting for it
        }
        self.lb.pool.remove_outstanding(b);
        self.passive_result(now, b, Outcome::Answered);
        self.lb.retry_admitted -= u64::from(r.lb_retries > 0);
        if r.measured {
            self.out.rec.latency(now - r.start_ns);
            self.out.rec.state_ns += r.state_ns as u128;
            self.out.rec.retry_wait_ns += r.retry_wait_ns as u128;
        }
        self.log(now, r.session, TraceKind::Completed(b));
        self.continue_session(now, r.session);
    }
}
