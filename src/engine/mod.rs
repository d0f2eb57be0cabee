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
//!
//! Ordering and determinism guarantees: events are processed in
//! `(time_ns, seq)` order — simulated time in integer nanoseconds, ties
//! broken by `seq`, the order in which they were scheduled (see
//! [`crate::sim::EventQueue`]) — so no two events are ever unordered and
//! nothing depends on a hash map's iteration order. Every random draw comes
//! from a stream for its purpose (workload, each session, address changes,
//! the router, each instance's failures and health-check phases), so adding
//! draws to one purpose never shifts another's. A run is single-threaded;
//! parallelism exists only across runs ([`run_strategies`] runs strategies
//! on rayon's pool, and a sweep its runs), and results are collected in
//! input order, so the same scenario and seed give byte-identical outputs
//! at any thread count.
//!
//! Layout: `event` holds the typed events and the loop that dispatches
//! them, `world` the world's parts, `requests` the life of a
//! request, `fleet` the control plane's effects; behaviour that needs no
//! event queue (sessions advancing, state placement and loss attribution)
//! lives in [`crate::model`].

use crate::metrics::{BucketRow, ControlEvent, InstanceRow, LossCause, RunSummary};
use crate::routing::BackendId;
use crate::scenario::Scenario;
use crate::sim::Nanos;
use rayon::prelude::*;

mod addrs;
mod event;
mod fleet;
mod outcomes;
mod replay;
mod requests;
mod retries;
mod returning;
mod world;

use world::World;

/// The outcome of one strategy's run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The run's numbers.
    pub summary: RunSummary,
    /// Per-bucket time series.
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
    /// Every request sent, when asked for ([`run_strategy_logged`]).
    pub access: Vec<crate::replay::write::Access>,
    /// What reading the log found, when the workload is replayed.
    pub replay: Option<crate::replay::ReplayStats>,
}

/// One step of a traced run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace {
    /// When.
    pub t: Nanos,
    /// The session's number in arrival order (0, 1, 2, …).
    pub session: u64,
    /// What happened.
    pub what: TraceKind,
}

/// What happened to a session or its request, in a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// The session arrived.
    Arrived,
    /// An attempt of a request was sent to the load balancer, from `src`
    /// with the token `header` (what hashing strategies key on).
    Sent {
        /// The source address.
        src: std::net::IpAddr,
        /// The session token header, if the client sends one.
        header: Option<u64>,
    },
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
    /// Answered by a backend.
    Completed(BackendId),
    /// The session sent its last request and it ended.
    Ended,
    /// The user gave up after their retries failed (`[[clients]] retry`).
    Abandoned,
}

/// Runs strategy number `strategy` of the scenario.
pub fn run_strategy(sc: &Scenario, strategy: usize) -> RunOutput {
    World::new(sc, strategy).run(strategy)
}

/// Runs strategy number `strategy` recording a [`Trace`] of every request
/// (for tests and debugging; costs memory in proportion to requests).
pub fn run_strategy_traced(sc: &Scenario, strategy: usize) -> RunOutput {
    let mut w = World::new(sc, strategy);
    w.out.trace = Some(Vec::new());
    w.run(strategy)
}

/// Runs strategy number `strategy` recording every request sent (time,
/// address, session, service demand) in `access`, to write the run's
/// traffic as a log (costs memory in proportion to requests).
pub fn run_strategy_logged(sc: &Scenario, strategy: usize) -> RunOutput {
    let mut w = World::new(sc, strategy);
    w.out.access = Some(crate::replay::write::AccessLog::Keep(Vec::new()));
    w.run(strategy)
}

/// [`run_strategy_logged`], handing each request to `sink` as it is sent
/// (the same requests in the same order) instead of keeping them: the
/// output's `access` is empty and memory does not grow with the requests.
pub fn run_strategy_streamed(
    sc: &Scenario,
    strategy: usize,
    sink: Box<dyn FnMut(&crate::replay::write::Access)>,
) -> RunOutput {
    let mut w = World::new(sc, strategy);
    w.out.access = Some(crate::replay::write::AccessLog::Stream(sink));
    w.run(strategy)
}

/// Runs the given strategies (indices into `sc.strategies`) in parallel,
/// returning results in the order given.
pub fn run_strategies(sc: &Scenario, which: &[usize]) -> Vec<RunOutput> {
    run_strategies_with(sc, which, |_| {})
}

/// [`run_strategies`], calling `done` with each run's output as it ends
/// (from the thread that ran it, in completion order: for progress).
pub fn run_strategies_with(
    sc: &Scenario,
    which: &[usize],
    done: impl Fn(&RunOutput) + Sync,
) -> Vec<RunOutput> {
    which
        .par_iter()
        .map(|&i| {
            let out = run_strategy(sc, i);
            done(&out);
            out
        })
        .collect()
}
