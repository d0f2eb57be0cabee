//! Raw → validated: defaults filled in, seconds turned into nanoseconds,
//! distributions built, every range and cross-field rule checked. Each rule
//! reports the key it is about; `mod.rs` places that key in the file.

use super::dist::{Dist, DistError};
use super::error::{did_you_mean, ticked, KeyPath, Problem};
use super::raw::*;
use super::types::*;
use crate::routing::{
    self, Balance, CookieAttrs, HashTuning, IpHash, KeySource, Learned, OnDraining, OnUnavailable,
    SameSite, StrategySpec, TtlMode, COOKIE_TTL_RANGE_S, DEFAULT_BALANCE_FACTOR,
    DEFAULT_COOKIE_TTL_S, DEFAULT_LEARN_TIMEOUT_S, DEFAULT_TABLE_SIZE, DEFAULT_TABLE_TIMEOUT_S,
    MAX_MAGLEV_TABLE_SIZE, MAX_RING_SIZE, MAX_TABLE_TIMEOUT_S,
};

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
pub const MAX_IP_CHANGE_RATE: f64 = 1.0;
/// The shortest health-check interval (HAProxy's `inter` goes down to
/// milliseconds, ALB to 5 s; below this the checks would dominate the run).
pub const MIN_HEALTH_INTERVAL_S: f64 = 0.1;

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

fn count_in(key: &KeyPath, v: u32, lo: u32, hi: u32, what: &str) -> R<u32> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        problem(key, format!("expected {what} from {lo} to {hi}, found {v}"))
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn name(key: &KeyPath, s: &str) -> R<()> {
    if is_name(s) {
        Ok(())
    } else {
        problem(
            key,
            format!("expected a name made of letters, digits, `_`, `.` and `-`, found {s:?}"),
        )
    }
}

/// Builds a distribution from `{ dist = KIND, ...params }` at `key`.
pub(crate) fn dist(key: &KeyPath, raw: &RawDist) -> R<Dist> {
    let Some(&(kind, needs)) = DIST_PARAMS.iter().find(|(k, _)| *k == raw.dist) else {
        let kinds: Vec<&str> = DIST_PARAMS.iter().map(|(k, _)| *k).collect();
        return problem(
            &key.k("dist"),
            format!(
                "expected one of {}, found `{}`{}",
                ticked(&kinds),
                raw.dist,
                did_you_mean(&raw.dist, &kinds)
            ),
        );
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
    let backends = backends(&raw.backends)?;
    let health_check = health_check(raw.health_check.as_ref())?;
    let session_state = session_state(raw.session_state.as_ref())?;
    let output = output(raw.output.as_ref(), &raw.simulation, simulation.duration_ns)?;
    let strategies = strategies(&raw.strategies)?;
    let faults = faults(raw.faults.as_deref().unwrap_or(&[]), &backends, &simulation)?;
    Ok(Scenario {
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
    })
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
    Ok((
        scenario_name,
        Simulation {
            duration_ns,
            warmup_ns,
            seed: raw.seed.unwrap_or(1),
        },
    ))
}

fn workload(raw: &RawWorkload) -> R<Workload> {
    let k = KeyPath::from("workload");
    let session_rate = positive(
        &k.k("session_rate"),
        raw.session_rate,
        "a rate in sessions per second",
    )?;
    let mut profile = RateProfile::default();
    if let Some(steps) = &raw.profile {
        let pk = k.k("profile");
        if steps.is_empty() {
            return problem(
                &pk,
                "expected at least one `{ from, multiplier }` step, found an empty array",
            );
        }
        for (i, step) in steps.iter().enumerate() {
            let from_ns = secs(&pk.i(i).k("from"), step.from, true)?;
            match profile.steps.last() {
                None if from_ns != 0 => {
                    return problem(
                        &pk.i(i).k("from"),
                        format!("expected the first step to start at 0, found {}", step.from),
                    )
                }
                Some(&(prev, _)) if from_ns <= prev => {
                    return problem(
                        &pk.i(i).k("from"),
                        format!(
                            "expected steps in strictly increasing order of `from`, found {} \
                             after {}",
                            step.from,
                            steps[i - 1].from
                        ),
                    )
                }
                _ => {}
            }
            let m = step.multiplier;
            if !(m.is_finite() && m >= 0.0) {
                return problem(
                    &pk.i(i).k("multiplier"),
                    format!("expected a multiplier >= 0, found {m}"),
                );
            }
            profile.steps.push((from_ns, m));
        }
        if profile.steps.iter().all(|&(_, m)| m == 0.0) {
            return problem(
                &pk,
                "expected at least one multiplier > 0, found all 0 (no session would ever arrive)",
            );
        }
    }
    if let Some(period) = raw.profile_period {
        let key = k.k("profile_period");
        let Some(steps) = &raw.profile else {
            return problem(
                &key,
                "expected `workload.profile` alongside `profile_period`, found no profile",
            );
        };
        let period_ns = secs(&key, period, false)?;
        let (last_ns, _) = profile.steps[profile.steps.len() - 1];
        if period_ns <= last_ns {
            return problem(
                &key,
                format!(
                    "expected a period longer than the last step's `from` ({} s), found {period} s",
                    steps[steps.len() - 1].from
                ),
            );
        }
        profile.period_ns = Some(period_ns);
    }
    let rps_key = k.k("requests_per_session");
    let requests_per_session = dist(&rps_key, &raw.requests_per_session)?;
    if requests_per_session.mean() < 1.0 {
        return problem(
            &rps_key,
            format!(
                "expected a mean of at least 1 request per session, found {}",
                requests_per_session.mean()
            ),
        );
    }
    let think_time = dist(&k.k("think_time"), &raw.think_time)?;
    let st_key = k.k("service_time");
    let service_time = dist(&st_key, &raw.service_time)?;
    if service_time.mean() <= 0.0 {
        return problem(
            &st_key,
            format!(
                "expected a mean service time > 0 seconds, found {}",
                service_time.mean()
            ),
        );
    }
    Ok(Workload {
        session_rate,
        profile,
        requests_per_session,
        think_time,
        service_time,
    })
}

fn clients(raw: Option<&[RawClient]>) -> R<Vec<ClientSegment>> {
    let k = KeyPath::from("clients");
    let Some(raw) = raw else {
        return Ok(vec![ClientSegment::direct("all", 1.0, 10_000)]);
    };
    if raw.is_empty() {
        return problem(
            &k,
            "expected at least one [[clients]] segment, found an empty array \
             (leave `clients` out for a single direct segment)",
        );
    }
    let mut out: Vec<ClientSegment> = Vec::with_capacity(raw.len());
    for (i, c) in raw.iter().enumerate() {
        let ck = k.i(i);
        let seg_name = c.name.clone().unwrap_or_else(|| format!("segment{i}"));
        if seg_name.is_empty() {
            return problem(&ck.k("name"), "expected a non-empty name, found \"\"");
        }
        if let Some(j) = out.iter().position(|o| o.name == seg_name) {
            return problem(
                &ck.k("name"),
                format!("expected unique segment names, found `{seg_name}` again (first at clients[{j}])"),
            );
        }
        let share = c.share;
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return problem(
                &ck.k("share"),
                format!("expected a share with 0 < share <= 1, found {share}"),
            );
        }
        let users = c.users.unwrap_or(10_000);
        if users == 0 {
            return problem(&ck.k("users"), "expected at least 1 user, found 0");
        }
        let network = match c.network.unwrap_or(RawNetwork::Direct) {
            RawNetwork::Direct => Network::Direct,
            RawNetwork::Nat => Network::Nat,
            RawNetwork::Cgnat => Network::Cgnat,
        };
        let users_per_ip = match (c.users_per_ip, network) {
            (None, Network::Direct) => 1,
            (None, _) => DEFAULT_USERS_PER_NAT_IP.min(users),
            (Some(0), _) => return problem(&ck.k("users_per_ip"), "expected at least 1, found 0"),
            (Some(u), Network::Direct) if u != 1 => {
                return problem(
                    &ck.k("users_per_ip"),
                    format!(
                        "expected 1 with `network = \"direct\"` (each user has an address of \
                         their own), found {u}; use `network = \"nat\"` or `\"cgnat\"` to share \
                         addresses"
                    ),
                )
            }
            (Some(u), _) if u > users => {
                return problem(
                    &ck.k("users_per_ip"),
                    format!("expected at most the segment's `users` ({users}), found {u}"),
                )
            }
            (Some(u), _) => u,
        };
        let ip_change_rate = c.ip_change_rate.unwrap_or(0.0);
        // Above one change a second the simulation would spend its time on
        // address changes; real churn is per minutes.
        if !(ip_change_rate.is_finite() && (0.0..=MAX_IP_CHANGE_RATE).contains(&ip_change_rate)) {
            return problem(
                &ck.k("ip_change_rate"),
                format!(
                    "expected a rate in changes per second between 0 and {MAX_IP_CHANGE_RATE}, found {ip_change_rate}"
                ),
            );
        }
        let cookie_block = within(
            &ck.k("cookie_block"),
            c.cookie_block.unwrap_or(0.0),
            0.0,
            1.0,
            "a fraction",
        )?;
        let token_header = c.token_header.unwrap_or(false);
        let token_rotation_ns = match c.token_rotation {
            None => 0,
            Some(_) if !token_header => return problem(
                &ck.k("token_rotation"),
                "`token_rotation` needs `token_header = true` (only token-carrying clients rotate)",
            ),
            Some(r) => secs(&ck.k("token_rotation"), r, true)?,
        };
        out.push(ClientSegment {
            name: seg_name,
            share,
            users,
            network,
            users_per_ip,
            ipv6: c.ipv6.unwrap_or(false),
            ip_change_rate,
            cookie_block,
            token_header,
            token_rotation_ns,
        });
    }
    let sum: f64 = out.iter().map(|c| c.share).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        let parts: Vec<String> = out
            .iter()
            .map(|c| format!("{} {}", c.name, c.share))
            .collect();
        return problem(
            &k,
            format!(
                "expected `share`s summing to 1, found {} ({})",
                (sum * 1e9).round() / 1e9,
                parts.join(" + ")
            ),
        );
    }
    Ok(out)
}

fn backends(raw: &RawBackends) -> R<Backends> {
    let k = KeyPath::from("backends");
    let count = match raw.count {
        Some(c) => Some(count_in(
            &k.k("count"),
            c,
            1,
            MAX_BACKENDS,
            "a backend count",
        )?),
        None => None,
    };
    let speeds = match (&raw.speed, count) {
        (Some(RawSpeed::Each(list)), _) => {
            let sk = k.k("speed");
            if list.is_empty() || list.len() > MAX_BACKENDS as usize {
                return problem(
                    &sk,
                    format!(
                        "expected from 1 to {MAX_BACKENDS} speeds, one per backend, found {}",
                        list.len()
                    ),
                );
            }
            for (i, &s) in list.iter().enumerate() {
                positive(&sk.i(i), s, "a speed")?;
            }
            if let Some(c) = count {
                if c as usize != list.len() {
                    return problem(
                        &k.k("count"),
                        format!(
                            "expected the number of entries in `backends.speed` ({}), found {c} \
                             (give both consistently, or leave `count` out)",
                            list.len()
                        ),
                    );
                }
            }
            list.clone()
        }
        (speed, Some(c)) => {
            let s = match speed {
                Some(RawSpeed::All(s)) => positive(&k.k("speed"), *s, "a speed")?,
                _ => 1.0,
            };
            vec![s; c as usize]
        }
        (_, None) => {
            return problem(
                &k.k("count"),
                "required key `count` is missing (it may be left out only when `speed` is an \
                 array with one entry per backend)",
            )
        }
    };
    let workers = raw.workers.unwrap_or(1);
    if workers == 0 {
        return problem(&k.k("workers"), "expected at least 1 worker, found 0");
    }
    Ok(Backends {
        speeds,
        workers,
        queue_limit: raw.queue_limit,
    })
}

fn health_check(raw: Option<&RawHealthCheck>) -> R<HealthCheck> {
    let k = KeyPath::from("health_check");
    let interval = raw.and_then(|h| h.interval).unwrap_or(30.0);
    let timeout = raw.and_then(|h| h.timeout).unwrap_or(5.0);
    let interval_ns = secs(&k.k("interval"), interval, false)?;
    let timeout_ns = secs(&k.k("timeout"), timeout, false)?;
    if interval < MIN_HEALTH_INTERVAL_S {
        return problem(
            &k.k("interval"),
            format!(
                "expected at least {MIN_HEALTH_INTERVAL_S} s between checks, found {interval} s"
            ),
        );
    }
    if timeout_ns >= interval_ns {
        return problem(
            &k.k("timeout"),
            format!(
                "expected a timeout shorter than `health_check.interval` ({interval} s), found \
                 {timeout} s"
            ),
        );
    }
    let threshold = |key: &str, default: u32| {
        let v = raw
            .and_then(|h| match key {
                "unhealthy_threshold" => h.unhealthy_threshold,
                _ => h.healthy_threshold,
            })
            .unwrap_or(default);
        count_in(&k.k(key), v, 1, 10, "a number of consecutive checks")
    };
    Ok(HealthCheck {
        interval_ns,
        timeout_ns,
        unhealthy_threshold: threshold("unhealthy_threshold", 2)?,
        healthy_threshold: threshold("healthy_threshold", 5)?,
    })
}

fn session_state(raw: Option<&RawSessionState>) -> R<SessionState> {
    let k = KeyPath::from("session_state");
    let placement = raw.and_then(|s| s.placement).unwrap_or(RawPlacement::Local);
    let latency = raw.and_then(|s| s.store_latency.as_ref());
    match (placement, latency) {
        (RawPlacement::Local, None) => Ok(SessionState::Local),
        (RawPlacement::Local, Some(_)) => problem(
            &k.k("store_latency"),
            "`store_latency` does not apply to `placement = \"local\"`; expected it only with \
             `placement = \"shared\"`",
        ),
        (RawPlacement::Shared, Some(d)) => Ok(SessionState::Shared {
            store_latency: dist(&k.k("store_latency"), d)?,
        }),
        (RawPlacement::Shared, None) => problem(
            &k.k("store_latency"),
            "required key `store_latency` is missing: `placement = \"shared\"` needs the \
             store's round-trip time as a distribution",
        ),
    }
}

fn output(raw: Option<&RawOutput>, sim: &RawSimulation, duration_ns: u64) -> R<Output> {
    let key = KeyPath::from("output.bucket");
    let bucket = raw.and_then(|o| o.bucket).unwrap_or(60.0);
    let bucket_ns = secs(&key, bucket, false)?;
    let buckets = duration_ns as f64 / bucket_ns as f64;
    if buckets > MAX_BUCKETS {
        return problem(
            &key,
            format!(
                "expected at most {MAX_BUCKETS} buckets over the {} s run, found {} with a \
                 {bucket} s bucket; use a bucket of at least {} s",
                sim.duration,
                buckets.ceil(),
                sim.duration / MAX_BUCKETS
            ),
        );
    }
    Ok(Output { bucket_ns })
}

fn strategies(raw: &[RawStrategy]) -> R<Vec<StrategyConfig>> {
    let k = KeyPath::from("strategies");
    if raw.is_empty() {
        return problem(&k, "expected at least one [[strategies]] entry, found none");
    }
    let mut out: Vec<StrategyConfig> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let sk = k.i(i);
        name(&sk.k("name"), &s.name)?;
        if let Some(j) = out.iter().position(|o| o.name == s.name) {
            return problem(
                &sk.k("name"),
                format!(
                    "expected unique strategy names, found `{}` again (first at strategies[{j}])",
                    s.name
                ),
            );
        }
        out.push(StrategyConfig {
            name: s.name.clone(),
            spec: strategy(&sk, s)?,
        });
    }
    Ok(out)
}

fn balance(b: RawBalance) -> Balance {
    match b {
        RawBalance::RoundRobin => Balance::RoundRobin,
        RawBalance::Random => Balance::Random,
        RawBalance::LeastConn => Balance::LeastConn,
        RawBalance::P2c => Balance::P2c,
    }
}

fn on_unavailable(o: Option<RawOnUnavailable>) -> OnUnavailable {
    match o.unwrap_or(RawOnUnavailable::Redispatch) {
        RawOnUnavailable::Redispatch => OnUnavailable::Redispatch,
        RawOnUnavailable::Reject => OnUnavailable::Reject,
    }
}

fn on_draining(o: Option<RawOnDraining>) -> OnDraining {
    match o.unwrap_or(RawOnDraining::Reroute) {
        RawOnDraining::Reroute => OnDraining::Reroute,
        RawOnDraining::Honor => OnDraining::Honor,
    }
}

fn ip_hash(h: Option<RawIpHash>, default: RawIpHash) -> IpHash {
    match h.unwrap_or(default) {
        RawIpHash::Modulo => IpHash::Modulo,
        RawIpHash::NginxIpHash => IpHash::NginxIpHash,
        RawIpHash::HaproxySource => IpHash::HaproxySource,
        RawIpHash::Ketama => IpHash::Ketama,
        RawIpHash::EnvoyRing => IpHash::EnvoyRing,
        RawIpHash::Maglev => IpHash::Maglev,
        RawIpHash::Jump => IpHash::Jump,
        RawIpHash::Rendezvous => IpHash::Rendezvous,
    }
}

/// Maglev `table_size` (prime, Envoy's limits) and ring `min_ring_size`.
fn tuning(k: &KeyPath, s: &RawStrategy, hash: IpHash) -> R<HashTuning> {
    let mut t = HashTuning::default();
    if let Some(m) = s.table_size {
        if hash != IpHash::Maglev {
            return problem(
                &k.k("table_size"),
                format!(
                    "`table_size` applies to `hash = \"maglev\"` only, found hash `{}`",
                    hash.name()
                ),
            );
        }
        if !routing::is_prime(m) || m > MAX_MAGLEV_TABLE_SIZE {
            return problem(
                &k.k("table_size"),
                format!(
                    "expected a prime number up to {MAX_MAGLEV_TABLE_SIZE} (e.g. 65537), found {m}"
                ),
            );
        }
        t.table_size = m;
    }
    if let Some(r) = s.min_ring_size {
        if hash != IpHash::EnvoyRing {
            return problem(
                &k.k("min_ring_size"),
                format!(
                    "`min_ring_size` applies to `hash = \"envoy_ring\"` only, found hash `{}`",
                    hash.name()
                ),
            );
        }
        if r == 0 || r > MAX_RING_SIZE {
            return problem(
                &k.k("min_ring_size"),
                format!("expected a ring size from 1 to {MAX_RING_SIZE}, found {r}"),
            );
        }
        t.min_ring_size = r;
    }
    Ok(t)
}

/// An affinity-table idle timeout in seconds, within 1 s and `max`.
fn table_timeout(k: &KeyPath, v: Option<f64>, default: f64, max: f64) -> R<u64> {
    let t = within(
        &k.k("timeout"),
        v.unwrap_or(default),
        1.0,
        max,
        "an idle timeout in seconds",
    )?;
    Ok(secs_to_ns(t))
}

fn table_size(k: &KeyPath, v: Option<u32>) -> R<u32> {
    match v {
        Some(0) => problem(
            &k.k("size"),
            "expected a table size of at least 1 entry, found 0",
        ),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_TABLE_SIZE),
    }
}

fn header_name(k: &KeyPath, v: &Option<String>, default: &str) -> R<String> {
    let n = v.clone().unwrap_or_else(|| default.to_string());
    if !is_token(&n) {
        return problem(
            &k.k("header_name"),
            format!("expected a header name of token characters, found {n:?}"),
        );
    }
    Ok(n)
}

/// RFC 9110 `tchar`: what a cookie name may be made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn strategy(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let kind = s.kind.as_str();
    if !routing::KINDS.contains(&kind) {
        return problem(
            &k.k("kind"),
            format!(
                "expected one of {}, found `{kind}`{}",
                ticked(routing::KINDS),
                did_you_mean(kind, routing::KINDS)
            ),
        );
    }
    let Some(&(_, allowed)) = STRATEGY_KEYS.iter().find(|(n, _)| *n == kind) else {
        return problem(
            &k.k("kind"),
            format!("kind `{kind}` is known to routing but not to the scenario schema"),
        );
    };
    for key in s.present_keys() {
        if !allowed.contains(&key) {
            let takes = if allowed.is_empty() {
                "it takes only `name` and `kind`".to_string()
            } else {
                format!("its keys are {}", ticked(allowed))
            };
            return problem(
                &k.k(key),
                format!("`{key}` does not apply to kind `{kind}`; {takes}"),
            );
        }
    }
    Ok(match kind {
        "round_robin" => StrategySpec::Balance(Balance::RoundRobin),
        "random" => StrategySpec::Balance(Balance::Random),
        "least_conn" => StrategySpec::Balance(Balance::LeastConn),
        "p2c" => StrategySpec::Balance(Balance::P2c),
        "lb_cookie" => {
            let (lo, hi) = COOKIE_TTL_RANGE_S;
            let ttl = within(
                &k.k("ttl"),
                s.ttl.unwrap_or(DEFAULT_COOKIE_TTL_S),
                lo,
                hi,
                "a cookie TTL in seconds",
            )?;
            let defaults = CookieAttrs::default();
            let cookie_name = s.cookie_name.clone().unwrap_or(defaults.name);
            if !is_token(&cookie_name) {
                return problem(
                    &k.k("cookie_name"),
                    format!(
                        "expected a cookie name of token characters (no whitespace, `;`, `=`, \
                         `,`, quotes or brackets), found {cookie_name:?}"
                    ),
                );
            }
            let path = s.cookie_path.clone().unwrap_or(defaults.path);
            if !path.starts_with('/') || path.chars().any(|c| c == ';' || c.is_control()) {
                return problem(
                    &k.k("cookie_path"),
                    format!(
                        "expected a path starting with `/` without `;` or control characters, \
                         found {path:?}"
                    ),
                );
            }
            StrategySpec::LbCookie {
                ttl_ns: secs_to_ns(ttl),
                ttl_mode: match s.ttl_mode.unwrap_or(RawTtlMode::Sliding) {
                    RawTtlMode::Sliding => TtlMode::Sliding,
                    RawTtlMode::Absolute => TtlMode::Absolute,
                    RawTtlMode::Session => TtlMode::Session,
                },
                cookie: CookieAttrs {
                    name: cookie_name,
                    path,
                    secure: s.secure.unwrap_or(false),
                    http_only: s.http_only.unwrap_or(false),
                    same_site: s.same_site.map(|ss| match ss {
                        RawSameSite::Strict => SameSite::Strict,
                        RawSameSite::Lax => SameSite::Lax,
                        RawSameSite::None => SameSite::None,
                    }),
                },
                balance: balance(s.balance.unwrap_or(RawBalance::RoundRobin)),
                on_unavailable: on_unavailable(s.on_unavailable),
                on_draining: on_draining(s.on_draining),
            }
        }
        "source_ip" => {
            let hash = ip_hash(s.hash, RawIpHash::Modulo);
            StrategySpec::SourceIp {
                hash,
                tuning: tuning(k, s, hash)?,
                on_unavailable: on_unavailable(s.on_unavailable),
                on_draining: on_draining(s.on_draining),
            }
        }
        "header" => {
            let hash = ip_hash(s.hash, RawIpHash::EnvoyRing);
            StrategySpec::Header {
                name: header_name(k, &s.header_name, "Authorization")?,
                hash,
                tuning: tuning(k, s, hash)?,
                balance: balance(s.balance.unwrap_or(RawBalance::RoundRobin)),
                on_unavailable: on_unavailable(s.on_unavailable),
                on_draining: on_draining(s.on_draining),
            }
        }
        "source_ip_table" => StrategySpec::SourceIpTable {
            timeout_ns: table_timeout(k, s.timeout, DEFAULT_TABLE_TIMEOUT_S, MAX_TABLE_TIMEOUT_S)?,
            size: table_size(k, s.size)?,
            balance: balance(s.balance.unwrap_or(RawBalance::RoundRobin)),
            on_unavailable: on_unavailable(s.on_unavailable),
            on_draining: on_draining(s.on_draining),
        },
        "app_cookie" | "session_id" => {
            let app = kind == "app_cookie";
            let name = if app {
                let n = s
                    .cookie_name
                    .clone()
                    .unwrap_or_else(|| "JSESSIONID".to_string());
                if !is_token(&n) {
                    return problem(
                        &k.k("cookie_name"),
                        format!("expected a cookie name of token characters, found {n:?}"),
                    );
                }
                n
            } else {
                header_name(k, &s.header_name, "X-Session-Id")?
            };
            StrategySpec::Learn {
                learned: if app {
                    Learned::AppCookie
                } else {
                    Learned::SessionId
                },
                name,
                timeout_ns: table_timeout(
                    k,
                    s.timeout,
                    DEFAULT_LEARN_TIMEOUT_S,
                    COOKIE_TTL_RANGE_S.1,
                )?,
                size: table_size(k, s.size)?,
                balance: balance(s.balance.unwrap_or(RawBalance::RoundRobin)),
                on_unavailable: on_unavailable(s.on_unavailable),
                on_draining: on_draining(s.on_draining),
            }
        }
        "bounded_load" => {
            let hash = ip_hash(s.hash, RawIpHash::Ketama);
            if !matches!(hash, IpHash::Ketama | IpHash::EnvoyRing) {
                return problem(
                    &k.k("hash"),
                    format!(
                        "expected `ketama` or `envoy_ring` (bounded loads walk a ring), found `{}`",
                        hash.name()
                    ),
                );
            }
            let factor = s.factor.unwrap_or(DEFAULT_BALANCE_FACTOR);
            if !(101..=10_000).contains(&factor) {
                return problem(
                    &k.k("factor"),
                    format!(
                        "expected a hash-balance-factor from 101 to 10000 (percent of the average \
                         load; HAProxy suggests 125-200), found {factor}"
                    ),
                );
            }
            let key = match s.key.unwrap_or(RawKeySource::Source) {
                RawKeySource::Source => KeySource::SourceIp,
                RawKeySource::Header => KeySource::Header,
                RawKeySource::Cookie => KeySource::Cookie,
            };
            if s.header_name.is_some() && key != KeySource::Header {
                return problem(
                    &k.k("header_name"),
                    "`header_name` applies only with `key = \"header\"`",
                );
            }
            StrategySpec::BoundedLoad {
                key,
                hash,
                factor,
                tuning: tuning(k, s, hash)?,
                balance: balance(s.balance.unwrap_or(RawBalance::RoundRobin)),
                on_draining: on_draining(s.on_draining),
            }
        }
        other => {
            return problem(
                &k.k("kind"),
                format!("kind `{other}` has keys but no builder in the scenario schema"),
            )
        }
    })
}

/// `b0`, `b0..b1`, `b0..b7`: the valid backend names.
fn backend_names(n: usize) -> String {
    match n {
        1 => "`b0`".to_string(),
        2 => "`b0`, `b1`".to_string(),
        _ => format!("`b0`..`b{}`", n - 1),
    }
}

fn faults(raw: &[RawFault], backends: &Backends, sim: &Simulation) -> R<Vec<Fault>> {
    let k = KeyPath::from("faults");
    let mut out = Vec::with_capacity(raw.len());
    for (i, f) in raw.iter().enumerate() {
        let fk = k.i(i);
        if !FAULT_KINDS.contains(&f.kind.as_str()) {
            return problem(
                &fk.k("kind"),
                format!(
                    "expected one of {}, found `{}`{}",
                    ticked(FAULT_KINDS),
                    f.kind,
                    did_you_mean(&f.kind, FAULT_KINDS)
                ),
            );
        }
        let n = backends.count();
        let backend = f
            .backend
            .strip_prefix('b')
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|&b| b < n && Backends::name(b) == f.backend);
        let Some(backend) = backend else {
            return problem(
                &fk.k("backend"),
                format!(
                    "expected the name of a backend ({n} declared: {}), found `{}`",
                    backend_names(n),
                    f.backend
                ),
            );
        };
        let at_ns = secs(&fk.k("at"), f.at, true)?;
        if at_ns >= sim.duration_ns {
            return problem(
                &fk.k("at"),
                format!(
                    "expected a time before the end of the run ({} s), found {} s",
                    sim.duration_ns as f64 / NS_PER_S,
                    f.at
                ),
            );
        }
        let recover_after_ns = match f.recover_after {
            Some(r) => Some(secs(&fk.k("recover_after"), r, false)?),
            None => None,
        };
        let down = |at: u64, rec: Option<u64>| (at, rec.map_or(u64::MAX, |r| at.saturating_add(r)));
        let (a0, a1) = down(at_ns, recover_after_ns);
        for (j, prev) in out.iter().enumerate() {
            let Fault::Crash {
                backend: pb,
                at_ns: pa,
                recover_after_ns: pr,
            } = *prev;
            let (b0, b1) = down(pa, pr);
            if pb == backend && a0 < b1 && b0 < a1 {
                return problem(
                    &fk.k("at"),
                    format!(
                        "expected crashes of `{}` not to overlap, found this one overlapping \
                         faults[{j}]",
                        f.backend
                    ),
                );
            }
        }
        out.push(Fault::Crash {
            backend,
            at_ns,
            recover_after_ns,
        });
    }
    Ok(out)
}
