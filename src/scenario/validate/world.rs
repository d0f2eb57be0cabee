//! The simulated world's sections: workload, clients, backends, health
//! checks, session state and output.

use super::*;

pub(super) fn workload(raw: &RawWorkload) -> R<Workload> {
    let k = KeyPath::from("workload");
    let replay = raw
        .replay
        .as_ref()
        .map(super::super::replay::validate)
        .transpose()?;
    // A replayed workload takes its arrivals, sessions and think times from
    // the log: the synthetic keys may be left out.
    let missing = |name: &str| {
        let mut p = Problem::new(
            k.k(name),
            format!(
                "required key `{name}` is missing (a synthetic workload needs it; with \
                 `workload.replay` the log gives the arrivals)"
            ),
        );
        p.detail.expected = Some(format!("the key `{name}`"));
        p.detail.found = Some("nothing".to_string());
        Err(p)
    };
    let session_rate = match raw.session_rate {
        Some(v) => positive(&k.k("session_rate"), v, "a rate in sessions per second")?,
        None if replay.is_some() => 0.0,
        None => return missing("session_rate"),
    };
    let mut profile = RateProfile::default();
    if let Some(steps) = &raw.profile {
        let pk = k.k("profile");
        if steps.is_empty() {
            return problem(
                &pk,
                "expected at least one `{ from, multiplier }` step, found an empty array",
            );
        }
        if steps.len() > super::limits::MAX_PROFILE_STEPS {
            return problem(
                &pk,
                format!(
                    "expected at most {} steps, found {}",
                    super::limits::MAX_PROFILE_STEPS,
                    steps.len()
                ),
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
        let period_ns = super::limits::period(&key, period)?;
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
    let requests_per_session = match &raw.requests_per_session {
        Some(d) => dist(&rps_key, d)?,
        None if replay.is_some() => Dist::Constant(1.0),
        None => return missing("requests_per_session"),
    };
    if requests_per_session.mean() < 1.0 {
        return problem(
            &rps_key,
            format!(
                "expected a mean of at least 1 request per session, found {}",
                requests_per_session.mean()
            ),
        );
    }
    let think_time = match &raw.think_time {
        Some(d) => dist(&k.k("think_time"), d)?,
        None if replay.is_some() => Dist::Constant(0.0),
        None => return missing("think_time"),
    };
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
        replay,
    })
}

pub(super) fn clients(raw: Option<&[RawClient]>) -> R<Vec<ClientSegment>> {
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
        name(&ck.k("name"), &seg_name)?;
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
        let retry = c
            .retry
            .as_ref()
            .map(|r| client_retry(&ck.k("retry"), r))
            .transpose()?;
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
            cookie_jar: match c.cookie_jar {
                Some(RawCookieJar::User) => CookieJar::User,
                Some(RawCookieJar::Session) | None => CookieJar::Session,
            },
            retry,
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

/// `[[clients]] retry = { attempts, delay }`: attempts 0 to
/// [`MAX_CLIENT_RETRIES`], a delay with a mean of at most
/// [`MAX_CLIENT_RETRY_DELAY_S`].
fn client_retry(k: &KeyPath, raw: &RawClientRetry) -> R<ClientRetry> {
    let attempts = raw.attempts.unwrap_or(DEFAULT_CLIENT_RETRIES);
    if attempts > MAX_CLIENT_RETRIES {
        return problem(
            &k.k("attempts"),
            format!("expected 0 to {MAX_CLIENT_RETRIES} retries of one request, found {attempts}"),
        );
    }
    let delay = match &raw.delay {
        Some(d) => dist(&k.k("delay"), d)?,
        None => Dist::exponential(1.0).expect("a positive mean is valid"),
    };
    if delay.mean() > MAX_CLIENT_RETRY_DELAY_S {
        return problem(
            &k.k("delay"),
            format!(
                "expected a delay with a mean of at most {MAX_CLIENT_RETRY_DELAY_S} s, found {} s",
                delay.mean()
            ),
        );
    }
    Ok(ClientRetry { attempts, delay })
}

pub(super) fn backends(raw: &RawBackends) -> R<Backends> {
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
    // A fleet list (`addresses`, …) gives the count, as a speed array does.
    let count = match (count, &raw.speed, super::fleet::implied_count(raw)) {
        (None, Some(RawSpeed::All(_)) | None, Some((n, key))) => Some(count_in(
            &k.k(key),
            u32::try_from(n).unwrap_or(u32::MAX),
            1,
            MAX_BACKENDS,
            "a number of entries, one per backend,",
        )?),
        (c, _, _) => c,
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
    let workers = count_in(
        &k.k("workers"),
        raw.workers.unwrap_or(1),
        1,
        super::limits::MAX_WORKERS,
        "a number of workers per backend",
    )?;
    let zones = match &raw.zones {
        None => vec!["default".to_string()],
        Some(z) if z.is_empty() => {
            return problem(
                &k.k("zones"),
                "expected at least one zone name, found an empty array (leave `zones` out \
                 for a single zone)",
            )
        }
        Some(z) if z.len() > super::limits::MAX_ZONES => {
            return problem(
                &k.k("zones"),
                format!(
                    "expected at most {} zones (regions have a handful), found {}",
                    super::limits::MAX_ZONES,
                    z.len()
                ),
            )
        }
        Some(z) => {
            // Linear: each name's first index, looked up by name.
            let mut first: std::collections::HashMap<&str, usize> =
                std::collections::HashMap::with_capacity(z.len());
            for (i, zn) in z.iter().enumerate() {
                name(&k.k("zones").i(i), zn)?;
                if let Some(&j) = first.get(zn.as_str()) {
                    return problem(
                        &k.k("zones").i(i),
                        format!(
                            "expected unique zone names, found `{zn}` again (first at zones[{j}])"
                        ),
                    );
                }
                first.insert(zn, i);
            }
            z.clone()
        }
    };
    let fleet = super::fleet::fleet(raw, speeds.len())?;
    let replace_unhealthy = match &raw.replace_unhealthy {
        Some(r) => {
            let rk = k.k("replace_unhealthy");
            let grace = r.grace.unwrap_or(DEFAULT_REPLACE_GRACE_S);
            let boot = r.boot_time.unwrap_or(DEFAULT_BOOT_TIME_S);
            for (key, v, zero) in [("grace", grace, true), ("boot_time", boot, false)] {
                if v > MAX_REPLACE_S {
                    return problem(
                        &rk.k(key),
                        format!("expected at most {MAX_REPLACE_S} s (a day), found {v} s"),
                    );
                }
                secs(&rk.k(key), v, zero)?;
            }
            Some(Replacement {
                grace_ns: secs(&rk.k("grace"), grace, true)?,
                boot_time_ns: secs(&rk.k("boot_time"), boot, false)?,
            })
        }
        None => None,
    };
    let launch_speed = raw
        .launch_speed
        .map(|s| positive(&k.k("launch_speed"), s, "a speed"))
        .transpose()?;
    Ok(Backends {
        speeds,
        workers,
        queue_limit: raw.queue_limit,
        zones,
        fleet,
        replace_unhealthy,
        launch_speed,
    })
}

pub(super) fn health_check(raw: Option<&RawHealthCheck>) -> R<HealthCheck> {
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
pub(super) fn placement_keys(p: RawPlacement) -> (&'static str, &'static [&'static str]) {
    match p {
        RawPlacement::Local => ("local", &[]),
        RawPlacement::Shared => ("shared", &["store_latency", "store_outages"]),
        RawPlacement::Replicated => ("replicated", &["copies", "write_latency", "replica_lookup"]),
    }
}

/// `[session_state]` for its own placement, or for `as_placement` (a
/// strategy's override). `also` are placements strategies choose, whose
/// keys may appear in the table too.
pub(super) fn session_state(
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

pub(super) fn output(raw: Option<&RawOutput>, sim: &RawSimulation, duration_ns: u64) -> R<Output> {
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
