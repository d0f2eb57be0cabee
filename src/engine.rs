//! The engine loop: one strategy, one workload, from the first arrival to
//! the end of the simulated time.
//!
//! Common random numbers: every random draw that shapes the workload comes
//! from a stream keyed by `(seed, purpose, index)` — arrivals from one
//! stream, each session's attributes, think times and service demands from
//! that session's own stream, its address changes from another — and the
//! router draws only from its own. Each session draws in a fixed order per
//! request (service demand and store latency when it sends, think time when
//! the request ends), whatever the outcome, so every strategy of a run faces
//! the same sessions, with the same requests, at the same arrival times.

use crate::metrics::{BucketRow, LossCause, Recorder, RunSummary};
use crate::model::{Addresser, Backend, JarCookie, Request, Session, Slab};
use crate::routing::{Affinity, BackendId, Decision, Health, Pool, RouteRequest, RouteRng, Router};
use crate::scenario::{secs_to_ns as s_to_ns, Fault, Scenario, SessionState};
use crate::sim::{name_key, stream, stream_seed, EventQueue, Nanos, SimRng, Stream};
use rand::Rng;
use rand_distr::Exp1;
use rayon::prelude::*;

/// The outcome of one strategy's run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: RunSummary,
    pub buckets: Vec<BucketRow>,
    /// A digest of every session's arrival time, segment, user, request
    /// count, and the service demands and think times it drew (folded per
    /// session in draw order, summed over sessions). Equal for all
    /// strategies of one scenario and seed (common random numbers) when
    /// every session has finished by the end; sessions still going at the
    /// end may have drawn more or less, as their timing depends on routing.
    pub workload_digest: u64,
    /// Requests all arrived sessions were going to make.
    pub planned_requests: u64,
    /// The most sessions alive at once.
    pub peak_sessions: usize,
    /// What happened to every request, when asked for ([`run_strategy_traced`]).
    pub trace: Vec<Trace>,
}

/// One step of a traced run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace {
    pub t: Nanos,
    /// The session's number in arrival order (0, 1, 2, …).
    pub session: u64,
    pub what: TraceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    Arrived,
    /// Accepted by a backend (queued or in service).
    Accepted(BackendId),
    /// Sent to a backend that was down, or in service there when it crashed.
    Failed(BackendId),
    /// Refused by the router or by a full backend.
    Rejected,
    /// Reached a backend without its state.
    Lost(LossCause),
    Completed(BackendId),
    Ended,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrival,
    Send(u32),
    Done { backend: u32, epoch: u32, req: u32 },
    Check(u32),
    CheckFailed(u32),
    Crash(u32),
    Recover(u32),
    Tick,
    WarmupEnd,
}

#[derive(Debug, Clone, Copy, Default)]
struct HealthState {
    ok_streak: u32,
    fail_streak: u32,
}

struct World<'a> {
    sc: &'a Scenario,
    q: EventQueue<Ev>,
    pool: Pool,
    router: Router,
    affinity: Affinity,
    route_rng: RouteRng,
    backends: Vec<Backend>,
    health: Vec<HealthState>,
    sessions: Slab<Session>,
    requests: Slab<Request>,
    addressers: Vec<Addresser>,
    /// Cumulative segment shares, for picking a session's segment.
    cum_shares: Vec<f64>,
    arrivals: SimRng,
    next_session: u64,
    rec: Recorder,
    digest: u64,
    planned_requests: u64,
    peak_sessions: usize,
    shared_state: bool,
    trace: Option<Vec<Trace>>,
}

#[inline]
fn fold(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29)
}

impl<'a> World<'a> {
    fn new(sc: &'a Scenario, strategy: usize) -> Self {
        let seed = sc.simulation.seed;
        let cfg = &sc.strategies[strategy];
        let n = sc.backends.count();
        let capacity = sc
            .backends
            .queue_limit
            .map(|l| sc.backends.workers.saturating_add(l));
        let key = name_key(&cfg.name);
        let router = Router::new(
            &cfg.spec,
            stream_seed(seed, Stream::Routing, key ^ 0x5ec2e7),
        );
        let mut total = 0.0;
        let cum_shares = sc
            .clients
            .iter()
            .map(|c| {
                total += c.share;
                total
            })
            .collect();
        World {
            sc,
            q: EventQueue::with_capacity(1024),
            pool: Pool::with_default_addrs(n, capacity),
            affinity: router.affinity(),
            router,
            route_rng: RouteRng::new(stream_seed(seed, Stream::Routing, key)),
            backends: sc
                .backends
                .speeds
                .iter()
                .map(|&s| Backend::new(s, sc.backends.workers, sc.backends.queue_limit))
                .collect(),
            health: vec![HealthState::default(); n],
            sessions: Slab::default(),
            requests: Slab::default(),
            addressers: sc
                .clients
                .iter()
                .enumerate()
                .map(|(i, c)| Addresser::new(seed, i, c))
                .collect(),
            cum_shares,
            arrivals: stream(seed, Stream::Arrivals, 0),
            next_session: 0,
            rec: Recorder::new(n, sc.simulation.warmup_ns),
            digest: 0,
            planned_requests: 0,
            peak_sessions: 0,
            shared_state: matches!(sc.session_state, SessionState::Shared { .. }),
            trace: None,
        }
    }

    /// The first arrival at or after `from`, integrating the piecewise
    /// rate exactly (an inhomogeneous Poisson process), or `None` if it falls
    /// after the end.
    fn next_arrival(&mut self, from: Nanos) -> Option<Nanos> {
        let w = &self.sc.workload;
        let end = self.sc.simulation.duration_ns;
        let mut need: f64 = self.arrivals.sample(Exp1);
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

    fn schedule_initial(&mut self) {
        let sc = self.sc;
        if let Some(t) = self.next_arrival(0) {
            self.q.schedule(t, Ev::Arrival);
        }
        if sc.simulation.warmup_ns > 0 {
            self.q.schedule(sc.simulation.warmup_ns, Ev::WarmupEnd);
        }
        if sc.output.bucket_ns < sc.simulation.duration_ns {
            self.q.schedule(sc.output.bucket_ns, Ev::Tick);
        }
        // Each backend's checks start at its own phase in the interval.
        let mut phase = stream(sc.simulation.seed, Stream::Health, 0);
        let hc = &sc.health_check;
        for b in 0..self.backends.len() {
            let offset = phase.gen_range(0..hc.interval_ns.max(1));
            self.q.schedule(offset, Ev::Check(b as u32));
        }
        // Recoveries are scheduled first so that, at an instant where one
        // crash window ends and another begins, the recovery runs before the
        // crash whatever order the faults are listed in.
        for f in &sc.faults {
            let Fault::Crash {
                backend,
                at_ns,
                recover_after_ns,
            } = *f;
            if let Some(r) = recover_after_ns {
                self.q
                    .schedule(at_ns.saturating_add(r), Ev::Recover(backend as u32));
            }
        }
        for f in &sc.faults {
            let Fault::Crash { backend, at_ns, .. } = *f;
            self.q.schedule(at_ns, Ev::Crash(backend as u32));
        }
    }

    fn run(mut self, strategy: usize) -> RunOutput {
        self.schedule_initial();
        let end = self.sc.simulation.duration_ns;
        let mut events = 0u64;
        while let Some((now, ev)) = self.q.pop() {
            if now >= end {
                break;
            }
            events += 1;
            match ev {
                Ev::Arrival => self.on_arrival(now),
                Ev::Send(s) => self.on_send(now, s),
                Ev::Done {
                    backend,
                    epoch,
                    req,
                } => self.on_done(now, backend as usize, epoch, req),
                Ev::Check(b) => self.on_check(now, b as usize),
                Ev::CheckFailed(b) => self.on_check_failed(b as usize),
                Ev::Crash(b) => self.on_crash(now, b as usize),
                Ev::Recover(b) => self.backends[b as usize].alive = true,
                Ev::Tick => {
                    self.close_bucket(now);
                    let next = now.saturating_add(self.sc.output.bucket_ns);
                    if next < end {
                        self.q.schedule(next, Ev::Tick);
                    }
                }
                Ev::WarmupEnd => self.rec.end_warmup(now),
            }
        }
        self.close_bucket(end);
        for s in self.sessions.iter() {
            self.digest = self.digest.wrapping_add(s.digest);
        }
        let in_flight = self.requests.iter().filter(|r| r.measured).count() as u64;
        let active = self.sessions.iter().filter(|s| s.measured).count() as u64;
        let cfg = &self.sc.strategies[strategy];
        let (summary, buckets) = self.rec.finish(
            &cfg.name,
            cfg.spec.kind(),
            end,
            self.sc.backends.workers,
            in_flight,
            active,
            events,
        );
        RunOutput {
            summary,
            buckets,
            workload_digest: self.digest,
            planned_requests: self.planned_requests,
            peak_sessions: self.peak_sessions,
            trace: self.trace.unwrap_or_default(),
        }
    }

    #[inline]
    fn log(&mut self, t: Nanos, sid: u32, what: TraceKind) {
        if let Some(tr) = &mut self.trace {
            tr.push(Trace {
                t,
                session: self.sessions.get(sid).no,
                what,
            });
        }
    }

    fn close_bucket(&mut self, now: Nanos) {
        let (backends, pool) = (&self.backends, &self.pool);
        self.rec.close_bucket(now, |b| {
            (
                backends[b].pinned,
                backends[b].alive,
                pool.get(BackendId(b as u32)).health == Health::Up,
            )
        });
    }

    fn on_arrival(&mut self, now: Nanos) {
        let sc = self.sc;
        let n = self.next_session;
        self.next_session += 1;
        let seed = sc.simulation.seed;
        let mut rng = stream(seed, Stream::Session, n);
        let u: f64 = rng.gen();
        let segment = self
            .cum_shares
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cum_shares.len() - 1);
        let seg = &sc.clients[segment];
        let user = rng.gen_range(0..seg.users);
        let remaining = sc.workload.requests_per_session.sample_count(&mut rng);
        let blocks_cookies = rng.gen::<f64>() < seg.cookie_block;
        let token: u64 = rng.gen();
        let mut net_rng = stream(seed, Stream::Network, n);
        let ip = self.addressers[segment].initial(user, &mut net_rng);
        let next_ip_change_ns = if seg.ip_change_rate > 0.0 {
            now.saturating_add(s_to_ns(net_rng.sample::<f64, _>(Exp1) / seg.ip_change_rate))
        } else {
            Nanos::MAX
        };
        let measured = self.rec.measured(now);
        if measured {
            self.rec.sessions += 1;
        }
        let digest = fold(
            fold(fold(n, now), remaining as u64),
            (segment as u64) << 32 | user as u64,
        );
        self.planned_requests += remaining as u64;
        let store_rng = self.shared_state.then(|| stream(seed, Stream::Store, n));
        let id = self.sessions.insert(Session {
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
            token_rotated: false,
            app_id: None,
            app_issues: 0,
            home: None,
            lost: false,
            ip_changed: false,
            cookie_expired: false,
        });
        self.peak_sessions = self.peak_sessions.max(self.sessions.len());
        self.log(now, id, TraceKind::Arrived);
        self.on_send(now, id);
        if let Some(t) = self.next_arrival(now) {
            self.q.schedule(t, Ev::Arrival);
        }
    }

    fn on_send(&mut self, now: Nanos, sid: u32) {
        let sc = self.sc;
        let s = self.sessions.get_mut(sid);
        debug_assert!(s.remaining > 0);
        s.remaining -= 1;
        // Workload draws first, whatever happens to the request.
        let demand_s = sc.workload.service_time.sample(&mut s.rng);
        let store_s = match (&sc.session_state, &mut s.store_rng) {
            (SessionState::Shared { store_latency }, Some(rng)) => store_latency.sample(rng),
            _ => 0.0,
        };
        s.digest = fold(s.digest, demand_s.to_bits());
        let seg = &sc.clients[s.segment as usize];
        while s.next_ip_change_ns <= now {
            s.ip_changes += 1;
            let ip =
                self.addressers[s.segment as usize].changed(s.user, s.ip_changes, &mut s.net_rng);
            // A pool can hand back the same address: that is no change.
            s.ip_changed |= ip != s.ip;
            s.ip = ip;
            let gap = s_to_ns(s.net_rng.sample::<f64, _>(Exp1) / seg.ip_change_rate);
            s.next_ip_change_ns = s.next_ip_change_ns.saturating_add(gap.max(1));
        }
        if s.token.is_some() && seg.token_rotation_ns > 0 {
            let epoch = token_epoch(s.token_base, now, seg.token_rotation_ns);
            if epoch != s.token_epoch {
                s.token_epoch = epoch;
                s.token = Some(crate::routing::hash::mix64(s.token_base ^ epoch));
                s.token_rotated = true;
            }
        }
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
        };
        let measured = self.rec.measured(now);
        if measured {
            self.rec.requests += 1;
        }
        let (b, set_cookie) = match self.router.route(&req, &self.pool, &mut self.route_rng) {
            Decision::Refuse(_) => {
                if measured {
                    self.rec.rejected += 1;
                }
                self.log(now, sid, TraceKind::Rejected);
                return self.continue_session(now, sid);
            }
            Decision::Forward {
                backend,
                set_cookie,
            } => (backend, set_cookie),
        };
        let bi = b.index();
        let be = &self.backends[bi];
        let accepted = be.alive && !be.full();
        self.rec.backend_request(bi, now, accepted);
        // The Set-Cookie travels with the response: a request that fails or
        // is turned away brings none back.
        if let (Some(c), true, false) = (set_cookie, accepted, s.blocks_cookies) {
            s.cookie = Some(JarCookie {
                value: c.value,
                expires_ns: c.max_age_ns.map(|m| now.saturating_add(m)),
            });
        }
        if !be.alive {
            // Connection refused: the load balancer hasn't noticed yet.
            if measured {
                self.rec.failed += 1;
            }
            self.log(now, sid, TraceKind::Failed(b));
            return self.continue_session(now, sid);
        }
        if be.full() {
            if measured {
                self.rec.rejected += 1;
            }
            self.log(now, sid, TraceKind::Rejected);
            return self.continue_session(now, sid);
        }
        self.touch_state(now, sid, b);
        self.log(now, sid, TraceKind::Accepted(b));
        let hold_ns = s_to_ns(demand_s / self.backends[bi].speed + store_s);
        let rid = self.requests.insert(Request {
            session: sid,
            start_ns: now,
            hold_ns,
            measured,
        });
        self.pool.add_outstanding(b);
        let epoch = self.backends[bi].epoch;
        let be = &mut self.backends[bi];
        if be.busy() < be.workers {
            be.in_service.push(rid);
            self.q.schedule(
                now.saturating_add(hold_ns),
                Ev::Done {
                    backend: bi as u32,
                    epoch,
                    req: rid,
                },
            );
        } else {
            be.queue.push_back(rid);
        }
        self.rec.backend_state(bi, now, be.busy(), be.queued());
    }

    /// The request of session `sid` reached backend `b`: check the
    /// session's state is there; if not it is lost (with its cause) and
    /// recreated here.
    fn touch_state(&mut self, now: Nanos, sid: u32, b: BackendId) {
        let s = self.sessions.get_mut(sid);
        let epoch = self.backends[b.index()].epoch;
        match s.home {
            Some((h, e)) if h == b && e == epoch => {}
            Some((h, e)) => {
                let survived = self.backends[h.index()].epoch == e;
                if survived {
                    self.backends[h.index()].pinned -= 1;
                }
                if !self.shared_state {
                    let cause = if !survived {
                        LossCause::Failure
                    } else {
                        match self.affinity {
                            Affinity::None => LossCause::Rebalanced,
                            Affinity::Cookie if s.blocks_cookies => LossCause::CookieBlocked,
                            Affinity::Cookie if s.cookie_expired => LossCause::TtlExpired,
                            Affinity::SourceIp if s.ip_changed => LossCause::IpChange,
                            Affinity::AppCookie if s.blocks_cookies => LossCause::CookieBlocked,
                            Affinity::Header if s.token_rotated => LossCause::TokenRotation,
                            Affinity::Cookie
                            | Affinity::SourceIp
                            | Affinity::Header
                            | Affinity::AppCookie
                            | Affinity::SessionId => LossCause::Rebalanced,
                        }
                    };
                    if s.measured {
                        self.rec.loss(cause, !s.lost);
                    }
                    s.lost = true;
                    if let Some(tr) = &mut self.trace {
                        tr.push(Trace {
                            t: now,
                            session: s.no,
                            what: TraceKind::Lost(cause),
                        });
                    }
                }
                s.home = Some((b, epoch));
                self.backends[b.index()].pinned += 1;
                self.issue_app_id(now, sid, b);
            }
            None => {
                s.home = Some((b, epoch));
                self.backends[b.index()].pinned += 1;
                self.issue_app_id(now, sid, b);
            }
        }
        let s = self.sessions.get_mut(sid);
        s.ip_changed = false;
        s.cookie_expired = false;
        s.token_rotated = false;
    }

    /// The application on backend `b` created the session's state and
    /// answers with a new session cookie / id: the load balancer sees it on
    /// the response, and the client keeps it (a cookie-blocking client
    /// drops a cookie, but not a session id carried outside cookies).
    fn issue_app_id(&mut self, now: Nanos, sid: u32, b: BackendId) {
        let s = self.sessions.get_mut(sid);
        s.app_issues += 1;
        let id = crate::routing::hash::mix64(
            s.no.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((s.app_issues as u64) << 48) ^ 0xa99,
        );
        let keeps = self.affinity == Affinity::SessionId || !s.blocks_cookies;
        s.app_id = keeps.then_some(id);
        self.router.on_response(now, b, id);
    }

    /// After a request ends (answered, failed or refused): think, then send
    /// the next one, or end the session.
    fn continue_session(&mut self, now: Nanos, sid: u32) {
        let s = self.sessions.get_mut(sid);
        if s.remaining > 0 {
            let think = self.sc.workload.think_time.sample(&mut s.rng);
            s.digest = fold(s.digest, think.to_bits());
            self.q
                .schedule(now.saturating_add(s_to_ns(think)), Ev::Send(sid));
            return;
        }
        self.log(now, sid, TraceKind::Ended);
        let s = self.sessions.remove(sid);
        self.digest = self.digest.wrapping_add(s.digest);
        if let Some((h, e)) = s.home {
            let be = &mut self.backends[h.index()];
            if be.epoch == e {
                be.pinned -= 1;
            }
        }
        if s.measured {
            self.rec.sessions_completed += 1;
        }
    }

    fn on_done(&mut self, now: Nanos, bi: usize, epoch: u32, rid: u32) {
        if self.backends[bi].epoch != epoch {
            return; // answered by a backend that has since crashed
        }
        let be = &mut self.backends[bi];
        let pos = be
            .in_service
            .iter()
            .position(|&r| r == rid)
            .expect("completing request is in service");
        be.in_service.swap_remove(pos);
        if let Some(next) = be.queue.pop_front() {
            be.in_service.push(next);
            let hold = self.requests.get(next).hold_ns;
            self.q.schedule(
                now.saturating_add(hold),
                Ev::Done {
                    backend: bi as u32,
                    epoch,
                    req: next,
                },
            );
        }
        self.rec.backend_state(bi, now, be.busy(), be.queued());
        self.pool.remove_outstanding(BackendId(bi as u32));
        let r = self.requests.remove(rid);
        if r.measured {
            self.rec.latency(now - r.start_ns);
        }
        self.log(now, r.session, TraceKind::Completed(BackendId(bi as u32)));
        self.continue_session(now, r.session);
    }

    fn on_check(&mut self, now: Nanos, bi: usize) {
        let hc = &self.sc.health_check;
        self.q
            .schedule(now.saturating_add(hc.interval_ns), Ev::Check(bi as u32));
        if !self.backends[bi].alive {
            // The probe times out.
            self.q.schedule(
                now.saturating_add(hc.timeout_ns),
                Ev::CheckFailed(bi as u32),
            );
            return;
        }
        let h = &mut self.health[bi];
        h.fail_streak = 0;
        h.ok_streak += 1;
        let id = BackendId(bi as u32);
        if self.pool.get(id).health == Health::Down && h.ok_streak >= hc.healthy_threshold {
            self.pool.set_health(id, Health::Up);
        }
    }

    fn on_check_failed(&mut self, bi: usize) {
        let hc = &self.sc.health_check;
        let h = &mut self.health[bi];
        h.ok_streak = 0;
        h.fail_streak += 1;
        let id = BackendId(bi as u32);
        if self.pool.get(id).health == Health::Up && h.fail_streak >= hc.unhealthy_threshold {
            self.pool.set_health(id, Health::Down);
        }
    }

    fn on_crash(&mut self, now: Nanos, bi: usize) {
        let be = &mut self.backends[bi];
        if !be.alive {
            return;
        }
        be.alive = false;
        be.epoch += 1;
        be.pinned = 0;
        let mut dropped: Vec<u32> = be.in_service.drain(..).collect();
        dropped.extend(be.queue.drain(..));
        self.rec.backend_state(bi, now, 0, 0);
        self.pool.reset_outstanding(BackendId(bi as u32));
        for rid in dropped {
            let r = self.requests.remove(rid);
            if r.measured {
                self.rec.failed += 1;
            }
            self.log(now, r.session, TraceKind::Failed(BackendId(bi as u32)));
            self.continue_session(now, r.session);
        }
    }
}

/// Which rotation period a token is in at `now` (0 when it never rotates).
/// Each client's rotations have their own phase, derived from its token.
#[inline]
fn token_epoch(token: u64, now: Nanos, rotation_ns: u64) -> u64 {
    match token.checked_rem(rotation_ns) {
        Some(phase) => now.saturating_add(phase) / rotation_ns,
        None => 0,
    }
}

/// Runs strategy number `strategy` of the scenario.
pub fn run_strategy(sc: &Scenario, strategy: usize) -> RunOutput {
    World::new(sc, strategy).run(strategy)
}

/// Runs strategy number `strategy` recording a [`Trace`] of every request
/// (for tests and debugging; costs memory in proportion to requests).
pub fn run_strategy_traced(sc: &Scenario, strategy: usize) -> RunOutput {
    let mut w = World::new(sc, strategy);
    w.trace = Some(Vec::new());
    w.run(strategy)
}

/// Runs the given strategies (indices into `sc.strategies`) in parallel,
/// returning results in the order given.
pub fn run_strategies(sc: &Scenario, which: &[usize]) -> Vec<RunOutput> {
    which.par_iter().map(|&i| run_strategy(sc, i)).collect()
}
