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
//!
//! Control (see [`crate::control`]): health checks, faults, rolling deploys
//! and the autoscaler are events in the same queue. At one instant, window
//! ends (recoveries, zone returns, slow-down ends, store returns) are
//! scheduled before window starts, so touching windows never depend on the
//! order faults are listed in. Random failures draw from a stream per
//! instance and health-check phases from a stream per instance, never from
//! the routing or workload streams.

use crate::control::{Autoscaler, DeployRun, Life, Slot};
use crate::metrics::{
    BucketRow, ControlEvent, ControlKind, InstanceRow, LossCause, Recorder, RunSummary,
};
use crate::model::{Addresser, Backend, JarCookie, Pending, Replicas, Request, Session, Slab};
use crate::routing::{
    Affinity, BackendId, Decision, Health, OnUnavailable, Pool, RouteRequest, RouteRng, Router,
    StrategySpec,
};
use crate::scenario::{secs_to_ns as s_to_ns, Backends, Fault, Scenario, SessionState};
use crate::sim::{name_key, stream, stream_seed, EventQueue, Nanos, SimRng, Stream};
use rand::Rng;
use rand_distr::Exp1;
use rayon::prelude::*;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

mod fleet;

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
    /// Control events (faults, health marks, deploys, scaling), in time order.
    pub events: Vec<ControlEvent>,
    /// Instance counts at the end of each output bucket.
    pub instances: Vec<InstanceRow>,
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
    /// Failed because the shared session store was down.
    StoreDown,
    /// Reached a backend without its state.
    Lost(LossCause),
    Completed(BackendId),
    Ended,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrival,
    Send(u32),
    /// A request's second attempt after it failed on a dead backend.
    Retry(u32),
    Done {
        backend: u32,
        epoch: u32,
        req: u32,
    },
    Check {
        b: u32,
        gen: u32,
    },
    CheckFailed {
        b: u32,
        gen: u32,
    },
    Crash(u32),
    Recover(u32),
    RandCrash {
        b: u32,
        inst: u32,
    },
    RandRecover {
        b: u32,
        inst: u32,
    },
    ZoneDown(u32),
    ZoneUp(u32),
    /// Fault number `.0` (a `slow` fault) begins / ends.
    SlowOn(u32),
    SlowOff(u32),
    Booted {
        b: u32,
        inst: u32,
    },
    DrainEnd {
        b: u32,
        inst: u32,
    },
    Ramp {
        b: u32,
        inst: u32,
    },
    DeployStart(u32),
    /// Next batch of deploy run number `.0`.
    DeployBatch(u32),
    Evaluate,
    StoreDown,
    StoreUp,
    Tick,
    WarmupEnd,
}

/// Where a run's sessions keep their state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Local,
    Shared,
    Replicated,
}

// Every copy a scenario may ask for fits a session's replica table.
const _: () = assert!(crate::scenario::MAX_COPIES as usize <= crate::model::MAX_REPLICAS);

/// Slow-start weights are in hundredths of a full weight.
const FULL_WEIGHT: u32 = 100;
/// A slow-start ramp moves in this many steps.
const RAMP_STEPS: u64 = 20;

/// The pool address of a slot whose instance has stopped: no instance has
/// it, so no cookie decodes to an empty slot.
const STOPPED_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// The address of instance number `i`: `10.0.<i/250>.<i%250+1>` for the
/// first 64 000 (as `Pool::with_default_addrs`), then on into 10.x.
fn instance_addr(i: u32) -> SocketAddr {
    let ip = 0x0A00_0000u32 | ((i / 250) % 65_536) << 8 | (i % 250 + 1);
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), 8080))
}

/// What a backend holds at once (workers plus queue), as the pool sees it;
/// `None` with an unbounded queue.
fn capacity(b: &Backends) -> Option<u32> {
    b.queue_limit.map(|l| b.workers.saturating_add(l))
}

/// Whether a strategy retries a request that failed on a dead backend
/// elsewhere: baselines always do; sticky strategies when they redispatch.
fn retries(spec: &StrategySpec) -> bool {
    match spec {
        StrategySpec::LbCookie { on_unavailable, .. }
        | StrategySpec::SourceIp { on_unavailable, .. }
        | StrategySpec::Header { on_unavailable, .. }
        | StrategySpec::SourceIpTable { on_unavailable, .. }
        | StrategySpec::Learn { on_unavailable, .. } => {
            *on_unavailable == OnUnavailable::Redispatch
        }
        StrategySpec::Balance(_) | StrategySpec::BoundedLoad { .. } => true,
    }
}

struct World<'a> {
    sc: &'a Scenario,
    q: EventQueue<Ev>,
    pool: Pool,
    router: Router,
    affinity: Affinity,
    route_rng: RouteRng,
    backends: Vec<Backend>,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    next_instance: u32,
    sessions: Slab<Session>,
    /// Per session id: a request waiting for its retry (rare, so beside
    /// the sessions rather than in them).
    pending: Vec<Option<Pending>>,
    /// Per session id, with `replicated` state: where its copies are.
    replicas: Vec<Replicas>,
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
    state: &'a SessionState,
    placement: Placement,
    store_down: bool,
    retries: bool,
    /// Pool weight of a full-weight backend (1, or 100 with slow start).
    full_weight: u32,
    autoscaler: Option<Autoscaler>,
    deploys: Vec<DeployRun>,
    zone_down: Vec<bool>,
    /// Integral of busy workers on in-service (`Up`) backends, and of the
    /// number of them (`pool.up()`), for the autoscaler's utilisation
    /// metric; `cur_up_busy` is the busy workers on them now, as last
    /// reported to the recorder.
    up_busy_int: u128,
    up_int: u128,
    cur_up_busy: u64,
    int_last_ns: Nanos,
    eval_prev: (u128, u128),
    events: Vec<ControlEvent>,
    instances: Vec<InstanceRow>,
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
        let capacity = capacity(&sc.backends);
        let key = name_key(&cfg.name);
        let router = Router::new(
            &cfg.spec,
            stream_seed(seed, Stream::Routing, key ^ 0x5ec2e7),
        );
        let state = cfg.session_state.as_ref().unwrap_or(&sc.session_state);
        let placement = match state {
            SessionState::Local => Placement::Local,
            SessionState::Shared { .. } => Placement::Shared,
            SessionState::Replicated { .. } => Placement::Replicated,
        };
        // Slow start ramps the weights the balancers read on every pick;
        // hash tables are built from weights once per membership change, so
        // hashing strategies keep full weights (as ALB, whose slow start
        // applies to round robin and least outstanding requests only).
        let hashes = matches!(
            cfg.spec,
            StrategySpec::SourceIp { .. }
                | StrategySpec::Header { .. }
                | StrategySpec::BoundedLoad { .. }
        );
        let slow_start = !hashes
            && (sc.deploys.iter().any(|d| d.slow_start_ns > 0)
                || sc.autoscaling.as_ref().is_some_and(|a| a.slow_start_ns > 0));
        let full_weight = if slow_start { FULL_WEIGHT } else { 1 };
        let mut pool = Pool::with_default_addrs(n, capacity);
        for i in 0..n {
            pool.set_weight(BackendId(i as u32), full_weight);
        }
        let random = fleet::random_fault(&sc.faults).is_some();
        let zones = sc.backends.zones.len();
        let slots = sc
            .backends
            .speeds
            .iter()
            .enumerate()
            .map(|(i, &speed)| {
                let mut s = Slot::new((i % zones) as u16, i as u32, 0, speed);
                s.fault_rng = random.then(|| stream(seed, Stream::Faults, i as u64));
                s
            })
            .collect();
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
            pool,
            affinity: router.affinity(),
            router,
            route_rng: RouteRng::new(stream_seed(seed, Stream::Routing, key)),
            backends: sc
                .backends
                .speeds
                .iter()
                .map(|&s| Backend::new(s, sc.backends.workers, sc.backends.queue_limit))
                .collect(),
            slots,
            free_slots: Vec::new(),
            next_instance: n as u32,
            sessions: Slab::default(),
            pending: Vec::new(),
            replicas: Vec::new(),
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
            state,
            placement,
            store_down: false,
            retries: retries(&cfg.spec),
            full_weight,
            autoscaler: sc
                .autoscaling
                .clone()
                .map(|a| Autoscaler::new(a).after_warmup(sc.simulation.warmup_ns)),
            deploys: Vec::new(),
            zone_down: vec![false; zones],
            up_busy_int: 0,
            up_int: 0,
            cur_up_busy: 0,
            int_last_ns: 0,
            eval_prev: (0, 0),
            events: Vec::new(),
            instances: Vec::new(),
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
            self.q.schedule(
                offset,
                Ev::Check {
                    b: b as u32,
                    gen: 0,
                },
            );
        }
        for b in 0..self.slots.len() {
            self.schedule_random_crash(0, b);
        }
        // Ends are scheduled before starts so that, at an instant where one
        // window ends and another begins, the end runs first whatever order
        // the faults are listed in.
        for (i, f) in sc.faults.iter().enumerate() {
            match *f {
                Fault::Crash {
                    backend,
                    at_ns,
                    recover_after_ns: Some(r),
                } => self
                    .q
                    .schedule(at_ns.saturating_add(r), Ev::Recover(backend as u32)),
                Fault::ZoneOutage {
                    zone,
                    at_ns,
                    duration_ns: Some(d),
                } => self
                    .q
                    .schedule(at_ns.saturating_add(d), Ev::ZoneUp(zone as u32)),
                Fault::Slow {
                    at_ns, duration_ns, ..
                } => self
                    .q
                    .schedule(at_ns.saturating_add(duration_ns), Ev::SlowOff(i as u32)),
                _ => {}
            }
        }
        for (i, f) in sc.faults.iter().enumerate() {
            match *f {
                Fault::Crash { backend, at_ns, .. } => {
                    self.q.schedule(at_ns, Ev::Crash(backend as u32))
                }
                Fault::ZoneOutage { zone, at_ns, .. } => {
                    self.q.schedule(at_ns, Ev::ZoneDown(zone as u32))
                }
                Fault::Slow { at_ns, .. } => self.q.schedule(at_ns, Ev::SlowOn(i as u32)),
                Fault::Random { .. } => {}
            }
        }
        if let SessionState::Shared { outages, .. } = self.state {
            for &(_, until) in outages {
                self.q.schedule(until, Ev::StoreUp);
            }
            for &(from, _) in outages {
                self.q.schedule(from, Ev::StoreDown);
            }
        }
        for (i, d) in sc.deploys.iter().enumerate() {
            self.q.schedule(d.at_ns, Ev::DeployStart(i as u32));
        }
        if let Some(a) = &sc.autoscaling {
            self.q.schedule(a.evaluation_period_ns, Ev::Evaluate);
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
                Ev::Retry(s) => self.on_retry(now, s),
                Ev::Check { b, gen } => self.on_check(now, b as usize, gen),
                Ev::CheckFailed { b, gen } => self.on_check_failed(now, b as usize, gen),
                Ev::Crash(b) => self.crash(now, b as usize, LossCause::Failure),
                Ev::Recover(b) => self.recover(now, b as usize),
                Ev::RandCrash { b, inst } => self.on_rand_crash(now, b as usize, inst),
                Ev::RandRecover { b, inst } => self.on_rand_recover(now, b as usize, inst),
                Ev::ZoneDown(z) => self.on_zone_down(now, z as usize),
                Ev::ZoneUp(z) => self.on_zone_up(now, z as usize),
                Ev::SlowOn(i) => self.on_slow(now, i as usize, true),
                Ev::SlowOff(i) => self.on_slow(now, i as usize, false),
                Ev::Booted { b, inst } => self.on_booted(b as usize, inst),
                Ev::DrainEnd { b, inst } => self.on_drain_end(now, b as usize, inst),
                Ev::Ramp { b, inst } => self.on_ramp(now, b as usize, inst),
                Ev::DeployStart(i) => self.on_deploy_start(now, i as usize),
                Ev::DeployBatch(k) => self.next_batch(now, k as usize),
                Ev::Evaluate => self.on_evaluate(now),
                Ev::StoreDown => {
                    self.store_down = true;
                    self.event(now, ControlKind::StoreDown, None);
                }
                Ev::StoreUp => {
                    self.store_down = false;
                    self.event(now, ControlKind::StoreUp, None);
                }
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
        // Requests in a worker or a queue, or waiting for their retry.
        let in_flight = self.requests.iter().filter(|r| r.measured).count() as u64
            + self.pending.iter().flatten().filter(|p| p.measured).count() as u64;
        let active = self.sessions.iter().filter(|s| s.measured).count() as u64;
        let cfg = &self.sc.strategies[strategy];
        let (mut summary, buckets) = self.rec.finish(
            &cfg.name,
            cfg.spec.kind(),
            end,
            self.sc.backends.workers,
            in_flight,
            active,
            events,
        );
        summary.placement = match self.placement {
            Placement::Local => "local",
            Placement::Shared => "shared",
            Placement::Replicated => "replicated",
        }
        .to_string();
        RunOutput {
            summary,
            buckets,
            workload_digest: self.digest,
            planned_requests: self.planned_requests,
            peak_sessions: self.peak_sessions,
            trace: self.trace.unwrap_or_default(),
            events: self.events,
            instances: self.instances,
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
        let start = self.instances.last().map_or(0, |r| r.t_end_ns);
        self.instances.push(InstanceRow {
            t_start_ns: start,
            t_end_ns: now,
            in_service: self.pool.up().len() as u32,
            provisioned: self.slots.iter().filter(|s| s.life != Life::Absent).count() as u32,
        });
    }

    #[inline]
    fn event(&mut self, t: Nanos, kind: ControlKind, backend: Option<usize>) {
        self.events.push(ControlEvent {
            t_ns: t,
            kind,
            backend: backend.map(|b| b as u32),
        });
    }

    /// Brings the in-service utilisation integrals up to `now`.
    #[inline]
    fn advance_integrals(&mut self, now: Nanos) {
        let dt = (now - self.int_last_ns) as u128;
        self.up_busy_int += dt * self.cur_up_busy as u128;
        self.up_int += dt * self.pool.up().len() as u128;
        self.int_last_ns = now;
    }

    /// Backend `bi`'s busy workers or queue changed: tell the recorder and
    /// the autoscaler's integrals.
    #[inline]
    fn backend_state(&mut self, bi: usize, now: Nanos) {
        let be = &self.backends[bi];
        let (busy, queued) = (be.busy(), be.queued());
        let old = self.rec.busy(bi);
        self.rec.backend_state(bi, now, busy, queued);
        if old != busy && self.autoscaler.is_some() {
            self.advance_integrals(now);
            if self.pool.get(BackendId(bi as u32)).health == Health::Up {
                self.cur_up_busy = self.cur_up_busy + busy as u64 - old as u64;
            }
        }
    }

    /// Sets the balancer's view of backend `bi`.
    fn set_health(&mut self, now: Nanos, bi: usize, h: Health) {
        let id = BackendId(bi as u32);
        let was_up = self.pool.get(id).health == Health::Up;
        let is_up = h == Health::Up;
        if was_up != is_up && self.autoscaler.is_some() {
            self.advance_integrals(now);
            let busy = self.rec.busy(bi) as u64;
            if is_up {
                self.cur_up_busy += busy;
            } else {
                self.cur_up_busy -= busy;
            }
        }
        self.pool.set_health(id, h);
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
        let store_rng =
            (self.placement != Placement::Local).then(|| stream(seed, Stream::Store, n));
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
        if self.placement == Placement::Replicated {
            let i = id as usize;
            if i >= self.replicas.len() {
                self.replicas.resize(i + 1, Replicas::default());
            }
            self.replicas[i] = Replicas::default();
        }
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
        let state_s = match (self.state, &mut s.store_rng) {
            (SessionState::Shared { store_latency, .. }, Some(rng)) => store_latency.sample(rng),
            (SessionState::Replicated { write_latency, .. }, Some(rng)) => {
                write_latency.sample(rng)
            }
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
        let measured = self.rec.measured(now);
        if measured {
            self.rec.requests += 1;
        }
        let p = Pending {
            start_ns: now,
            demand_s,
            state_s,
            measured,
            failed_on: BackendId(u32::MAX),
        };
        self.dispatch(now, sid, p, false);
    }

    /// The retry of a request that failed on a dead backend: routed again
    /// with that backend taken out of the balancer's view for the decision.
    fn on_retry(&mut self, now: Nanos, sid: u32) {
        let p = self.pending[sid as usize]
            .take()
            .expect("a retry has its pending request");
        let x = p.failed_on.index();
        let h = self.pool.get(p.failed_on).health;
        if h != Health::Down {
            self.set_health(now, x, Health::Down);
        }
        self.dispatch(now, sid, p, true);
        if h != Health::Down {
            self.set_health(now, x, h);
        }
    }

    /// Routes one attempt of a request and hands it to a backend.
    fn dispatch(&mut self, now: Nanos, sid: u32, p: Pending, is_retry: bool) {
        let measured = p.measured;
        if self.store_down && self.placement == Placement::Shared {
            // The backend can neither read nor write the session: it fails.
            if measured {
                self.rec.failed += 1;
            }
            self.log(now, sid, TraceKind::StoreDown);
            return self.continue_session(now, sid);
        }
        let s = self.sessions.get_mut(sid);
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
            self.log(now, sid, TraceKind::Failed(b));
            if self.retries && !is_retry {
                if measured {
                    self.rec.retried += 1;
                }
                let i = sid as usize;
                if i >= self.pending.len() {
                    self.pending.resize(i + 1, None);
                }
                self.pending[i] = Some(Pending { failed_on: b, ..p });
                let at = now.saturating_add(self.sc.health_check.retry_delay_ns);
                self.q.schedule(at, Ev::Retry(sid));
                return;
            }
            if measured {
                self.rec.failed += 1;
            }
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
        let state_ns = s_to_ns(p.state_s);
        let hold_ns = s_to_ns(p.demand_s / self.backends[bi].speed).saturating_add(state_ns);
        let rid = self.requests.insert(Request {
            session: sid,
            start_ns: p.start_ns,
            hold_ns,
            measured,
            state_ns,
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
        self.backend_state(bi, now);
    }

    /// The request of session `sid` reached backend `b`: check the
    /// session's state is there; if not it is lost (with its cause) and
    /// recreated here — unless the placement kept it (shared store, replica).
    fn touch_state(&mut self, now: Nanos, sid: u32, b: BackendId) {
        let s = self.sessions.get_mut(sid);
        let epoch = self.backends[b.index()].epoch;
        let rehome = match s.home {
            Some((h, e)) if h == b && e == epoch => false,
            None => true,
            Some((h, e)) => {
                let survived = self.backends[h.index()].epoch == e;
                if survived {
                    self.backends[h.index()].pinned -= 1;
                }
                let replica = match *self.state {
                    SessionState::Replicated { cluster_reads, .. } => {
                        let backends = &self.backends;
                        // Local lookup: only a copy on `b` counts; cluster
                        // lookup: `b` fetches from any surviving holder,
                        // the primary included.
                        (cluster_reads && survived)
                            || self.replicas[sid as usize]
                                .holders()
                                .iter()
                                .any(|&(r, re)| {
                                    if cluster_reads {
                                        backends[r as usize].epoch == re
                                    } else {
                                        r == b.0 && re == epoch
                                    }
                                })
                    }
                    _ => false,
                };
                if self.placement == Placement::Shared || replica {
                    if s.measured {
                        self.rec.losses_avoided += 1;
                    }
                } else {
                    let slot = &self.slots[h.index()];
                    let cause = if !survived {
                        slot.end_causes[e as usize]
                    } else if let Some(c) = slot.retire {
                        c
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
                true
            }
        };
        if rehome {
            s.home = Some((b, epoch));
            self.backends[b.index()].pinned += 1;
            self.issue_app_id(now, sid, b);
        }
        let s = self.sessions.get_mut(sid);
        s.ip_changed = false;
        s.cookie_expired = false;
        s.token_rotated = false;
        if let SessionState::Replicated { copies, .. } = *self.state {
            // Every request writes: the state is copied to the next `copies`
            // running in-service backends after `b`, in slot order.
            let up = self.pool.up();
            let start = up.partition_point(|x| x.0 <= b.0);
            let reps = &mut self.replicas[sid as usize];
            let mut n = 0;
            for k in 0..up.len() {
                if n == copies as usize {
                    break;
                }
                let r = up[(start + k) % up.len()];
                if r != b && self.backends[r.index()].alive {
                    reps.at[n] = (r.0, self.backends[r.index()].epoch);
                    n += 1;
                }
            }
            reps.len = n as u8;
        }
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
        self.backend_state(bi, now);
        self.pool.remove_outstanding(BackendId(bi as u32));
        let r = self.requests.remove(rid);
        if r.measured {
            self.rec.latency(now - r.start_ns);
            self.rec.state_ns += r.state_ns as u128;
        }
        self.log(now, r.session, TraceKind::Completed(BackendId(bi as u32)));
        self.continue_session(now, r.session);
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
