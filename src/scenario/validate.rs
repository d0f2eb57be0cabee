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
/// Time a request to a dead backend takes to fail before its retry.
pub const DEFAULT_RETRY_DELAY_S: f64 = 1.0;
/// Most copies `replicated` session state may keep besides the primary.
pub const MAX_COPIES: u32 = 8;
/// The shortest mean time between failures of `random` faults (shorter would
/// make the run mostly crash handling).
pub const MIN_MTBF_S: f64 = 1.0;
/// ALB's deregistration delay default (`deregistration_delay.timeout_seconds`).
pub const DEFAULT_DEREGISTRATION_DELAY_S: f64 = 300.0;
/// Launch-to-running time of a new instance when not given.
pub const DEFAULT_BOOT_TIME_S: f64 = 60.0;
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

/// Names become directory and file names (`results/<name>/`): no leading
/// `.`, so `.` and `..` can't point outside the results directory.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn name(key: &KeyPath, s: &str) -> R<()> {
    if is_name(s) {
        Ok(())
    } else {
        problem(
            key,
            format!(
                "expected a name made of letters, digits, `_`, `.` and `-`, not starting \
                 with `.`, found {s:?}"
            ),
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
    let faults = faults(raw.faults.as_deref().unwrap_or(&[]), &backends, &simulation)?;
    let deploys = deploys(raw.deploys.as_deref().unwrap_or(&[]), &simulation)?;
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
    for (i, st) in strategies.iter().enumerate() {
        let tuning = match &st.spec {
            StrategySpec::SourceIp { tuning, hash, .. }
            | StrategySpec::Header { tuning, hash, .. }
            | StrategySpec::BoundedLoad { tuning, hash, .. }
                if *hash == IpHash::Maglev =>
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
        deploys,
        autoscaling,
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
    let zones = match &raw.zones {
        None => vec!["default".to_string()],
        Some(z) if z.is_empty() => {
            return problem(
                &k.k("zones"),
                "expected at least one zone name, found an empty array (leave `zones` out \
                 for a single zone)",
            )
        }
        Some(z) => {
            for (i, zn) in z.iter().enumerate() {
                name(&k.k("zones").i(i), zn)?;
                if let Some(j) = z[..i].iter().position(|o| o == zn) {
                    return problem(
                        &k.k("zones").i(i),
                        format!(
                            "expected unique zone names, found `{zn}` again (first at zones[{j}])"
                        ),
                    );
                }
            }
            z.clone()
        }
    };
    Ok(Backends {
        speeds,
        workers,
        queue_limit: raw.queue_limit,
        zones,
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
    let retry_delay = raw
        .and_then(|h| h.retry_delay)
        .unwrap_or(DEFAULT_RETRY_DELAY_S);
    let retry_delay_ns = secs(&k.k("retry_delay"), retry_delay, true)?;
    if retry_delay > 60.0 {
        return problem(
            &k.k("retry_delay"),
            format!("expected a connect timeout of at most 60 s, found {retry_delay} s"),
        );
    }
    Ok(HealthCheck {
        interval_ns,
        timeout_ns,
        unhealthy_threshold: threshold("unhealthy_threshold", 2)?,
        healthy_threshold: threshold("healthy_threshold", 5)?,
        retry_delay_ns,
    })
}

/// The keys of `[session_state]` each placement takes.
fn placement_keys(p: RawPlacement) -> (&'static str, &'static [&'static str]) {
    match p {
        RawPlacement::Local => ("local", &[]),
        RawPlacement::Shared => ("shared", &["store_latency", "store_outages"]),
        RawPlacement::Replicated => ("replicated", &["copies", "write_latency", "replica_lookup"]),
    }
}

/// `[session_state]` for its own placement, or for `as_placement` (a
/// strategy's override). `also` are placements strategies choose, whose
/// keys may appear in the table too.
fn session_state(
    raw: Option<&RawSessionState>,
    as_placement: Option<RawPlacement>,
    also: &[RawPlacement],
) -> R<SessionState> {
    let k = KeyPath::from("session_state");
    let placement = as_placement
        .or_else(|| raw.and_then(|s| s.placement))
        .unwrap_or(RawPlacement::Local);
    let (pname, own) = placement_keys(placement);
    let mut allowed: Vec<&str> = own.to_vec();
    for p in also {
        allowed.extend(placement_keys(*p).1);
    }
    if let (Some(r), None) = (raw, as_placement) {
        let present = [
            ("store_latency", r.store_latency.is_some()),
            ("store_outages", r.store_outages.is_some()),
            ("copies", r.copies.is_some()),
            ("write_latency", r.write_latency.is_some()),
            ("replica_lookup", r.replica_lookup.is_some()),
        ];
        for (key, set) in present {
            if set && !allowed.contains(&key) {
                let takes = if own.is_empty() {
                    "it takes no other key".to_string()
                } else {
                    format!("its keys are {}", ticked(own))
                };
                return problem(
                    &k.k(key),
                    format!("`{key}` does not apply to `placement = \"{pname}\"`; {takes}"),
                );
            }
        }
    }
    match placement {
        RawPlacement::Local => Ok(SessionState::Local),
        RawPlacement::Shared => {
            let Some(d) = raw.and_then(|s| s.store_latency.as_ref()) else {
                return problem(
                    &k.k("store_latency"),
                    "required key `store_latency` is missing: `placement = \"shared\"` (here or \
                     in a strategy) needs the store's round-trip time as a distribution",
                );
            };
            let store_latency = dist(&k.k("store_latency"), d)?;
            let mut outages: Vec<(u64, u64)> = Vec::new();
            for (i, w) in raw
                .and_then(|s| s.store_outages.as_deref())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let wk = k.k("store_outages").i(i);
                let at = secs(&wk.k("at"), w.at, true)?;
                let dur = secs(&wk.k("duration"), w.duration, false)?;
                if let Some(&(_, prev_end)) = outages.last() {
                    if at < prev_end {
                        return problem(
                            &wk.k("at"),
                            format!(
                                "expected outages in time order, not overlapping, found one at \
                                 {} s before the previous one ends ({} s)",
                                w.at,
                                prev_end as f64 / NS_PER_S
                            ),
                        );
                    }
                }
                outages.push((at, at.saturating_add(dur)));
            }
            Ok(SessionState::Shared {
                store_latency,
                outages,
            })
        }
        RawPlacement::Replicated => {
            let copies = count_in(
                &k.k("copies"),
                raw.and_then(|r| r.copies).unwrap_or(1),
                1,
                MAX_COPIES,
                "a number of copies",
            )?;
            let write_latency = match raw.and_then(|r| r.write_latency.as_ref()) {
                Some(d) => dist(&k.k("write_latency"), d)?,
                None => Dist::constant(0.0).expect("0 is a valid constant"),
            };
            Ok(SessionState::Replicated {
                copies,
                write_latency,
                cluster_reads: raw.and_then(|r| r.replica_lookup)
                    == Some(RawReplicaLookup::Cluster),
            })
        }
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
            session_state: None,
        });
    }
    Ok(out)
}

fn balance(b: Option<RawBalance>) -> Balance {
    match b.unwrap_or(RawBalance::RoundRobin) {
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
        RawIpHash::NginxHash => IpHash::NginxHash,
        RawIpHash::HaproxyConsistent => IpHash::HaproxyConsistent,
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
    haproxy_hash_options(k, s, hash, &mut t)?;
    Ok(t)
}

/// HAProxy's `hash-type` function and `avalanche`, for HAProxy's hashes only.
fn haproxy_hash_options(k: &KeyPath, s: &RawStrategy, hash: IpHash, t: &mut HashTuning) -> R<()> {
    let haproxy = matches!(hash, IpHash::HaproxySource | IpHash::HaproxyConsistent);
    for (key, set) in [
        ("hash_function", s.hash_function.is_some()),
        ("avalanche", s.avalanche.is_some()),
    ] {
        if set && !haproxy {
            return problem(
                &k.k(key),
                format!(
                    "`{key}` applies to `hash = \"haproxy_source\"` or `\"haproxy_consistent\"` only, found hash `{}`",
                    hash.name()
                ),
            );
        }
    }
    if let Some(f) = &s.hash_function {
        match routing::haproxy_chash::HaproxyFn::from_name(f) {
            Some(f) => t.haproxy_fn = f,
            None => {
                return problem(
                    &k.k("hash_function"),
                    format!("expected one of sdbm, djb2, wt6, crc32, found `{f}`"),
                )
            }
        }
    }
    t.avalanche = s.avalanche.unwrap_or(false);
    Ok(())
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
                balance: balance(s.balance),
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
                balance: balance(s.balance),
                on_unavailable: on_unavailable(s.on_unavailable),
                on_draining: on_draining(s.on_draining),
            }
        }
        "source_ip_table" => StrategySpec::SourceIpTable {
            timeout_ns: table_timeout(k, s.timeout, DEFAULT_TABLE_TIMEOUT_S, MAX_TABLE_TIMEOUT_S)?,
            size: table_size(k, s.size)?,
            balance: balance(s.balance),
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
                balance: balance(s.balance),
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
                balance: balance(s.balance),
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

/// A backend name (`b0`, …) at `key`, as an index.
fn backend_ref(key: &KeyPath, v: &str, n: usize) -> R<usize> {
    let backend = v
        .strip_prefix('b')
        .and_then(|d| d.parse::<usize>().ok())
        .filter(|&b| b < n && Backends::name(b) == v);
    match backend {
        Some(b) => Ok(b),
        None => problem(
            key,
            format!(
                "expected the name of a backend ({n} declared: {}), found `{v}`",
                backend_names(n)
            ),
        ),
    }
}

/// A start time within the run.
fn start_time(key: &KeyPath, v: f64, sim: &Simulation) -> R<u64> {
    let at_ns = secs(key, v, true)?;
    if at_ns >= sim.duration_ns {
        return problem(
            key,
            format!(
                "expected a time before the end of the run ({} s), found {v} s",
                sim.duration_ns as f64 / NS_PER_S
            ),
        );
    }
    Ok(at_ns)
}

fn faults(raw: &[RawFault], backends: &Backends, sim: &Simulation) -> R<Vec<Fault>> {
    let k = KeyPath::from("faults");
    let mut out = Vec::with_capacity(raw.len());
    for (i, f) in raw.iter().enumerate() {
        let fk = k.i(i);
        let kinds: Vec<&str> = FAULT_KINDS.iter().map(|(n, _, _)| *n).collect();
        let Some(&(kind, required, optional)) = FAULT_KINDS.iter().find(|(n, _, _)| *n == f.kind)
        else {
            return problem(
                &fk.k("kind"),
                format!(
                    "expected one of {}, found `{}`{}",
                    ticked(&kinds),
                    f.kind,
                    did_you_mean(&f.kind, &kinds)
                ),
            );
        };
        let present = f.present_keys();
        for key in &present {
            if !required.contains(key) && !optional.contains(key) {
                let all: Vec<&str> = required.iter().chain(optional).copied().collect();
                return problem(
                    &fk.k(key),
                    format!(
                        "`{key}` does not apply to fault kind `{kind}`; its keys are {}",
                        ticked(&all)
                    ),
                );
            }
        }
        for key in required.iter() {
            if !present.contains(key) {
                return problem(
                    &fk.k(key),
                    format!(
                        "required key `{key}` is missing: fault kind `{kind}` needs {}",
                        ticked(required)
                    ),
                );
            }
        }
        let n = backends.count();
        let fault = match kind {
            "crash" => {
                let backend = backend_ref(&fk.k("backend"), f.backend.as_deref().unwrap_or(""), n)?;
                let at_ns = start_time(&fk.k("at"), f.at.unwrap_or(0.0), sim)?;
                let recover_after_ns = match f.recover_after {
                    Some(r) => Some(secs(&fk.k("recover_after"), r, false)?),
                    None => None,
                };
                let down = |at: u64, rec: Option<u64>| {
                    (at, rec.map_or(u64::MAX, |r| at.saturating_add(r)))
                };
                let (a0, a1) = down(at_ns, recover_after_ns);
                for (j, prev) in out.iter().enumerate() {
                    let Fault::Crash {
                        backend: pb,
                        at_ns: pa,
                        recover_after_ns: pr,
                    } = *prev
                    else {
                        continue;
                    };
                    let (b0, b1) = down(pa, pr);
                    if pb == backend && a0 < b1 && b0 < a1 {
                        return problem(
                            &fk.k("at"),
                            format!(
                                "expected crashes of `{}` not to overlap, found this one \
                                 overlapping faults[{j}]",
                                Backends::name(backend)
                            ),
                        );
                    }
                }
                Fault::Crash {
                    backend,
                    at_ns,
                    recover_after_ns,
                }
            }
            "random" => {
                let mtbf = f.mtbf.unwrap_or(0.0);
                let mtbf_ns = secs(&fk.k("mtbf"), mtbf, false)?;
                if mtbf < MIN_MTBF_S {
                    return problem(
                        &fk.k("mtbf"),
                        format!("expected a mean time between failures of at least {MIN_MTBF_S} s, found {mtbf} s"),
                    );
                }
                let mttr_ns = secs(&fk.k("mttr"), f.mttr.unwrap_or(0.0), false)?;
                Fault::Random { mtbf_ns, mttr_ns }
            }
            "zone_outage" => {
                let zn = f.zone.as_deref().unwrap_or("");
                let Some(zone) = backends.zones.iter().position(|z| z == zn) else {
                    return problem(
                        &fk.k("zone"),
                        format!(
                            "expected one of the zones in `backends.zones` ({}), found `{zn}`",
                            ticked(
                                &backends
                                    .zones
                                    .iter()
                                    .map(String::as_str)
                                    .collect::<Vec<_>>()
                            )
                        ),
                    );
                };
                let at_ns = start_time(&fk.k("at"), f.at.unwrap_or(0.0), sim)?;
                let duration_ns = match f.duration {
                    Some(d) => Some(secs(&fk.k("duration"), d, false)?),
                    None => None,
                };
                Fault::ZoneOutage {
                    zone,
                    at_ns,
                    duration_ns,
                }
            }
            _ => {
                let backend = backend_ref(&fk.k("backend"), f.backend.as_deref().unwrap_or(""), n)?;
                let at_ns = start_time(&fk.k("at"), f.at.unwrap_or(0.0), sim)?;
                let duration_ns = secs(&fk.k("duration"), f.duration.unwrap_or(0.0), false)?;
                let factor = within(
                    &fk.k("factor"),
                    f.factor.unwrap_or(0.0),
                    1.0,
                    1000.0,
                    "a slow-down factor",
                )?;
                for (j, prev) in out.iter().enumerate() {
                    if let Fault::Slow {
                        backend: pb,
                        at_ns: pa,
                        duration_ns: pd,
                        ..
                    } = *prev
                    {
                        if pb == backend
                            && at_ns < pa.saturating_add(pd)
                            && pa < at_ns.saturating_add(duration_ns)
                        {
                            return problem(
                                &fk.k("at"),
                                format!(
                                    "expected slow periods of `{}` not to overlap, found this \
                                     one overlapping faults[{j}]",
                                    Backends::name(backend)
                                ),
                            );
                        }
                    }
                }
                Fault::Slow {
                    backend,
                    at_ns,
                    duration_ns,
                    factor,
                }
            }
        };
        out.push(fault);
    }
    Ok(out)
}

fn drain_delay(key: &KeyPath, v: Option<f64>) -> R<u64> {
    let d = v.unwrap_or(DEFAULT_DEREGISTRATION_DELAY_S);
    let ns = secs(key, d, true)?;
    if d > MAX_DEREGISTRATION_DELAY_S {
        return problem(
            key,
            format!("expected a delay from 0 to {MAX_DEREGISTRATION_DELAY_S} s (ALB's range), found {d} s"),
        );
    }
    Ok(ns)
}

fn slow_start(key: &KeyPath, v: Option<f64>) -> R<u64> {
    let d = v.unwrap_or(0.0);
    let (lo, hi) = SLOW_START_RANGE_S;
    if d != 0.0 && !(d.is_finite() && (lo..=hi).contains(&d)) {
        return problem(
            key,
            format!("expected 0 (off) or a duration from {lo} to {hi} s (ALB's range), found {d}"),
        );
    }
    secs(key, d, true)
}

fn deploys(raw: &[RawDeploy], sim: &Simulation) -> R<Vec<Deploy>> {
    let k = KeyPath::from("deploys");
    let mut out: Vec<Deploy> = Vec::with_capacity(raw.len());
    for (i, d) in raw.iter().enumerate() {
        let dk = k.i(i);
        let at_ns = start_time(&dk.k("at"), d.at, sim)?;
        if let Some(prev) = out.last() {
            if at_ns <= prev.at_ns {
                return problem(
                    &dk.k("at"),
                    format!(
                        "expected deploys in increasing order of `at`, found {} s after {} s",
                        d.at,
                        prev.at_ns as f64 / NS_PER_S
                    ),
                );
            }
        }
        let batch_size = d.batch_size.unwrap_or(1);
        if batch_size == 0 {
            return problem(
                &dk.k("batch_size"),
                "expected at least 1 backend per batch, found 0",
            );
        }
        out.push(Deploy {
            at_ns,
            batch_size,
            pause_ns: secs(&dk.k("pause"), d.pause.unwrap_or(0.0), true)?,
            deregistration_delay_ns: drain_delay(
                &dk.k("deregistration_delay"),
                d.deregistration_delay,
            )?,
            boot_time_ns: secs(
                &dk.k("boot_time"),
                d.boot_time.unwrap_or(DEFAULT_BOOT_TIME_S),
                true,
            )?,
            slow_start_ns: slow_start(&dk.k("slow_start"), d.slow_start)?,
        });
    }
    Ok(out)
}

fn autoscaling(raw: &RawAutoscaling, backends: &Backends) -> R<Autoscaling> {
    let k = KeyPath::from("autoscaling");
    let min = count_in(
        &k.k("min"),
        raw.min,
        1,
        MAX_BACKENDS,
        "a minimum instance count",
    )?;
    let max = count_in(
        &k.k("max"),
        raw.max,
        1,
        MAX_BACKENDS,
        "a maximum instance count",
    )?;
    if max < min {
        return problem(
            &k.k("max"),
            format!("expected `max` >= `min` ({min}), found {max}"),
        );
    }
    let n = backends.count() as u32;
    if !(min..=max).contains(&n) {
        return problem(
            &KeyPath::from("backends").k("count"),
            format!(
                "expected a starting backend count within `autoscaling.min`..=`max` \
                 ({min}..={max}), found {n}"
            ),
        );
    }
    let target = within(
        &k.k("target_utilisation"),
        raw.target_utilisation.unwrap_or(0.5),
        0.05,
        0.95,
        "a target utilisation",
    )?;
    let evaluation_period_ns = secs(
        &k.k("evaluation_period"),
        raw.evaluation_period.unwrap_or(60.0),
        false,
    )?;
    let window_key = k.k("metric_window");
    let metric_window_ns = secs(&window_key, raw.metric_window.unwrap_or(180.0), false)?;
    if metric_window_ns < evaluation_period_ns || metric_window_ns % evaluation_period_ns != 0 {
        return problem(
            &window_key,
            format!(
                "expected a whole multiple of `evaluation_period` ({} s), found {} s",
                evaluation_period_ns as f64 / NS_PER_S,
                metric_window_ns as f64 / NS_PER_S
            ),
        );
    }
    if metric_window_ns / evaluation_period_ns > 1000 {
        return problem(
            &window_key,
            "expected at most 1000 evaluation periods in the window",
        );
    }
    Ok(Autoscaling {
        min,
        max,
        target,
        metric_window_ns,
        evaluation_period_ns,
        scale_out_cooldown_ns: secs(
            &k.k("scale_out_cooldown"),
            raw.scale_out_cooldown.unwrap_or(300.0),
            true,
        )?,
        scale_in_cooldown_ns: secs(
            &k.k("scale_in_cooldown"),
            raw.scale_in_cooldown.unwrap_or(300.0),
            true,
        )?,
        boot_time_ns: secs(
            &k.k("boot_time"),
            raw.boot_time.unwrap_or(DEFAULT_BOOT_TIME_S),
            true,
        )?,
        victim: match raw.victim.unwrap_or(RawVictim::Oldest) {
            RawVictim::Newest => Victim::Newest,
            RawVictim::Oldest => Victim::Oldest,
            RawVictim::LeastSessions => Victim::LeastSessions,
        },
        deregistration_delay_ns: drain_delay(
            &k.k("deregistration_delay"),
            raw.deregistration_delay,
        )?,
        slow_start_ns: slow_start(&k.k("slow_start"), raw.slow_start)?,
    })
}
