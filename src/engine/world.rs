//! The world one strategy runs in, as a few parts: the workload (sessions,
//! requests, arrivals), the load balancer (pool, router), the fleet
//! (backends and their control state), state placement and the outputs.

use super::event::Ev;
use super::{fleet, Trace, TraceKind};
use crate::control::{Autoscaler, DeployRun, Life, Slot};
use crate::metrics::{ControlEvent, ControlKind, InstanceRow, LossCause, Recorder};
use crate::model::state::Incarnations;
use crate::model::{
    Addresser, Backend, Epoch, InstanceNo, Pending, Placement, Replicas, Request, RequestId,
    Session, SessionId, Slab,
};
use crate::routing::{
    Affinity, BackendId, Health, OnUnavailable, Pool, RouteRng, Router, StrategySpec,
};
use crate::scenario::{Backends, Fault, LbRetry, RetryPolicy, Scenario, SessionState};
use crate::sim::{name_key, stream, stream_seed, EventQueue, Nanos, SimRng, Stream};
use rand::Rng;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

// Every copy a scenario may ask for fits a session's replica table.
const _: () = assert!(crate::scenario::MAX_COPIES as usize <= crate::model::MAX_REPLICAS);

/// Slow-start weights are in hundredths of a full weight.
const FULL_WEIGHT: u32 = 100;
/// A slow-start ramp moves in this many steps.
pub(super) const RAMP_STEPS: u64 = 20;

/// The pool address of a slot whose instance has stopped: no instance has
/// it, so no cookie decodes to an empty slot.
pub(super) const STOPPED_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// What a backend holds at once (workers plus queue), as the pool sees it;
/// `None` with an unbounded queue.
pub(super) fn capacity(b: &Backends) -> Option<u32> {
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

/// Folds one value into a running digest.
#[inline]
pub(super) fn fold(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29)
}

/// The clients' side: sessions, their requests in flight, and what
/// arrivals and the workload digest need.
pub(super) struct Workload {
    pub(super) sessions: Slab<Session, SessionId>,
    /// Per session id: a request waiting for its retry (rare, so beside
    /// the sessions rather than in them).
    pub(super) pending: Vec<Option<Pending>>,
    /// Per session id: a request its user will send again after an error
    /// (`[[clients]] retry`).
    pub(super) resend: Vec<Option<Pending>>,
    /// The next admitted attempt's number.
    pub(super) next_tag: u64,
    pub(super) requests: Slab<Request, RequestId>,
    pub(super) addressers: Vec<Addresser>,
    /// Cumulative segment shares, for picking a session's segment.
    pub(super) cum_shares: Vec<f64>,
    pub(super) arrivals: SimRng,
    pub(super) next_session: u64,
    pub(super) digest: u64,
    pub(super) planned_requests: u64,
    pub(super) peak_sessions: usize,
    /// Arrivals from an access log (`workload.replay`) instead of generated.
    pub(super) replay: Option<super::replay::Replaying>,
    /// Returning users' cookie jars (`cookie_jar = "user"`).
    pub(super) jars: crate::model::jar::Jars,
    /// Attempts waiting on a crashed backend for their timeout
    /// (`blackhole` and `hang` crashes).
    pub(super) held: Slab<super::outcomes::Held>,
}

/// The load balancer: its view of the pool and the strategy.
pub(super) struct Lb {
    pub(super) pool: Pool,
    pub(super) router: Router,
    pub(super) affinity: Affinity,
    pub(super) rng: RouteRng,
    /// How a failed attempt is retried (`None`: it is not).
    pub(super) retry: Option<LbRetry>,
    /// Retries waiting for their attempt (their delay).
    pub(super) retry_waiting: u64,
    /// Retries admitted by a backend and not yet answered or failed.
    pub(super) retry_admitted: u64,
    /// The idle timeout of the strategy's affinity table, if it keeps one.
    pub(super) idle_timeout_ns: Option<u64>,
    /// Pool weight of a full-weight backend (1, or 100 with slow start).
    pub(super) full_weight: u32,
    /// Connect and read timeouts towards backends, ns.
    pub(super) connect_timeout_ns: Nanos,
    pub(super) read_timeout_ns: Nanos,
    /// Passive health checks, when the strategy has them.
    pub(super) passive: Option<crate::control::passive::Passive>,
}

/// The backends: what runs (workers, queues, state) and its control state
/// (slots, deploys, the autoscaler and its utilisation integrals).
pub(super) struct Fleet {
    pub(super) backends: Vec<Backend>,
    pub(super) slots: Vec<Slot>,
    pub(super) free_slots: Vec<BackendId>,
    pub(super) next_instance: InstanceNo,
    /// Launched instances' addresses.
    pub(super) addrs: super::addrs::AddrAlloc,
    /// Per slot: its instance's weight in units of a full weight.
    pub(super) unit_weights: Vec<u32>,
    pub(super) autoscaler: Option<Autoscaler>,
    pub(super) deploys: Vec<DeployRun>,
    pub(super) zone_down: Vec<bool>,
    pub(super) util: Utilisation,
}

impl Incarnations for Fleet {
    #[inline]
    fn epoch(&self, b: BackendId) -> Epoch {
        self.backends[b.index()].epoch
    }
    #[inline]
    fn alive(&self, b: BackendId) -> bool {
        self.backends[b.index()].alive
    }
    #[inline]
    fn ended_by(&self, b: BackendId, e: Epoch) -> LossCause {
        self.slots[b.index()].ended_by(e)
    }
    #[inline]
    fn retiring(&self, b: BackendId) -> Option<LossCause> {
        self.slots[b.index()].retire
    }
}

/// Integral of busy workers on in-service (`Up`) backends, and of the
/// number of them (`pool.up()`), for the autoscaler's utilisation metric;
/// `cur_up_busy` is the busy workers on them now, as last reported to the
/// recorder.
#[derive(Default)]
pub(super) struct Utilisation {
    pub(super) up_busy_int: u128,
    pub(super) up_int: u128,
    pub(super) cur_up_busy: u64,
    pub(super) last_ns: Nanos,
    pub(super) eval_prev: (u128, u128),
}

/// Where sessions keep their state, and the replicas' whereabouts.
pub(super) struct StatePlace<'a> {
    pub(super) state: &'a SessionState,
    pub(super) kind: Placement,
    pub(super) store_down: bool,
    /// Per session id, with `replicated` state: where its copies are.
    pub(super) replicas: Vec<Replicas>,
}

impl StatePlace<'_> {
    /// A new session `id` has no copies yet (with `replicated` state).
    #[inline]
    pub(super) fn new_session(&mut self, id: SessionId) {
        if let Placement::Replicated { .. } = self.kind {
            if id.index() >= self.replicas.len() {
                self.replicas.resize(id.index() + 1, Replicas::EMPTY);
            }
            self.replicas[id.index()] = Replicas::EMPTY;
        }
    }
}

/// What the run writes: the recorder, control events, instance counts and
/// (when asked) the trace.
pub(super) struct Outputs {
    pub(super) rec: Recorder,
    pub(super) events: Vec<ControlEvent>,
    pub(super) instances: Vec<InstanceRow>,
    pub(super) trace: Option<Vec<Trace>>,
    /// Every request sent, when asked for ([`super::run_strategy_logged`]).
    pub(super) access: Option<crate::replay::write::AccessLog>,
}

/// One strategy's world.
pub(super) struct World<'a> {
    pub(super) sc: &'a Scenario,
    pub(super) q: EventQueue<Ev>,
    pub(super) work: Workload,
    pub(super) lb: Lb,
    pub(super) fleet: Fleet,
    pub(super) place: StatePlace<'a>,
    pub(super) out: Outputs,
}

impl<'a> World<'a> {
    pub(super) fn new(sc: &'a Scenario, strategy: usize) -> Self {
        let seed = sc.simulation.seed;
        let cfg = &sc.strategies[strategy];
        let n = sc.backends.count();
        let key = name_key(&cfg.name);
        let router = Router::new(
            &cfg.spec,
            stream_seed(seed, Stream::Routing, key ^ 0x5ec2e7),
        );
        let state = cfg.session_state.as_ref().unwrap_or(&sc.session_state);
        let kind = match *state {
            SessionState::Local => Placement::Local,
            SessionState::Shared { .. } => Placement::Shared,
            SessionState::Replicated { cluster_reads, .. } => {
                Placement::Replicated { cluster_reads }
            }
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
        let pool = super::addrs::initial_pool(sc, full_weight);
        World {
            sc,
            q: EventQueue::with_capacity(1024),
            work: Workload::new(sc),
            lb: Lb {
                pool,
                affinity: router.affinity(),
                router,
                rng: RouteRng::new(stream_seed(seed, Stream::Routing, key)),
                retry: cfg
                    .retry
                    .or_else(|| retries(&cfg.spec).then(|| LbRetry::preset(RetryPolicy::Once))),
                retry_waiting: 0,
                retry_admitted: 0,
                idle_timeout_ns: match cfg.spec {
                    StrategySpec::SourceIpTable { timeout_ns, .. }
                    | StrategySpec::Learn { timeout_ns, .. } => Some(timeout_ns),
                    _ => None,
                },
                full_weight,
                connect_timeout_ns: cfg.upstream.connect_timeout_ns,
                read_timeout_ns: cfg.upstream.read_timeout_ns,
                passive: cfg
                    .upstream
                    .passive
                    .clone()
                    .map(crate::control::passive::Passive::new),
            },
            fleet: Fleet::new(sc),
            place: StatePlace {
                state,
                kind,
                store_down: false,
                replicas: Vec::new(),
            },
            out: Outputs {
                rec: Recorder::new(n, sc.simulation.warmup_ns),
                events: Vec::new(),
                instances: Vec::new(),
                trace: None,
                access: None,
            },
        }
    }

    /// Schedules what is known at the start: the first arrival, warm-up
    /// end, the first bucket end, health checks, faults, deploys and the
    /// autoscaler's first evaluation.
    pub(super) fn schedule_initial(&mut self) {
        let sc = self.sc;
        if self.work.replay.is_some() {
            self.schedule_replay();
        } else if let Some(t) = self.next_arrival(0) {
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
        for i in 0..self.fleet.backends.len() {
            let offset = phase.gen_range(0..hc.interval_ns.max(1));
            let b = BackendId::from_index(i);
            self.q.schedule(offset, Ev::Check { b, gen: 0 });
        }
        for i in 0..self.fleet.slots.len() {
            self.schedule_random_crash(0, BackendId::from_index(i));
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
                    ..
                } => self.q.schedule(
                    at_ns.saturating_add(r),
                    Ev::Recover(BackendId::from_index(backend)),
                ),
                Fault::ZoneOutage {
                    zone,
                    at_ns,
                    duration_ns: Some(d),
                } => self.q.schedule(at_ns.saturating_add(d), Ev::ZoneUp(zone)),
                Fault::Slow {
                    at_ns, duration_ns, ..
                } => self
                    .q
                    .schedule(at_ns.saturating_add(duration_ns), Ev::SlowOff(i)),
                _ => {}
            }
        }
        for (i, f) in sc.faults.iter().enumerate() {
            match *f {
                Fault::Crash {
                    backend,
                    at_ns,
                    mode,
                    ..
                } => self
                    .q
                    .schedule(at_ns, Ev::Crash(BackendId::from_index(backend), mode)),
                Fault::ZoneOutage { zone, at_ns, .. } => self.q.schedule(at_ns, Ev::ZoneDown(zone)),
                Fault::Slow { at_ns, .. } => self.q.schedule(at_ns, Ev::SlowOn(i)),
                Fault::Random { .. } => {}
            }
        }
        if let SessionState::Shared { outages, .. } = self.place.state {
            for &(_, until) in outages {
                self.q.schedule(until, Ev::StoreUp);
            }
            for &(from, _) in outages {
                self.q.schedule(from, Ev::StoreDown);
            }
        }
        for (i, d) in sc.deploys.iter().enumerate() {
            self.q.schedule(d.at_ns, Ev::DeployStart(i));
        }
        if let Some(a) = &sc.autoscaling {
            self.q.schedule(a.evaluation_period_ns, Ev::Evaluate);
        }
        self.schedule_outlier_sweep(0);
    }

    /// Records a trace step for session `sid`, when tracing.
    #[inline]
    pub(super) fn log(&mut self, t: Nanos, sid: SessionId, what: TraceKind) {
        if let Some(tr) = &mut self.out.trace {
            tr.push(Trace {
                t,
                session: self.work.sessions.get(sid).no,
                what,
            });
        }
    }

    /// Ends the output bucket at `now`.
    pub(super) fn close_bucket(&mut self, now: Nanos) {
        let (backends, pool) = (&self.fleet.backends, &self.lb.pool);
        self.out.rec.close_bucket(now, |b| {
            (
                backends[b].pinned,
                backends[b].alive,
                pool.get(BackendId::from_index(b)).health == Health::Up,
            )
        });
        let start = self.out.instances.last().map_or(0, |r| r.t_end_ns);
        let provisioned = self.fleet.slots.iter();
        self.out.instances.push(InstanceRow {
            t_start_ns: start,
            t_end_ns: now,
            in_service: self.lb.pool.up().len() as u32,
            provisioned: provisioned.filter(|s| s.life != Life::Absent).count() as u32,
        });
    }

    /// Records a control event.
    #[inline]
    pub(super) fn event(&mut self, t: Nanos, kind: ControlKind, backend: Option<BackendId>) {
        self.out.events.push(ControlEvent {
            t_ns: t,
            kind,
            backend: backend.map(|b| b.0),
        });
    }

    /// Brings the in-service utilisation integrals up to `now`.
    #[inline]
    pub(super) fn advance_integrals(&mut self, now: Nanos) {
        let u = &mut self.fleet.util;
        let dt = (now - u.last_ns) as u128;
        u.up_busy_int += dt * u.cur_up_busy as u128;
        u.up_int += dt * self.lb.pool.up().len() as u128;
        u.last_ns = now;
    }

    /// Backend `b`'s busy workers or queue changed: tell the recorder and
    /// the autoscaler's integrals.
    #[inline]
    pub(super) fn backend_state(&mut self, b: BackendId, now: Nanos) {
        let bi = b.index();
        let be = &self.fleet.backends[bi];
        let (busy, queued) = (be.busy(), be.queued());
        let old = self.out.rec.busy(bi);
        self.out.rec.backend_state(bi, now, busy, queued);
        if old != busy && self.fleet.autoscaler.is_some() {
            self.advance_integrals(now);
            if self.lb.pool.get(b).health == Health::Up {
                let u = &mut self.fleet.util;
                u.cur_up_busy = u.cur_up_busy + busy as u64 - old as u64;
            }
        }
    }

    /// Sets the balancer's view of backend `b`.
    pub(super) fn set_health(&mut self, now: Nanos, b: BackendId, h: Health) {
        let was_up = self.lb.pool.get(b).health == Health::Up;
        let is_up = h == Health::Up;
        if was_up != is_up && self.fleet.autoscaler.is_some() {
            self.advance_integrals(now);
            let busy = self.out.rec.busy(b.index()) as u64;
            if is_up {
                self.fleet.util.cur_up_busy += busy;
            } else {
                self.fleet.util.cur_up_busy -= busy;
            }
        }
        self.lb.pool.set_health(b, h);
    }
}

impl Workload {
    fn new(sc: &Scenario) -> Self {
        let seed = sc.simulation.seed;
        let mut total = 0.0;
        let cum_shares = sc
            .clients
            .iter()
            .map(|c| {
                total += c.share;
                total
            })
            .collect();
        Workload {
            sessions: Slab::default(),
            pending: Vec::new(),
            resend: Vec::new(),
            next_tag: 0,
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
            digest: 0,
            planned_requests: 0,
            peak_sessions: 0,
            replay: super::replay::Replaying::of(sc),
            jars: Default::default(),
            held: Slab::default(),
        }
    }
}

impl Fleet {
    fn new(sc: &Scenario) -> Self {
        let seed = sc.simulation.seed;
        let random = fleet::random_fault(&sc.faults).is_some();
        let zones = sc.backends.zones.len();
        let mut inst = InstanceNo(0);
        let slots = sc
            .backends
            .speeds
            .iter()
            .enumerate()
            .map(|(i, &speed)| {
                let mut s = Slot::new((i % zones) as u16, inst, 0, speed);
                s.fault_rng = random.then(|| stream(seed, Stream::Faults, inst.stream_index()));
                inst = inst.next();
                s
            })
            .collect();
        Fleet {
            backends: sc
                .backends
                .speeds
                .iter()
                .map(|&s| Backend::new(s, sc.backends.workers, sc.backends.queue_limit))
                .collect(),
            slots,
            free_slots: Vec::new(),
            next_instance: inst,
            addrs: super::addrs::AddrAlloc::new(sc.backends.fleet.pool),
            unit_weights: (0..sc.backends.count())
                .map(|i| sc.backends.fleet.weight(i))
                .collect(),
            autoscaler: sc
                .autoscaling
                .clone()
                .map(|a| Autoscaler::new(a).after_warmup(sc.simulation.warmup_ns)),
            deploys: Vec::new(),
            zone_down: vec![false; zones],
            util: Utilisation::default(),
        }
    }
}
