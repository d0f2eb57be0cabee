//! The validated scenario: units resolved (seconds → integer nanoseconds),
//! distributions built, cross-field checks done. Everything downstream of
//! `scenario` sees only these types, never the raw TOML.

use crate::routing::StrategySpec;
use crate::scenario::dist::Dist;

/// Nanoseconds per second, the engine's clock unit.
pub const NS_PER_S: f64 = 1e9;

/// Converts seconds (validated finite, non-negative) to integer nanoseconds.
pub fn secs_to_ns(s: f64) -> u64 {
    debug_assert!(
        s.is_finite() && s >= 0.0,
        "seconds must be finite and >= 0, got {s}"
    );
    (s * NS_PER_S).round() as u64
}

/// A complete, validated scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    /// Short name used for the output directory (`results/<name>/`).
    pub name: String,
    /// `[simulation]`: length, warm-up and seed.
    pub simulation: Simulation,
    /// `[workload]`: session arrivals and what each session does.
    pub workload: Workload,
    /// `[[clients]]`: where sessions come from (one direct segment when the
    /// file lists none).
    pub clients: Vec<ClientSegment>,
    /// `[backends]`: the fleet at the start.
    pub backends: Backends,
    /// `[health_check]`: how the load balancer notices failures.
    pub health_check: HealthCheck,
    /// `[session_state]`: where session state lives, for strategies that do
    /// not set their own placement.
    pub session_state: SessionState,
    /// `[[strategies]]`, in file order (the order of every output).
    pub strategies: Vec<StrategyConfig>,
    /// `[[faults]]`, in file order.
    pub faults: Vec<Fault>,
    /// `[output]`: resolution of the time-bucketed outputs.
    pub output: Output,
    /// Rolling deploys, in start order.
    pub deploys: Vec<Deploy>,
    /// `[autoscaling]`, if the fleet scales.
    pub autoscaling: Option<Autoscaling>,
    /// `[decision]` and `[[slo]]`, or their defaults. Not part of the
    /// scenario hash: they judge the results but do not change them.
    #[serde(skip)]
    pub decision: super::decision::Decision,
    /// The repeating `[[deploys]]` entries (`every`), as runs of
    /// `deploys`; for the report. Not hashed: `deploys` holds every one.
    #[serde(skip)]
    pub deploy_series: Vec<Series>,
    /// The repeating `[[faults]]` entries, as runs of `faults`. Not hashed.
    #[serde(skip)]
    pub fault_series: Vec<Series>,
    /// What loading changed and why (faults past a shortened end, dropped).
    /// Not hashed: what was dropped is already absent from the rest.
    #[serde(skip)]
    pub load_warnings: Vec<super::sanity::Warning>,
}

/// One repeating `[[deploys]]` or `[[faults]]` entry (`every = "1h"`),
/// expanded at validation into `count` entries from index `first` on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Series {
    /// Index of the first entry it stands for.
    pub first: usize,
    /// How many entries it stands for.
    pub count: usize,
    /// Time between two starts, ns.
    pub every_ns: u64,
}

/// `[simulation]`: how long to simulate and with which seed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Simulation {
    /// Simulated time from the start to the end of the run, ns.
    pub duration_ns: u64,
    /// Requests that start before this are not measured.
    pub warmup_ns: u64,
    /// Master seed: every random stream of the run derives from it.
    pub seed: u64,
    /// Replications per strategy (`simulation.replications`, 1..=
    /// [`MAX_REPLICATIONS`]); replication `r` runs with seed
    /// `replication_seed(seed, r)`. Not part of the scenario hash: it
    /// repeats the simulation, it does not change it.
    #[serde(skip)]
    pub replications: u32,
}

/// The most replications a run may ask for.
pub const MAX_REPLICATIONS: u32 = 1000;

/// `[workload]`: session arrivals and the requests each session sends.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Workload {
    /// Mean session arrivals per second (before the profile multiplier).
    pub session_rate: f64,
    /// Piecewise-constant multiplier on `session_rate`; empty = constant 1.0.
    pub profile: RateProfile,
    /// Requests per session; samples are rounded to the nearest integer, minimum 1.
    pub requests_per_session: Dist,
    /// Think time between a response and the session's next request, seconds.
    pub think_time: Dist,
    /// Service demand of one request on a backend of speed 1.0, seconds.
    pub service_time: Dist,
    /// Arrivals replayed from an access log (`workload.replay`) instead of
    /// generated; the synthetic keys above then only fill in what the log
    /// lacks (`service_time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<super::replay::Replay>,
}

/// A piecewise-constant rate multiplier: `steps[i] = (from_ns, multiplier)`,
/// sorted by `from_ns`, the first at 0. With `period_ns`, the profile repeats.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RateProfile {
    /// `(from_ns, multiplier)`, sorted by time, the first at 0; empty = a
    /// constant 1.0.
    pub steps: Vec<(u64, f64)>,
    /// Length of one repetition, ns; `None` = the last step lasts to the end.
    pub period_ns: Option<u64>,
}

impl RateProfile {
    /// The multiplier in force at `t_ns` and the time at which it next changes
    /// (`u64::MAX` when it never does).
    pub fn at(&self, t_ns: u64) -> (f64, u64) {
        if self.steps.is_empty() {
            return (1.0, u64::MAX);
        }
        let (base, local) = match self.period_ns {
            Some(p) => (t_ns - t_ns % p, t_ns % p),
            None => (0, t_ns),
        };
        // Index of the last step whose start is <= local.
        let i = self
            .steps
            .partition_point(|&(from, _)| from <= local)
            .saturating_sub(1);
        let mult = self.steps[i].1;
        let next = match (self.steps.get(i + 1), self.period_ns) {
            (Some(&(from, _)), _) => base.saturating_add(from),
            (None, Some(p)) => base.saturating_add(p),
            (None, None) => u64::MAX,
        };
        (mult, next)
    }
}

/// How a segment's clients reach the load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Network {
    /// Every user has a public address of their own.
    Direct,
    /// Corporate NAT: `users_per_ip` users share one egress address, stable
    /// per user.
    Nat,
    /// Carrier-grade NAT: a pool of addresses shared by `users_per_ip` users
    /// each; a session gets an arbitrary pool address, and a new one on each
    /// IP change.
    Cgnat,
}

/// One `[[clients]]` segment: a population of users reaching the load
/// balancer the same way.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientSegment {
    /// Label used in outputs.
    pub name: String,
    /// Fraction of sessions from this segment (all shares sum to 1).
    pub share: f64,
    /// Distinct users in the segment.
    pub users: u32,
    /// How the users reach the load balancer (direct, NAT, CGNAT).
    pub network: Network,
    /// Users per public address (`Nat`, `Cgnat`); 1 for `Direct`.
    pub users_per_ip: u32,
    /// IPv6 addresses instead of IPv4.
    pub ipv6: bool,
    /// Mid-session public address changes per second (mobile churn), 0 = never.
    pub ip_change_rate: f64,
    /// Fraction of sessions whose client does not store or return cookies.
    pub cookie_block: f64,
    /// Whether the client sends a session token header.
    pub token_header: bool,
    /// How often the token changes (API token rotation), ns; 0 = never.
    pub token_rotation_ns: u64,
    /// Whether a user's cookies outlive their session (`cookie_jar`).
    #[serde(skip_serializing_if = "CookieJar::is_session")]
    pub cookie_jar: CookieJar,
    /// What a user does after an error (`retry`); `None`: goes on with the
    /// next request as if nothing happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<ClientRetry>,
}

/// A user's retries after an error (`[[clients]] retry`): the failed or
/// rejected request is sent again after `delay`, up to `attempts` times;
/// an error after the last one and the user abandons the session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientRetry {
    /// Retries of one request before the user gives up (0: gives up at the
    /// first error).
    pub attempts: u32,
    /// Seconds from the error to the retry.
    pub delay: Dist,
}

/// Whose cookie jar a session's cookies live in (`[[clients]] cookie_jar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CookieJar {
    /// Every session starts with an empty jar: cookies end with the session.
    #[default]
    Session,
    /// The user's browser keeps its cookies between the user's sessions,
    /// each until its expiry (`crate::model::jar`).
    User,
}

impl CookieJar {
    /// Whether cookies end with the session (the default).
    pub fn is_session(&self) -> bool {
        *self == CookieJar::Session
    }
}

impl ClientSegment {
    /// A segment of users on their own addresses that keep cookies and
    /// never change address: the default when a scenario lists no clients.
    pub fn direct(name: &str, share: f64, users: u32) -> Self {
        ClientSegment {
            name: name.to_string(),
            share,
            users,
            network: Network::Direct,
            users_per_ip: 1,
            ipv6: false,
            ip_change_rate: 0.0,
            cookie_block: 0.0,
            token_header: false,
            token_rotation_ns: 0,
            cookie_jar: CookieJar::Session,
            retry: None,
        }
    }
}

/// `[backends]`: the fleet at the start of the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Backends {
    /// One entry per backend, in order: `b0`, `b1`, …
    pub speeds: Vec<f64>,
    /// Parallel request slots per backend.
    pub workers: u32,
    /// Maximum queued (not yet in service) requests; `None` = unbounded.
    pub queue_limit: Option<u32>,
    /// Availability-zone names; backend `i` starts in zone `i % zones.len()`.
    /// One zone (`"default"`) when none are given.
    pub zones: Vec<String>,
    /// The fleet's own addresses, names, weights and address pool (all
    /// empty for the default fleet, which then hashes as before).
    #[serde(skip_serializing_if = "super::addresses::FleetSpec::is_default")]
    pub fleet: super::addresses::FleetSpec,
    /// Instances the health checks keep marked down are replaced
    /// (`replace_unhealthy`); `None`: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_unhealthy: Option<Replacement>,
    /// The speed of instances the autoscaler or a replacement launches
    /// (`launch_speed`); `None`: the first backend's for the autoscaler,
    /// the replaced instance's for a replacement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_speed: Option<f64>,
}

/// `[backends] replace_unhealthy`: as an auto-scaling group or a
/// Kubernetes controller does, an instance still marked down `grace_ns`
/// after the health checks marked it down is terminated and a new one
/// launched in its place.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Replacement {
    /// From being marked down to being terminated, if still down, ns.
    pub grace_ns: u64,
    /// The new instance's launch-to-running time, ns.
    pub boot_time_ns: u64,
}

impl Backends {
    /// Backends at the start of the run (autoscaling may change it later).
    pub fn count(&self) -> usize {
        self.speeds.len()
    }
    /// The name a backend is known by in scenarios and outputs.
    pub fn name(i: usize) -> String {
        format!("b{i}")
    }
}

/// Active health checking as the load balancer sees it (ALB defaults).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HealthCheck {
    /// Time between two probes of one backend, ns.
    pub interval_ns: u64,
    /// How long a probe waits for an answer before it counts as failed, ns.
    pub timeout_ns: u64,
    /// Consecutive failures before a backend is marked down.
    pub unhealthy_threshold: u32,
    /// Consecutive successes before a down backend is marked up again.
    pub healthy_threshold: u32,
    /// How long a request sent to a dead backend takes to fail (a connect
    /// timeout) before it is retried elsewhere or reported failed.
    pub retry_delay_ns: u64,
}

/// Where session state lives, which decides whether a session that moves
/// to another backend loses it.
#[derive(Debug, Clone, serde::Serialize)]
pub enum SessionState {
    /// State lives in the memory of the backend that created it.
    Local,
    /// State lives in an external store; every request pays one round trip.
    /// While the store is down (`outages`, `(from, until)` in ns, sorted,
    /// disjoint), every request fails.
    Shared {
        /// Round-trip time to the store added to every request, seconds.
        store_latency: Dist,
        /// Store outages, `(from_ns, until_ns)`, sorted and disjoint.
        outages: Vec<(u64, u64)>,
    },
    /// State lives on the backend that wrote it and is copied to `copies`
    /// other in-service backends on every request (a write), which adds
    /// `write_latency` to the request.
    Replicated {
        /// Backends besides the writer that hold a copy.
        copies: u32,
        /// Time the copy adds to every request, seconds.
        write_latency: Dist,
        /// Whether a backend without a copy fetches one from a surviving holder.
        cluster_reads: bool,
    },
}

/// One `[[strategies]]` entry, validated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StrategyConfig {
    /// Unique label used in outputs.
    pub name: String,
    /// The routing strategy and its options.
    pub spec: StrategySpec,
    /// This strategy's own session-state placement (`placement` key), if it
    /// overrides the scenario's `[session_state]`.
    pub session_state: Option<SessionState>,
    /// How the load balancer retries a failed attempt (`retry` key); `None`:
    /// the strategy's default (one retry elsewhere of an attempt that
    /// reached a dead backend, when the strategy redispatches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<LbRetry>,
    /// How its load balancer talks to backends: product, timeouts and
    /// passive health. Left out of the scenario hash unless a key set it.
    #[serde(skip_serializing_if = "Upstream::is_implicit")]
    pub upstream: Upstream,
}

/// A strategy's load balancer towards its backends (`product`,
/// `connect_timeout`, `read_timeout`, `passive_health`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Upstream {
    /// The product it follows (the kind's or hash's unless set).
    pub product: crate::routing::Product,
    /// How long a connect to a backend that does not answer (a
    /// `blackhole` crash) waits before it fails, ns.
    pub connect_timeout_ns: u64,
    /// How long a request on a backend that accepted it but never answers
    /// (a `hang` crash) waits before it fails, ns.
    pub read_timeout_ns: u64,
    /// Passive health checks (off unless `passive_health` is given).
    pub passive: Option<PassiveHealth>,
    /// Whether any of the keys above was written (else the defaults are
    /// not part of the scenario hash, so scenarios that predate them keep
    /// theirs).
    #[serde(skip)]
    pub explicit: bool,
}

impl Upstream {
    /// The defaults of `product`, no passive checks, no key written.
    pub fn of(product: crate::routing::Product) -> Self {
        let (c, r) = product.default_timeouts_s();
        Upstream {
            product,
            connect_timeout_ns: secs_to_ns(c),
            read_timeout_ns: secs_to_ns(r),
            passive: None,
            explicit: false,
        }
    }

    /// No key of the upstream was written.
    pub fn is_implicit(&self) -> bool {
        !self.explicit
    }
}

/// Passive health checks: what the load balancer concludes from the
/// requests it sends, per product (`passive_health`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum PassiveHealth {
    /// nginx `server … max_fails=N fail_timeout=T`: after `max_fails`
    /// failed attempts (without a success in between that followed a
    /// check) the peer is skipped for `fail_timeout`.
    Nginx {
        /// `max_fails` (nginx default 1).
        max_fails: u32,
        /// `fail_timeout` (nginx default 10 s), ns.
        fail_timeout_ns: u64,
    },
    /// Envoy `outlier_detection`: consecutive 5xx and gateway failures eject
    /// a host for `base_ejection_time` × its ejections (at most
    /// `max_ejection_time`), returned at the `interval` sweep.
    Envoy {
        /// `consecutive_5xx` (default 5).
        consecutive_5xx: u32,
        /// `consecutive_gateway_failure` (default 5).
        consecutive_gateway_failure: u32,
        /// `enforcing_consecutive_5xx` is 100 (the default), not 0.
        enforcing_5xx: bool,
        /// `enforcing_consecutive_gateway_failure` is 100, not 0 (the default).
        enforcing_gateway: bool,
        /// `interval` (default 10 s), ns.
        interval_ns: u64,
        /// `base_ejection_time` (default 30 s), ns.
        base_ejection_ns: u64,
        /// `max_ejection_time` (default 300 s), ns.
        max_ejection_ns: u64,
        /// `max_ejection_percent` (default 10).
        max_ejection_percent: u32,
    },
    /// HAProxy `server … check observe <layer> error-limit N on-error <action>`.
    Haproxy {
        /// `observe`: which errors count.
        observe: Observe,
        /// `error-limit` (default 10): consecutive errors before `on-error`.
        error_limit: u32,
        /// `on-error` (default `fail-check`).
        on_error: OnError,
    },
}

/// HAProxy `observe`: which failures of live traffic count as errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Observe {
    /// Connection errors only (a refused or timed-out connect).
    Layer4,
    /// Also HTTP errors, read timeouts included.
    Layer7,
}

/// HAProxy `on-error`: what `error-limit` consecutive errors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OnError {
    /// `fastinter`: only shortens the check interval (not modelled: the
    /// checks keep `[health_check] interval`), so it changes nothing here.
    Fastinter,
    /// `fail-check`: counts as one failed health check.
    FailCheck,
    /// `sudden-death`: leaves the server one failed check from down.
    SuddenDeath,
    /// `mark-down`: marks the server down at once.
    MarkDown,
}

/// What a crashed instance does to the connections the load balancer makes
/// to it (`[[faults]] kind = "crash"`, `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CrashMode {
    /// The process died, the host answers: connects are refused at once and
    /// in-flight requests are reset at the crash.
    #[default]
    Reset,
    /// The host vanished: every connect waits for the load balancer's
    /// connect timeout; in-flight requests wait for its read timeout.
    Blackhole,
    /// The process hangs: connects succeed, nothing is ever answered; every
    /// request waits for the read timeout.
    Hang,
}

impl CrashMode {
    /// Every mode, in the order docs list them.
    pub const ALL: [CrashMode; 3] = [CrashMode::Reset, CrashMode::Blackhole, CrashMode::Hang];

    /// The name a scenario's `mode` uses.
    pub fn name(self) -> &'static str {
        match self {
            CrashMode::Reset => "reset",
            CrashMode::Blackhole => "blackhole",
            CrashMode::Hang => "hang",
        }
    }

    /// The default (today's behaviour): left out of the scenario hash.
    pub fn is_reset(&self) -> bool {
        *self == CrashMode::Reset
    }
}

/// Which product's retry behaviour a strategy's `retry` starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RetryPolicy {
    /// One retry elsewhere of an attempt that reached a dead backend (the
    /// default without a `retry` key).
    Once,
    /// nginx `proxy_next_upstream error timeout`, `proxy_next_upstream_tries 0`.
    Nginx,
    /// Envoy route retry policy: `num_retries` 1, `retry_on: 5xx`, the
    /// cluster's `max_retries` circuit breaker (3) or a retry budget.
    Envoy,
    /// HAProxy `retries 3`, `option redispatch` (on the last retry).
    Haproxy,
}

impl RetryPolicy {
    /// Every policy, in documentation order.
    pub const ALL: [RetryPolicy; 4] = [
        RetryPolicy::Once,
        RetryPolicy::Nginx,
        RetryPolicy::Envoy,
        RetryPolicy::Haproxy,
    ];

    /// The policy's name in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            RetryPolicy::Once => "once",
            RetryPolicy::Nginx => "nginx",
            RetryPolicy::Envoy => "envoy",
            RetryPolicy::Haproxy => "haproxy",
        }
    }
}

/// A strategy's load-balancer retries (`[[strategies]] retry`): which
/// failed attempts are tried again, how often, where, and how many retries
/// may be under way at once.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LbRetry {
    /// The product the defaults came from.
    pub policy: RetryPolicy,
    /// Retries of one request after its first attempt; `None`: until every
    /// other backend of the pool was tried (nginx `proxy_next_upstream_tries 0`).
    pub attempts: Option<u32>,
    /// Retry an attempt that reached a dead backend (connection refused or
    /// timed out: nginx `error timeout`, Envoy `connect-failure`, HAProxy
    /// `conn-failure`).
    pub on_error: bool,
    /// Retry an attempt a full backend turned away with a 503 (nginx
    /// `http_503`, Envoy `5xx` / `retriable-status-codes`).
    pub on_overloaded: bool,
    /// Retry an attempt that got no answer within `per_try_timeout_ns`
    /// (nginx `timeout`, Envoy `5xx`).
    pub on_timeout: bool,
    /// How long the load balancer waits for an attempt's answer (Envoy
    /// `per_try_timeout`, nginx `proxy_read_timeout`); `None`: for ever. A
    /// timed-out attempt stays on its backend, which finishes it for
    /// nothing.
    pub per_try_timeout_ns: Option<u64>,
    /// Retries go back to the backend that failed, all but the last
    /// (HAProxy without `option redispatch` on every retry); otherwise each
    /// goes elsewhere.
    pub same_backend: bool,
    /// At most this many retries under way at once; `None`: no limit.
    pub budget: Option<RetryBudget>,
}

impl LbRetry {
    /// The product's defaults (docs/strategies.md, Load-balancer retries).
    pub fn preset(policy: RetryPolicy) -> Self {
        let base = LbRetry {
            policy,
            attempts: Some(1),
            on_error: true,
            on_overloaded: false,
            on_timeout: false,
            per_try_timeout_ns: None,
            same_backend: false,
            budget: None,
        };
        match policy {
            RetryPolicy::Once => base,
            // `proxy_next_upstream error timeout` and `_tries 0`: every
            // other server once.
            RetryPolicy::Nginx => LbRetry {
                attempts: None,
                on_timeout: true,
                ..base
            },
            // `num_retries` 1, `retry_on: 5xx` (connect failures and 503s);
            // without a budget the cluster's `max_retries` circuit breaker
            // (default 3) caps the retries under way.
            RetryPolicy::Envoy => LbRetry {
                on_overloaded: true,
                on_timeout: true,
                budget: Some(RetryBudget {
                    percent: 0.0,
                    min_concurrency: 3,
                }),
                ..base
            },
            // `retries 3` (connection failures) to the same server,
            // `option redispatch` moving the last one.
            RetryPolicy::Haproxy => LbRetry {
                attempts: Some(3),
                same_backend: true,
                ..base
            },
        }
    }
}

/// Envoy's retry budget (`retry_budget`): retries under way at once are at
/// most `max(min_concurrency, percent % of active requests)`; with
/// `percent = 0`, the `max_retries` circuit breaker (`min_concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RetryBudget {
    /// Share of active requests (in service, queued, or waiting for a
    /// retry) that may be retries, percent.
    pub percent: f64,
    /// Retries allowed at once whatever the share.
    pub min_concurrency: u32,
}

/// One `[[faults]]` entry, validated: times in ns from the start,
/// backends as indices (`b3` is 3).
#[derive(Debug, Clone, serde::Serialize)]
pub enum Fault {
    /// Backend `backend` crashes at `at_ns`; with `recover_after_ns` it is
    /// running again (empty) that long after.
    Crash {
        /// Index of the backend that crashes.
        backend: usize,
        /// When it crashes, ns.
        at_ns: u64,
        /// Downtime before it runs again, ns; `None` = it stays down.
        recover_after_ns: Option<u64>,
        /// What it does to connections while down.
        #[serde(skip_serializing_if = "CrashMode::is_reset")]
        mode: CrashMode,
    },
    /// Every instance fails after an exponential time with mean `mtbf_ns`
    /// of running, and is repaired (running again, empty) after an
    /// exponential time with mean `mttr_ns`.
    Random {
        /// Mean running time between failures of one instance, ns.
        mtbf_ns: u64,
        /// Mean time to repair, ns.
        mttr_ns: u64,
    },
    /// Every instance in zone `zone` (an index into `Backends::zones`)
    /// crashes at `at_ns`; with `duration_ns` they are back after it.
    ZoneOutage {
        /// Index into `Backends::zones`.
        zone: usize,
        /// When the zone goes down, ns.
        at_ns: u64,
        /// How long it stays down, ns; `None` = for the rest of the run.
        duration_ns: Option<u64>,
    },
    /// Backend `backend` serves `factor` times slower from `at_ns` for `duration_ns`.
    Slow {
        /// Index of the backend slowed down.
        backend: usize,
        /// When the slow-down starts, ns.
        at_ns: u64,
        /// How long it lasts, ns.
        duration_ns: u64,
        /// Service times are multiplied by this (1 to 1000).
        factor: f64,
    },
}

/// A rolling deploy: every instance running at `at_ns` is replaced, in
/// batches of `batch_size`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Deploy {
    /// When the deploy starts, ns.
    pub at_ns: u64,
    /// Instances replaced at once.
    pub batch_size: u32,
    /// Wait between one batch's old instances starting to drain and the
    /// next batch's replacements being launched.
    pub pause_ns: u64,
    /// How long a replaced instance drains before it stops (0 = at once).
    pub deregistration_delay_ns: u64,
    /// Launch to running for a replacement.
    pub boot_time_ns: u64,
    /// Linear weight ramp after a replacement enters service (0 = off).
    pub slow_start_ns: u64,
}

/// Which instance a scale-in removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Victim {
    /// The most recently launched instance.
    Newest,
    /// The longest-running instance.
    Oldest,
    /// The instance holding the fewest active sessions' state.
    LeastSessions,
}

/// Target tracking on average utilisation of the in-service instances.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Autoscaling {
    /// Fewest in-service instances it scales in to.
    pub min: u32,
    /// Most in-service instances it scales out to.
    pub max: u32,
    /// Utilisation (busy workers / workers, 0..1) to hold.
    pub target: f64,
    /// The metric is the average over this window (a multiple of the evaluation period).
    pub metric_window_ns: u64,
    /// Time between two decisions (and two utilisation samples), ns.
    pub evaluation_period_ns: u64,
    /// No scale-out until this long after the previous one, ns.
    pub scale_out_cooldown_ns: u64,
    /// No scale-in until this long after the previous scale-in (nor while
    /// the scale-out cooldown runs), ns.
    pub scale_in_cooldown_ns: u64,
    /// Launch to running for a new instance, ns.
    pub boot_time_ns: u64,
    /// Which instance a scale-in removes.
    pub victim: Victim,
    /// How long a removed instance drains before it stops, ns (0 = at once).
    pub deregistration_delay_ns: u64,
    /// Linear weight ramp after a new instance enters service, ns (0 = off).
    pub slow_start_ns: u64,
}

/// `[output]`: how finely results are broken down over time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Output {
    /// Width of the time buckets in `backends.csv`.
    pub bucket_ns: u64,
}
