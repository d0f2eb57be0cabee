//! Raw → validated: defaults filled in, seconds turned into nanoseconds,
//! distributions built, every range and cross-field rule checked. Each rule
//! reports the key it is about; `mod.rs` places that key in the file.

use super::dist::{Dist, DistError};
use super::error::{ticked, KeyPath, Problem};
use super::raw::*;
use super::types::*;
use crate::routing::{
    Balance, CookieAttrs, HashAlgo, HashTuning, KeySource, Learned, OnDraining, OnUnavailable,
    Product, SameSite, StrategyKind, StrategySpec, TtlMode, COOKIE_TTL_RANGE_S,
    DEFAULT_BALANCE_FACTOR, DEFAULT_COOKIE_TTL_S, DEFAULT_LEARN_TIMEOUT_S, DEFAULT_TABLE_SIZE,
    DEFAULT_TABLE_TIMEOUT_S, MAX_MAGLEV_TABLE_SIZE, MAX_RING_SIZE, MAX_TABLE_TIMEOUT_S,
};

mod faults;
mod fleet;
mod kinds;
pub mod limits;
mod series;
mod world;

use faults::*;
use kinds::*;
use world::*;

type R<T> = Result<T, Problem>;

/// Most backends a scenario may declare.
pub const MAX_BACKENDS: u32 = 10_000;
/// Most output time buckets a run may have (`duration / bucket`).
pub const MAX_BUCKETS: f64 = 100_000.0;
/// Tolerance on client shares summing to 1.
pub const SHARE_TOLERANCE: f64 = 1e-6;
/// Users per address behind NAT/CGNAT when `users_per_ip` is not given
/// (capped at the segment's `users`).
pub const DEFAULT_USERS_PER_NAT_IP: u32 = 100;
/// Longest time, in seconds, that fits the engine's u64 nanosecond clock.
const MAX_SECS: f64 = u64::MAX as f64 / NS_PER_S;

/// The most address changes per second a client segment may have.
pub(super) const MAX_IP_CHANGE_RATE: f64 = 1.0;
/// The shortest health-check interval (HAProxy's `inter` goes down to
/// milliseconds, ALB to 5 s; below this the checks would dominate the run).
pub(super) const MIN_HEALTH_INTERVAL_S: f64 = 0.1;
/// Time a request to a dead backend takes to fail before its retry.
pub(super) const DEFAULT_RETRY_DELAY_S: f64 = 1.0;
/// Most times a user retries one request (`[[clients]] retry.attempts`).
pub(super) const MAX_CLIENT_RETRIES: u32 = 10;
/// Retries of one request when `retry.attempts` is not given.
pub(super) const DEFAULT_CLIENT_RETRIES: u32 = 3;
/// The longest mean client retry delay, seconds (a user who waits longer
/// has left).
pub(super) const MAX_CLIENT_RETRY_DELAY_S: f64 = 3600.0;
/// Most retries of one attempt a load balancer makes (`[[strategies]]
/// retry.attempts`; HAProxy's `retries` default is 3).
pub(super) const MAX_LB_RETRIES: u32 = 10;
/// Most retries under way at once a budget may allow
/// (`retry.min_retry_concurrency`).
pub(super) const MAX_RETRY_CONCURRENCY: u32 = 1_000_000;
/// The longest `retry.per_try_timeout`, seconds.
pub(super) const MAX_PER_TRY_TIMEOUT_S: f64 = 3600.0;
/// Envoy's `min_retry_concurrency` default.
pub(super) const DEFAULT_MIN_RETRY_CONCURRENCY: u32 = 3;
/// How long an instance stays marked down before it is replaced when
/// `replace_unhealthy.grace` is not given.
pub(super) const DEFAULT_REPLACE_GRACE_S: f64 = 60.0;
/// The longest `replace_unhealthy` grace or boot time.
const MAX_REPLACE_S: f64 = 86_400.0;
/// Most copies `replicated` session state may keep besides the primary.
pub const MAX_COPIES: u32 = 8;
/// The shortest mean time between failures of `random` faults (shorter would
/// make the run mostly crash handling).
pub(super) const MIN_MTBF_S: f64 = 1.0;
/// ALB's deregistration delay default (`deregistration_delay.timeout_seconds`).
pub(super) const DEFAULT_DEREGISTRATION_DELAY_S: f64 = 300.0;
/// Launch-to-running time of a new instance when not given.
pub(super) const DEFAULT_BOOT_TIME_S: f64 = 60.0;
/// ALB's longest deregistration delay and slow start.
const MAX_DEREGISTRATION_DELAY_S: f64 = 3600.0;
const SLOW_START_RANGE_S: (f64, f64) = (30.0, 900.0);

fn problem<T>(key: &KeyPath, message: impl Into<String>) -> R<T> {
    Err(Problem::new(key.clone(), message))
}

/// A time in seconds: finite, `> 0` (or `>= 0` with `allow_zero`), and
/// representable in nanoseconds.
fn secs(key: &KeyPath, v: f64, allow_zero: bool) -> R<u64> {
    let bound = if allow_zero { ">= 0" } else { "> 0" };
    if !(v.is_finite() && (v > 0.0 || (allow_zero && v == 0.0))) {
        return problem(
            key,
            format!("expected a time in seconds {bound}, found {v}"),
        );
    }
    if v > MAX_SECS {
        return problem(
            key,
            format!("expected a time in seconds of at most {MAX_SECS:.3e} (~584 years), found {v}"),
        );
    }
    let ns = secs_to_ns(v);
    if ns == 0 && !allow_zero {
        return problem(
            key,
            format!("expected a time of at least 1 ns, found {v} s"),
        );
    }
    Ok(ns)
}

/// A finite number `> 0`.
fn positive(key: &KeyPath, v: f64, what: &str) -> R<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        problem(key, format!("expected {what} > 0, found {v}"))
    }
}

/// A finite number in `lo..=hi`.
fn within(key: &KeyPath, v: f64, lo: f64, hi: f64, what: &str) -> R<f64> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        problem(key, format!("expected {what} from {lo} to {hi}, found {v}"))
    }
}

pub(super) fn count_in(key: &KeyPath, v: u32, lo: u32, hi: u32, what: &str) -> R<u32> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        problem(key, format!("expected {what} from {lo} to {hi}, found {v}"))
    }
}

/// Longest name (strategy, client segment, zone, scenario): names become
/// file names, CSV cells and report headings; 64 characters is plenty.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `s` is a valid name: 1 to [`MAX_NAME_LEN`] characters of
/// `[A-Za-z0-9_.-]`, not starting with `.`. Names become directory and file
/// names (`results/<name>/`), so `.` and `..` can't point outside the
/// results directory; `report` and `merge` check names they read back with
/// the same rule.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn is_name(s: &str) -> bool {
    is_valid_name(s)
}

/// What a valid name is, for messages.
pub const NAME_RULE: &str =
    "a name of 1 to 64 letters, digits, `_`, `.` and `-`, not starting with `.`";

fn name(key: &KeyPath, s: &str) -> R<()> {
    if is_name(s) {
        Ok(())
    } else {
        problem(
            key,
            format!("expected {NAME_RULE}, found {}", crate::text::quoted(s)),
        )
    }
}

/// Builds a distribution from `{ dist = KIND, ...params }` at `key`.
pub(crate) fn dist(key: &KeyPath, raw: &RawDist) -> R<Dist> {
    let Some(&(kind, needs)) = DIST_PARAMS.iter().find(|(k, _)| *k == raw.dist) else {
        let kinds: Vec<&str> = DIST_PARAMS.iter().map(|(k, _)| *k).collect();
        return Err(Problem::one_of(key.k("dist"), &raw.dist, &kinds));
    };
    let params = raw.params();
    for (k, _) in &params {
        if !needs.contains(k) {
            return problem(
                &key.k(k),
                format!(
                    "`{k}` does not apply to the `{kind}` distribution; expected only {}",
                    ticked(needs)
                ),
            );
        }
    }
    let mut values = Vec::with_capacity(needs.len());
    for n in needs {
        match params.iter().find(|(k, _)| k == n) {
            Some(&(_, v)) => values.push(v),
            None => {
                return problem(
                    &key.k(n),
                    format!(
                        "required key `{n}` is missing: the `{kind}` distribution takes {}",
                        ticked(needs)
                    ),
                )
            }
        }
    }
    let built = match (kind, values.as_slice()) {
        ("constant", &[v]) => Dist::constant(v),
        ("exponential", &[m]) => Dist::exponential(m),
        ("uniform", &[lo, hi]) => Dist::uniform(lo, hi),
        ("lognormal", &[m, cv]) => Dist::lognormal(m, cv),
        ("gamma", &[m, cv]) => Dist::gamma(m, cv),
        ("pareto", &[m, shape]) => Dist::pareto(m, shape),
        ("geometric", &[m]) => Dist::geometric(m),
        _ => Err(DistError(format!("kind `{kind}` is not wired up"))),
    };
    built.map_err(|DistError(msg)| {
        // DistError names the parameter first, in backticks: point at it.
        let param = msg.split('`').nth(1).filter(|p| needs.contains(p));
        let at = param.map_or_else(|| key.clone(), |p| key.k(p));
        Problem::new(at, format!("invalid `{kind}` distribution: {msg}"))
    })
}

pub(crate) fn validate(raw: RawScenario, name_hint: &str) -> R<Scenario> {
    let (name, simulation) = simulation(&raw.simulation, name_hint)?;
    let workload = workload(&raw.workload)?;
    let clients = clients(raw.clients.as_deref())?;
    if let (Some(_), Some(i)) = (
        &workload.replay,
        clients.iter().position(|c| c.retry.is_some()),
    ) {
        return problem(
            &KeyPath::from("clients").i(i).k("retry"),
            "expected no client `retry` with `workload.replay` (a replayed log holds the \
             retries its users made), found one",
        );
    }
    let backends = backends(&raw.backends)?;
    let health_check = health_check(raw.health_check.as_ref())?;
    let placements: Vec<RawPlacement> = raw.strategies.iter().filter_map(|s| s.placement).collect();
    let session_state = session_state(raw.session_state.as_ref(), None, &placements)?;
    let output = output(raw.output.as_ref(), &raw.simulation, simulation.duration_ns)?;
    let mut strategies = strategies(&raw.strategies)?;
    for (st, rs) in strategies.iter_mut().zip(&raw.strategies) {
        if let Some(p) = rs.placement {
            st.session_state = Some(self::session_state(
                raw.session_state.as_ref(),
                Some(p),
                &[],
            )?);
        }
    }
    let (faults, fault_series) =
        faults(raw.faults.as_deref().unwrap_or(&[]), &backends, &simulation)?;
    let (deploys, deploy_series) = deploys(raw.deploys.as_deref().unwrap_or(&[]), &simulation)?;
    let autoscaling = match &raw.autoscaling {
        Some(a) => Some(autoscaling(a, &backends)?),
        None => None,
    };
    // A Maglev table needs a slot per backend at least (the paper sizes it
    // at 100 × N); count the most instances the run can hold at once.
    let most = (backends.count() as u64
        + deploys
            .iter()
            .map(|d| d.batch_size as u64)
            .max()
            .unwrap_or(0))
    .max(autoscaling.as_ref().map_or(0, |a| a.max as u64));
    fleet::check_pool(
        &backends.fleet,
        backends.count(),
        !deploys.is_empty() || autoscaling.is_some(),
        most,
    )?;
    for (i, st) in strategies.iter().enumerate() {
        let tuning = match &st.spec {
            StrategySpec::SourceIp { tuning, hash, .. }
            | StrategySpec::Header { tuning, hash, .. }
            | StrategySpec::BoundedLoad { tuning, hash, .. }
                if *hash == HashAlgo::Maglev =>
            {
                tuning
            }
            _ => continue,
        };
        if tuning.table_size <= most {
            return problem(
                &KeyPath::from("strategies").i(i).k("table_size"),
                format!(
                    "expected a prime larger than the {most} backends this run can hold at once \
                     (Maglev gives each backend slots of the table; 65537 is Envoy's default), \
                     found {}",
                    tuning.table_size
                ),
            );
        }
    }
    if let SessionState::Shared { outages, .. } = &session_state {
        if let Some(&(at, _)) = outages.iter().find(|w| w.0 >= simulation.duration_ns) {
            let i = outages.iter().position(|w| w.0 == at).unwrap_or(0);
            return problem(
                &KeyPath::from("session_state")
                    .k("store_outages")
                    .i(i)
                    .k("at"),
                format!(
                    "expected a time before the end of the run ({} s), found {} s",
                    simulation.duration_ns as f64 / NS_PER_S,
                    at as f64 / NS_PER_S
                ),
            );
        }
    }
    let decision =
        super::decision::validate_for(raw.decision.as_ref(), raw.slo.as_deref(), &strategies)?;
    let sc = Scenario {
        name,
        simulation,
        workload,
        clients,
        backends,
        health_check,
        session_state,
        strategies,
        faults,
        output,
        deploys,
        autoscaling,
        decision,
        deploy_series,
        fault_series,
        load_warnings: Vec::new(),
    };
    limits::check(&sc)?;
    Ok(sc)
}

fn simulation(raw: &RawSimulation, name_hint: &str) -> R<(String, Simulation)> {
    let k = KeyPath::from("simulation");
    let scenario_name = match &raw.name {
        Some(n) => {
            name(&k.k("name"), n)?;
            n.clone()
        }
        None if is_name(name_hint) => name_hint.to_string(),
        None => {
            return problem(
                &k.k("name"),
                format!(
                    "the default name, {name_hint:?} from the file name, is not a valid name \
                     (letters, digits, `_`, `.` and `-`); set `simulation.name`"
                ),
            )
        }
    };
    let duration_ns = secs(&k.k("duration"), raw.duration, false)?;
    let warmup = raw.warmup.unwrap_or(0.0);
    let warmup_ns = secs(&k.k("warmup"), warmup, true)?;
    if warmup_ns >= duration_ns {
        return problem(
            &k.k("warmup"),
            format!(
                "expected a warmup shorter than `simulation.duration` ({} s), found {warmup} s",
                raw.duration
            ),
        );
    }
    let replications = match raw.replications {
        None => 1,
        Some(n) if (1..=MAX_REPLICATIONS as i64).contains(&n) => n as u32,
        Some(n) => {
            return problem(
                &k.k("replications"),
                format!("expected a whole number from 1 to {MAX_REPLICATIONS}, found {n}"),
            )
        }
    };
    Ok((
        scenario_name,
        Simulation {
            duration_ns,
            warmup_ns,
            seed: raw.seed.unwrap_or(1),
            replications,
        },
    ))
}
