//! What changes the fleet: faults, deploys and autoscaling.

use super::*;

/// `b0`, `b0..b1`, `b0..b7`: the valid backend names.
pub(super) fn backend_names(n: usize) -> String {
    match n {
        1 => "`b0`".to_string(),
        2 => "`b0`, `b1`".to_string(),
        _ => format!("`b0`..`b{}`", n - 1),
    }
}

/// A backend name (`b0`, …) at `key`, as an index.
pub(super) fn backend_ref(key: &KeyPath, v: &str, n: usize) -> R<usize> {
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
pub(super) fn start_time(key: &KeyPath, v: f64, sim: &Simulation) -> R<u64> {
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

/// `[[faults]]`, a repeating entry (`every`) expanded into one fault per
/// start time (its errors name the entry), and the repeating entries' runs.
pub(super) fn faults(
    raw: &[RawFault],
    backends: &Backends,
    sim: &Simulation,
) -> R<(Vec<Fault>, Vec<Series>)> {
    let k = KeyPath::from("faults");
    let mut out = Vec::with_capacity(raw.len());
    let mut series = Vec::new();
    // The file's entry of each fault in `out` (a repeating one has several).
    let mut entry: Vec<usize> = Vec::with_capacity(raw.len());
    for (i, f) in raw.iter().enumerate() {
        let fk = k.i(i);
        let repeat = series::Repeat {
            every: f.every,
            from: f.from,
            until: f.until,
            count: f.count,
        };
        if f.every.is_some() && f.kind == "random" {
            return problem(
                &fk.k("every"),
                "`every` repeats a fault that starts at a time; `random` faults have none (they recur by `mtbf`)",
            );
        }
        let starts = match series::times(&fk, &repeat, f.at, sim)? {
            Some(starts) => {
                series.push(Series {
                    first: out.len(),
                    count: starts.len(),
                    every_ns: secs_to_ns(f.every.unwrap_or(0.0)),
                });
                starts
                    .into_iter()
                    .map(|t| Some(t as f64 / NS_PER_S))
                    .collect()
            }
            None => vec![f.at],
        };
        for at in starts {
            // A backend may be named by its `[backends] names` entry too.
            let named = f.backend.as_ref().and_then(|b| {
                let j = backends.fleet.names.iter().position(|x| x == b)?;
                Some(Backends::name(j))
            });
            let f = RawFault {
                at,
                backend: named.or_else(|| f.backend.clone()),
                ..f.clone()
            };
            let kind = fault_kind(&fk, &f)?;
            let n = backends.count();
            let fault = match kind {
                "crash" => crash(&fk, &f, n, sim, &out, &entry)?,
                "random" => random(&fk, &f)?,
                "zone_outage" => zone_outage(&fk, &f, backends, sim)?,
                _ => slow(&fk, &f, n, sim, &out, &entry)?,
            };
            out.push(fault);
            entry.push(i);
        }
    }
    Ok((out, series))
}

/// The fault's kind, once its keys are known to be the kind's: none
/// foreign, every required one present.
fn fault_kind(fk: &KeyPath, f: &RawFault) -> R<&'static str> {
    let kinds: Vec<&str> = FAULT_KINDS.iter().map(|(n, _, _)| *n).collect();
    let Some(&(kind, required, optional)) = FAULT_KINDS.iter().find(|(n, _, _)| *n == f.kind)
    else {
        return Err(Problem::one_of(fk.k("kind"), &f.kind, &kinds));
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
    Ok(kind)
}

/// `crash`: a backend down at `at`, back after `recover_after` (or never);
/// crashes of one backend must not overlap the earlier faults' (`out`).
fn crash(
    fk: &KeyPath,
    f: &RawFault,
    n: usize,
    sim: &Simulation,
    out: &[Fault],
    entry: &[usize],
) -> R<Fault> {
    let backend = backend_ref(&fk.k("backend"), f.backend.as_deref().unwrap_or(""), n)?;
    let at_ns = start_time(&fk.k("at"), f.at.unwrap_or(0.0), sim)?;
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
            ..
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
                     overlapping faults[{}]",
                    Backends::name(backend),
                    entry[j]
                ),
            );
        }
    }
    let mode = match f.mode {
        None | Some(RawCrashMode::Reset) => CrashMode::Reset,
        Some(RawCrashMode::Blackhole) => CrashMode::Blackhole,
        Some(RawCrashMode::Hang) => CrashMode::Hang,
    };
    Ok(Fault::Crash {
        backend,
        at_ns,
        recover_after_ns,
        mode,
    })
}

/// `random`: failures at a mean interval `mtbf` (at least `MIN_MTBF_S`),
/// each repaired after a mean `mttr`.
fn random(fk: &KeyPath, f: &RawFault) -> R<Fault> {
    let mtbf = f.mtbf.unwrap_or(0.0);
    let mtbf_ns = secs(&fk.k("mtbf"), mtbf, false)?;
    if mtbf < MIN_MTBF_S {
        return problem(
            &fk.k("mtbf"),
            format!(
                "expected a mean time between failures of at least {MIN_MTBF_S} s, found {mtbf} s"
            ),
        );
    }
    let mttr_ns = secs(&fk.k("mttr"), f.mttr.unwrap_or(0.0), false)?;
    Ok(Fault::Random { mtbf_ns, mttr_ns })
}

/// `zone_outage`: every backend of a zone named in `backends.zones` down
/// at `at` for `duration` (or for good).
fn zone_outage(fk: &KeyPath, f: &RawFault, backends: &Backends, sim: &Simulation) -> R<Fault> {
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
    Ok(Fault::ZoneOutage {
        zone,
        at_ns,
        duration_ns,
    })
}

/// `slow`: a backend `factor` (1–1000) times slower from `at` for
/// `duration`; slow periods of one backend must not overlap.
fn slow(
    fk: &KeyPath,
    f: &RawFault,
    n: usize,
    sim: &Simulation,
    out: &[Fault],
    entry: &[usize],
) -> R<Fault> {
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
                         one overlapping faults[{}]",
                        Backends::name(backend),
                        entry[j]
                    ),
                );
            }
        }
    }
    Ok(Fault::Slow {
        backend,
        at_ns,
        duration_ns,
        factor,
    })
}

pub(super) fn drain_delay(key: &KeyPath, v: Option<f64>) -> R<u64> {
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

pub(super) fn slow_start(key: &KeyPath, v: Option<f64>) -> R<u64> {
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

/// `[[deploys]]`, a repeating entry (`every`) expanded into one deploy per
/// start time, and the repeating entries' runs.
pub(super) fn deploys(raw: &[RawDeploy], sim: &Simulation) -> R<(Vec<Deploy>, Vec<Series>)> {
    let k = KeyPath::from("deploys");
    let mut out: Vec<Deploy> = Vec::with_capacity(raw.len());
    let mut series = Vec::new();
    for (i, d) in raw.iter().enumerate() {
        let dk = k.i(i);
        let repeat = series::Repeat {
            every: d.every,
            from: d.from,
            until: d.until,
            count: d.count,
        };
        let (starts, at_key) = match series::times(&dk, &repeat, d.at, sim)? {
            Some(starts) => {
                series.push(Series {
                    first: out.len(),
                    count: starts.len(),
                    every_ns: secs_to_ns(d.every.unwrap_or(0.0)),
                });
                (starts, dk.k("from"))
            }
            None => {
                let Some(at) = d.at else {
                    return problem(
                        &dk.k("at"),
                        "required key `at` is missing (or repeat the deploy with `every` and `from`)",
                    );
                };
                (vec![start_time(&dk.k("at"), at, sim)?], dk.k("at"))
            }
        };
        for at_ns in starts {
            deploy(&dk, &at_key, d, at_ns, &mut out)?;
        }
    }
    Ok((out, series))
}

/// One deploy of `[[deploys]]` entry `dk` starting at `at_ns`, after `out`.
fn deploy(
    dk: &KeyPath,
    at_key: &KeyPath,
    d: &RawDeploy,
    at_ns: u64,
    out: &mut Vec<Deploy>,
) -> R<()> {
    {
        if let Some(prev) = out.last() {
            if at_ns <= prev.at_ns {
                return problem(
                    at_key,
                    format!(
                        "expected deploys in increasing order of `at`, found {} s after {} s",
                        at_ns as f64 / NS_PER_S,
                        prev.at_ns as f64 / NS_PER_S
                    ),
                );
            }
        }
        let batch_size = count_in(
            &dk.k("batch_size"),
            d.batch_size.unwrap_or(1),
            1,
            super::limits::MAX_BATCH_SIZE,
            "a batch size (backends replaced at once)",
        )?;
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
    Ok(())
}

pub(super) fn autoscaling(raw: &RawAutoscaling, backends: &Backends) -> R<Autoscaling> {
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
    let evaluation_period_ns = super::limits::period(
        &k.k("evaluation_period"),
        raw.evaluation_period.unwrap_or(60.0),
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
