//! The recorder: latency histogram, request and session outcomes, session
//! loss by cause, and per-backend time buckets; and [`RunSummary`], the
//! finished numbers of one run that the report writes out.

pub mod columns;

use crate::routing::StrategyKind;
use crate::sim::{ns_to_s, Nanos};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub use crate::model::{LossCause, LOSS_CAUSES};

/// What a control event was (`events.csv`'s `event` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ControlKind {
    /// The instance stopped running (fault).
    Crash,
    /// A crashed instance runs again (empty).
    Recover,
    /// The load balancer's health checks marked it down.
    MarkedDown,
    /// The health checks marked it up again.
    MarkedUp,
    /// A zone went down (backend empty; one `crash` row per instance follows).
    ZoneOutage,
    /// A slow period began (service times multiplied).
    SlowStart,
    /// The slow period ended (service times back to normal).
    SlowEnd,
    /// Deregistered: takes no new sessions, stops after the delay.
    DrainStart,
    /// Stopped for good (end of a drain); its slot may be reused.
    Stopped,
    /// A new instance was launched.
    BootStart,
    /// A new instance passed its health checks and takes traffic.
    InService,
    /// The autoscaler decided to add instances (one row per instance).
    ScaleOut,
    /// The autoscaler decided to remove instances (one row per instance).
    ScaleIn,
    /// The shared session store went down.
    StoreDown,
    /// The shared session store came back.
    StoreUp,
    /// Passive health checks took it out of the pool (nginx `max_fails`,
    /// Envoy outlier ejection).
    Ejected,
    /// Back in the pool after an ejection.
    Returned,
    /// Terminated for staying marked down (`replace_unhealthy`); a
    /// `stopped` row and the new instance's `boot_start` follow.
    Replaced,
}

impl ControlKind {
    /// Every kind, in declaration order.
    pub const ALL: [ControlKind; 18] = [
        ControlKind::Crash,
        ControlKind::Recover,
        ControlKind::MarkedDown,
        ControlKind::MarkedUp,
        ControlKind::ZoneOutage,
        ControlKind::SlowStart,
        ControlKind::SlowEnd,
        ControlKind::DrainStart,
        ControlKind::Stopped,
        ControlKind::BootStart,
        ControlKind::InService,
        ControlKind::ScaleOut,
        ControlKind::ScaleIn,
        ControlKind::StoreDown,
        ControlKind::StoreUp,
        ControlKind::Ejected,
        ControlKind::Returned,
        ControlKind::Replaced,
    ];

    /// The kind named `name` in `events.csv` (the inverse of
    /// [`ControlKind::name`]).
    pub fn from_name(name: &str) -> Option<ControlKind> {
        ControlKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind's name in `events.csv`'s `event` column.
    pub fn name(self) -> &'static str {
        match self {
            ControlKind::Crash => "crash",
            ControlKind::Recover => "recover",
            ControlKind::MarkedDown => "marked_down",
            ControlKind::MarkedUp => "marked_up",
            ControlKind::ZoneOutage => "zone_outage",
            ControlKind::SlowStart => "slow_start",
            ControlKind::SlowEnd => "slow_end",
            ControlKind::DrainStart => "drain_start",
            ControlKind::Stopped => "stopped",
            ControlKind::BootStart => "boot_start",
            ControlKind::InService => "in_service",
            ControlKind::ScaleOut => "scale_out",
            ControlKind::ScaleIn => "scale_in",
            ControlKind::StoreDown => "store_down",
            ControlKind::StoreUp => "store_up",
            ControlKind::Ejected => "ejected",
            ControlKind::Returned => "returned",
            ControlKind::Replaced => "replaced",
        }
    }
}

/// One control event of a run, in time order (`events.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ControlEvent {
    /// When it happened, nanoseconds from the start.
    pub t_ns: Nanos,
    #[serde(serialize_with = "ser_kind")]
    /// What happened.
    pub kind: ControlKind,
    /// The backend slot concerned, if any.
    pub backend: Option<u32>,
}

fn ser_kind<S: serde::Serializer>(k: &ControlKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.name())
}

/// Instance counts for one output bucket (`instances.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InstanceRow {
    /// The bucket's start, nanoseconds.
    pub t_start_ns: Nanos,
    /// The bucket's end, nanoseconds.
    pub t_end_ns: Nanos,
    /// Backends taking traffic (up or draining in the load balancer's view) at the bucket's end.
    pub in_service: u32,
    /// Instances running or starting, including booting and draining ones, at the bucket's end.
    pub provisioned: u32,
}

/// One backend's figures for one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketRow {
    /// The backend slot.
    pub backend: u32,
    /// The bucket's start, nanoseconds.
    pub t_start_ns: Nanos,
    /// The bucket's end, nanoseconds.
    pub t_end_ns: Nanos,
    /// Requests that arrived at the backend during the bucket.
    pub requests: u64,
    /// Worker-nanoseconds spent serving.
    pub busy_ns: u128,
    /// Integral of the queue length over the bucket (request-nanoseconds).
    pub queue_ns: u128,
    /// Active sessions whose state lives on this backend at the bucket's end.
    pub pinned_sessions: u32,
    /// Whether the backend was running at the bucket's end.
    pub alive: bool,
    /// Whether the load balancer considered it up at the bucket's end.
    pub lb_up: bool,
}

#[derive(Debug, Clone, Default)]
struct BackendAcc {
    last_ns: Nanos,
    busy: u32,
    queued: u32,
    bucket_requests: u64,
    bucket_busy_ns: u128,
    bucket_queue_ns: u128,
    /// Since the end of warm-up.
    total_requests: u64,
    total_busy_ns: u128,
    /// Time provisioned since the end of warm-up.
    total_present_ns: u128,
    /// Provisioned now (a slot may be empty between instances).
    present: bool,
    /// Provisioned at some time during the current bucket.
    seen: bool,
}

impl BackendAcc {
    #[inline]
    fn advance(&mut self, now: Nanos) {
        let dt = (now - self.last_ns) as u128;
        self.bucket_busy_ns += dt * self.busy as u128;
        self.bucket_queue_ns += dt * self.queued as u128;
        self.total_busy_ns += dt * self.busy as u128;
        if self.present {
            self.total_present_ns += dt;
        }
        self.last_ns = now;
    }
}

/// Counts kept while a run goes.
pub struct Recorder {
    warmup_ns: Nanos,
    latency: Histogram<u64>,
    latency_sum_ns: u128,
    latency_max_ns: Nanos,
    /// Requests that arrived after the warm-up.
    pub requests: u64,
    /// Measured requests that completed.
    pub completed: u64,
    /// Measured requests that failed.
    pub failed: u64,
    /// Measured requests rejected (no backend up, a full queue, a pin that would not move).
    pub rejected: u64,
    /// Sessions that started after the warm-up.
    pub sessions: u64,
    /// Measured sessions that finished all their requests.
    pub sessions_completed: u64,
    /// Measured sessions that ended having lost their state at least once.
    pub sessions_completed_lost: u64,
    /// Measured sessions whose user gave up after their retries failed
    /// (`[[clients]] retry`).
    pub abandoned: u64,
    /// Measured requests that were a user's retry after an error.
    pub client_retries: u64,
    /// Load-balancer retries that were due but refused by the retry budget.
    pub retries_over_budget: u64,
    /// Measured requests that failed because the load balancer's per-try
    /// timeout passed on their last attempt (counted in `failed` too).
    pub timed_out: u64,
    /// Measured sessions that lost their state at least once.
    pub sessions_lost: u64,
    /// [`Recorder::sessions_lost`] by the cause of each session's first loss, indexed by [`LossCause`].
    pub lost_by_cause: [u64; LOSS_CAUSES],
    /// Every loss, a session's later ones included.
    pub loss_events: u64,
    /// [`Recorder::loss_events`] by cause, indexed by [`LossCause`].
    pub loss_events_by_cause: [u64; LOSS_CAUSES],
    /// Attempts that failed on a dead backend and were retried.
    pub retried: u64,
    /// Requests that reached a backend without their state where the
    /// placement (shared store, replica) saved it: losses avoided.
    pub losses_avoided: u64,
    /// Time requests spent on the session store or replication.
    pub state_ns: u128,
    /// Time completed requests spent on no backend before the attempt that
    /// served them (the retry delay of retried requests).
    pub retry_wait_ns: u128,
    backends: Vec<BackendAcc>,
    /// Per backend and time bucket, in closing order.
    pub rows: Vec<BucketRow>,
    bucket_start_ns: Nanos,
}

/// Latencies are recorded in microseconds, 3 significant digits, up to ~31 days.
const HIST_MAX_US: u64 = 31 * 86_400 * 1_000_000;

impl Recorder {
    /// A recorder for `backends` backend slots, measuring from `warmup_ns`.
    pub fn new(backends: usize, warmup_ns: Nanos) -> Self {
        Recorder {
            warmup_ns,
            latency: Histogram::new_with_bounds(1, HIST_MAX_US, 3)
                .expect("static histogram bounds are valid"),
            latency_sum_ns: 0,
            latency_max_ns: 0,
            requests: 0,
            completed: 0,
            failed: 0,
            rejected: 0,
            sessions: 0,
            sessions_completed: 0,
            sessions_completed_lost: 0,
            abandoned: 0,
            client_retries: 0,
            retries_over_budget: 0,
            timed_out: 0,
            sessions_lost: 0,
            lost_by_cause: [0; LOSS_CAUSES],
            loss_events: 0,
            loss_events_by_cause: [0; LOSS_CAUSES],
            retried: 0,
            losses_avoided: 0,
            state_ns: 0,
            retry_wait_ns: 0,
            backends: vec![
                BackendAcc {
                    present: true,
                    seen: true,
                    ..BackendAcc::default()
                };
                backends
            ],
            rows: Vec::new(),
            bucket_start_ns: 0,
        }
    }

    #[inline]
    /// Whether something that started at `start_ns` is measured (after the warm-up).
    pub fn measured(&self, start_ns: Nanos) -> bool {
        start_ns >= self.warmup_ns
    }

    #[inline]
    /// A request completed after `ns` nanoseconds.
    pub fn latency(&mut self, ns: Nanos) {
        self.completed += 1;
        self.latency_sum_ns += ns as u128;
        self.latency_max_ns = self.latency_max_ns.max(ns);
        self.latency.saturating_record((ns / 1_000).max(1));
    }

    /// A loss event for a measured session; `first` marks the session's first.
    #[inline]
    pub fn loss(&mut self, cause: LossCause, first: bool) {
        self.loss_events += 1;
        self.loss_events_by_cause[cause as usize] += 1;
        if first {
            self.sessions_lost += 1;
            self.lost_by_cause[cause as usize] += 1;
        }
    }

    /// A request was sent to backend `b`: counted in its bucket whatever
    /// became of it, and in its post-warm-up total (which the summary's
    /// balance figures use) only if the backend `accepted` it.
    #[inline]
    pub fn backend_request(&mut self, b: usize, now: Nanos, accepted: bool) {
        let acc = &mut self.backends[b];
        acc.bucket_requests += 1;
        if accepted && now >= self.warmup_ns {
            acc.total_requests += 1;
        }
    }

    /// A new backend slot, not provisioned yet; returns its index.
    pub fn add_backend(&mut self, now: Nanos) -> usize {
        self.backends.push(BackendAcc {
            last_ns: now,
            ..BackendAcc::default()
        });
        self.backends.len() - 1
    }

    /// Slot `b` holds an instance (`true`) or none (`false`) from `now`.
    /// Slots without an instance during a whole bucket get no row in it.
    pub fn set_present(&mut self, b: usize, now: Nanos, present: bool) {
        let acc = &mut self.backends[b];
        acc.advance(now);
        acc.present = present;
        acc.seen |= present;
    }

    /// Backend `b`'s busy workers and queue length changed to these at `now`.
    #[inline]
    pub fn backend_state(&mut self, b: usize, now: Nanos, busy: u32, queued: u32) {
        let acc = &mut self.backends[b];
        acc.advance(now);
        acc.busy = busy;
        acc.queued = queued;
    }

    /// Backend `b`'s busy workers as last reported.
    #[inline]
    pub fn busy(&self, b: usize) -> u32 {
        self.backends[b].busy
    }

    /// The warm-up ends: totals start from zero here.
    pub fn end_warmup(&mut self, now: Nanos) {
        for acc in &mut self.backends {
            acc.advance(now);
            acc.total_busy_ns = 0;
            acc.total_requests = 0;
            acc.total_present_ns = 0;
        }
    }

    /// Closes the current bucket at `now`; `state(b)` gives
    /// `(pinned sessions, alive, lb_up)` for each backend.
    pub fn close_bucket(&mut self, now: Nanos, mut state: impl FnMut(usize) -> (u32, bool, bool)) {
        for (b, acc) in self.backends.iter_mut().enumerate() {
            acc.advance(now);
            if !acc.seen && acc.bucket_requests == 0 {
                continue;
            }
            acc.seen = acc.present;
            let (pinned_sessions, alive, lb_up) = state(b);
            self.rows.push(BucketRow {
                backend: b as u32,
                t_start_ns: self.bucket_start_ns,
                t_end_ns: now,
                requests: acc.bucket_requests,
                busy_ns: acc.bucket_busy_ns,
                queue_ns: acc.bucket_queue_ns,
                pinned_sessions,
                alive,
                lb_up,
            });
            acc.bucket_requests = 0;
            acc.bucket_busy_ns = 0;
            acc.bucket_queue_ns = 0;
        }
        self.bucket_start_ns = now;
    }

    /// Finishes the run at `end_ns` into a summary.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        strategy: &str,
        kind: StrategyKind,
        end_ns: Nanos,
        workers: u32,
        in_flight_end: u64,
        sessions_active_end: u64,
        events: u64,
    ) -> (RunSummary, Vec<BucketRow>) {
        for acc in &mut self.backends {
            acc.advance(end_ns);
        }
        // Each backend slot over the time it held an instance: with a fixed
        // fleet that is the whole measured window; with autoscaling or
        // deploys, slots that held nothing after warm-up are left out.
        let window = end_ns.saturating_sub(self.warmup_ns) as f64;
        let present: Vec<&BackendAcc> = self
            .backends
            .iter()
            .filter(|a| a.total_present_ns > 0)
            .collect();
        let utils: Vec<f64> = present
            .iter()
            .map(|a| a.total_busy_ns as f64 / (a.total_present_ns as f64 * workers as f64))
            .collect();
        let reqs: Vec<f64> = present
            .iter()
            .map(|a| {
                if a.total_present_ns as f64 == window {
                    a.total_requests as f64
                } else {
                    a.total_requests as f64 * window / a.total_present_ns as f64
                }
            })
            .collect();
        let util_mean = mean(&utils);
        let util_max = utils.iter().copied().fold(0.0, f64::max);
        let (req_mean, req_sd) = mean_sd(&reqs);
        let h = &self.latency;
        let q = |p: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(p) as f64 / 1_000.0
            }
        };
        let max_ms = self.latency_max_ns as f64 / 1e6;
        let sessions = self.sessions;
        let pct = |x: u64| {
            if sessions == 0 {
                0.0
            } else {
                100.0 * x as f64 / sessions as f64
            }
        };
        let summary = RunSummary {
            strategy: strategy.to_string(),
            kind: kind.name().to_string(),
            requests: self.requests,
            completed: self.completed,
            failed: self.failed,
            rejected: self.rejected,
            in_flight_end,
            sessions,
            sessions_completed: self.sessions_completed,
            sessions_active_end,
            abandoned: self.abandoned,
            client_retries: self.client_retries,
            retries_over_budget: self.retries_over_budget,
            timed_out: self.timed_out,
            sessions_lost: self.sessions_lost,
            sessions_lost_pct: pct(self.sessions_lost),
            sessions_lost_finished_pct: if self.sessions_completed == 0 {
                0.0
            } else {
                100.0 * self.sessions_completed_lost as f64 / self.sessions_completed as f64
            },
            lost_failure: self.lost_by_cause[LossCause::Failure as usize],
            lost_ip_change: self.lost_by_cause[LossCause::IpChange as usize],
            lost_cookie_blocked: self.lost_by_cause[LossCause::CookieBlocked as usize],
            lost_ttl_expired: self.lost_by_cause[LossCause::TtlExpired as usize],
            lost_rebalanced: self.lost_by_cause[LossCause::Rebalanced as usize],
            lost_token_rotation: self.lost_by_cause[LossCause::TokenRotation as usize],
            lost_deploy: self.lost_by_cause[LossCause::Deploy as usize],
            lost_scale_in: self.lost_by_cause[LossCause::ScaleIn as usize],
            retried: self.retried,
            losses_avoided: self.losses_avoided,
            state_latency_mean_ms: if self.completed == 0 {
                0.0
            } else {
                self.state_ns as f64 / self.completed as f64 / 1e6
            },
            loss_events: self.loss_events,
            latency_mean_ms: if self.completed == 0 {
                0.0
            } else {
                self.latency_sum_ns as f64 / self.completed as f64 / 1e6
            },
            retry_delay_mean_ms: if self.completed == 0 {
                0.0
            } else {
                self.retry_wait_ns as f64 / self.completed as f64 / 1e6
            },
            latency_p50_ms: q(0.50),
            latency_p95_ms: q(0.95),
            latency_p99_ms: q(0.99),
            latency_p999_ms: q(0.999),
            latency_max_ms: max_ms,
            util_mean,
            util_max,
            imbalance_util_max_over_mean: if util_mean > 0.0 {
                util_max / util_mean
            } else {
                0.0
            },
            requests_cv: if req_mean > 0.0 {
                req_sd / req_mean
            } else {
                0.0
            },
            max_backend_request_share: if req_mean > 0.0 {
                reqs.iter().copied().fold(0.0, f64::max) / (req_mean * reqs.len() as f64)
            } else {
                0.0
            },
            measured_s: ns_to_s(end_ns.saturating_sub(self.warmup_ns)),
            events,
            placement: String::new(),
            latency_curve_ms: LATENCY_PERCENTILES.iter().map(|p| q(p / 100.0)).collect(),
        };
        (summary, self.rows)
    }
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Mean and population standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let m = mean(xs);
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
    (m, v.sqrt())
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// The figures of one strategy's run; one row of `summary.csv`. Column
/// meanings are documented in `docs/output.md`. Deserialize: sweeps read
/// summaries back from their results log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The strategy's name in the scenario.
    pub strategy: String,
    /// The strategy's kind, by routing's name (`cookie`, `ip_hash`, …).
    pub kind: String,
    /// Requests that arrived after the warm-up.
    pub requests: u64,
    /// Measured requests that completed.
    pub completed: u64,
    /// Measured requests that failed.
    pub failed: u64,
    /// Measured requests rejected (no backend up, a full queue, a pin that would not move).
    pub rejected: u64,
    /// Requests still in flight when the run ended.
    pub in_flight_end: u64,
    /// Sessions that started after the warm-up.
    pub sessions: u64,
    /// Measured sessions that finished all their requests.
    pub sessions_completed: u64,
    /// Measured sessions still going when the run ended.
    pub sessions_active_end: u64,
    /// Measured sessions whose user gave up after their retries failed
    /// (`[[clients]] retry`; left out of `summary.json` when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abandoned: u64,
    /// Measured requests that were a user's retry after an error (counted
    /// in `requests` too; left out of `summary.json` when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub client_retries: u64,
    /// Load-balancer retries that were due but refused by the retry budget
    /// (left out of `summary.json` when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries_over_budget: u64,
    /// Measured requests whose last attempt passed the load balancer's
    /// per-try timeout: failed with a 504 (counted in `failed` too; left out
    /// of `summary.json` when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timed_out: u64,
    /// Measured sessions that lost their state at least once.
    pub sessions_lost: u64,
    /// Lost sessions over all measured sessions, in percent; sessions still
    /// active at the end count as not lost, though their later losses are
    /// never seen.
    pub sessions_lost_pct: f64,
    /// Over the measured sessions that ended during the run: the percentage
    /// that lost their state at least once (every loss of these is seen).
    #[serde(default)]
    pub sessions_lost_finished_pct: f64,
    /// Sessions lost first to a backend crash.
    pub lost_failure: u64,
    /// Sessions lost first to a client address change.
    pub lost_ip_change: u64,
    /// Sessions lost first because the client blocks cookies.
    pub lost_cookie_blocked: u64,
    /// Sessions lost first to affinity-cookie expiry.
    pub lost_ttl_expired: u64,
    /// Sessions lost first to being sent elsewhere (no affinity, re-hash, redispatch).
    pub lost_rebalanced: u64,
    /// Sessions lost first to a token rotation.
    pub lost_token_rotation: u64,
    /// Sessions lost first to a rolling deploy.
    pub lost_deploy: u64,
    /// Sessions lost first to a scale-in.
    pub lost_scale_in: u64,
    /// Attempts that failed on a dead backend and were retried elsewhere.
    pub retried: u64,
    /// Times a request reached a backend without its local state but the
    /// placement (shared store, replica) had it: losses avoided.
    pub losses_avoided: u64,
    /// Mean time per completed request spent on the store or on replication.
    pub state_latency_mean_ms: f64,
    /// Every loss, a session's later ones included.
    pub loss_events: u64,
    /// Mean time from sending to the answer over completed requests,
    /// retry delays included, ms.
    pub latency_mean_ms: f64,
    /// The part of `latency_mean_ms` spent on no backend, waiting for a
    /// retry: `latency_mean_ms − retry_delay_mean_ms` is the mean time on
    /// backends (queue, service, state).
    #[serde(default)]
    pub retry_delay_mean_ms: f64,
    /// Median latency, ms.
    pub latency_p50_ms: f64,
    /// 95th percentile latency, ms.
    pub latency_p95_ms: f64,
    /// 99th percentile latency, ms.
    pub latency_p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub latency_p999_ms: f64,
    /// Largest latency, ms.
    pub latency_max_ms: f64,
    /// Mean utilisation over the backends, 0–1.
    pub util_mean: f64,
    /// The busiest backend's utilisation, 0–1.
    pub util_max: f64,
    /// `util_max / util_mean` (1 = even).
    pub imbalance_util_max_over_mean: f64,
    /// Coefficient of variation of the requests per backend.
    pub requests_cv: f64,
    /// The busiest backend's share of requests, 0–1.
    pub max_backend_request_share: f64,
    /// The measured window (after the warm-up), seconds.
    pub measured_s: f64,
    /// Simulation events processed.
    pub events: u64,
    /// Where session state lived in this run: `local`, `shared`, `replicated`.
    pub placement: String,
    /// Latency at each of [`LATENCY_PERCENTILES`], ms, from the recorded
    /// histogram (written to `latency_percentiles.csv`; not part of
    /// `summary.json` or a sweep's log, so empty when read back).
    #[serde(skip)]
    pub latency_curve_ms: Vec<f64>,
}

/// The percentiles of `latency_percentiles.csv`, dense towards the tail
/// (the usual 0 / 90 / 99 / 99.9 / 99.99 percentile plot).
pub const LATENCY_PERCENTILES: &[f64] = &[
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0, 96.0, 97.0,
    97.5, 98.0, 98.5, 99.0, 99.25, 99.5, 99.75, 99.9, 99.925, 99.95, 99.975, 99.99, 99.995, 99.999,
    100.0,
];

impl RunSummary {
    /// Sessions lost to `cause` (its `lost_<cause>` column).
    pub fn lost(&self, cause: LossCause) -> u64 {
        match cause {
            LossCause::Failure => self.lost_failure,
            LossCause::IpChange => self.lost_ip_change,
            LossCause::CookieBlocked => self.lost_cookie_blocked,
            LossCause::TtlExpired => self.lost_ttl_expired,
            LossCause::Rebalanced => self.lost_rebalanced,
            LossCause::TokenRotation => self.lost_token_rotation,
            LossCause::Deploy => self.lost_deploy,
            LossCause::ScaleIn => self.lost_scale_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kind_and_loss_cause_names_read_back() {
        for k in ControlKind::ALL {
            assert_eq!(ControlKind::from_name(k.name()), Some(k));
        }
        for c in LossCause::ALL {
            assert_eq!(LossCause::from_name(c.name()), Some(c));
        }
        assert_eq!(ControlKind::from_name("explode"), None);
        assert_eq!(LossCause::from_name(""), None);
    }

    #[test]
    fn busy_time_is_integrated_across_buckets_and_warmup() {
        let mut r = Recorder::new(1, 10);
        r.backend_state(0, 0, 2, 0); // two workers busy from t=0
        r.close_bucket(5, |_| (0, true, true));
        r.end_warmup(10);
        r.backend_state(0, 15, 1, 3);
        r.close_bucket(20, |_| (7, true, true));
        assert_eq!(r.rows[0].busy_ns, 10);
        assert_eq!(r.rows[1].busy_ns, 2 * 10 + 5);
        assert_eq!(r.rows[1].queue_ns, 3 * 5);
        assert_eq!(r.rows[1].pinned_sessions, 7);
        let (s, _) = r.finish("x", StrategyKind::RoundRobin, 20, 2, 0, 0, 0);
        // After warm-up: 2 busy for 5 ns, 1 busy for 5 ns, over 10 ns × 2 workers.
        assert!((s.util_mean - 15.0 / 20.0).abs() < 1e-12);
    }

    #[test]
    fn losses_count_once_per_session() {
        let mut r = Recorder::new(1, 0);
        r.sessions = 4;
        r.loss(LossCause::Failure, true);
        r.loss(LossCause::Rebalanced, false);
        r.loss(LossCause::IpChange, true);
        let (s, _) = r.finish("x", StrategyKind::Random, 1, 1, 0, 0, 0);
        assert_eq!((s.sessions_lost, s.loss_events), (2, 3));
        assert_eq!(
            (s.lost_failure, s.lost_ip_change, s.lost_rebalanced),
            (1, 1, 0)
        );
        assert_eq!(s.sessions_lost_pct, 50.0);
    }

    #[test]
    fn finished_loss_counts_only_sessions_that_ended() {
        // 10 measured sessions: 4 ended (1 of them lost), 6 still active
        // (2 of them lost so far).
        let mut r = Recorder::new(1, 0);
        r.sessions = 10;
        r.sessions_completed = 4;
        r.sessions_completed_lost = 1;
        for _ in 0..3 {
            r.loss(LossCause::Failure, true);
        }
        let (s, _) = r.finish("x", StrategyKind::Random, 1, 1, 0, 6, 0);
        assert_eq!(s.sessions_lost_pct, 30.0);
        assert_eq!(s.sessions_lost_finished_pct, 25.0);
    }

    #[test]
    fn retry_delay_is_the_part_of_latency_on_no_backend() {
        let mut r = Recorder::new(1, 0);
        // Two requests: 10 ms on a backend; 30 ms of which 25 ms waiting
        // for the retry.
        r.latency(10_000_000);
        r.latency(30_000_000);
        r.retry_wait_ns += 25_000_000;
        let (s, _) = r.finish("x", StrategyKind::Random, 1, 1, 0, 0, 0);
        assert!((s.latency_mean_ms - 20.0).abs() < 1e-9);
        assert!((s.retry_delay_mean_ms - 12.5).abs() < 1e-9);
        // Latency on backends: (10 + 5) / 2.
        assert!((s.latency_mean_ms - s.retry_delay_mean_ms - 7.5).abs() < 1e-9);
    }
}
