//! The scenario in a few facts for the report (recorded in `summary.json`),
//! so `report.md` can describe the run from its files alone.

use crate::report::data::{ClientFacts, ScenarioFacts};
use crate::scenario::{CrashMode, Fault, Scenario, Series, SessionState};

/// Minutes or seconds, whichever reads best.
fn when(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    if s >= 120.0 && (s / 60.0).fract() == 0.0 {
        format!("{} min", s / 60.0)
    } else {
        format!("{s} s")
    }
}

/// One plain sentence per fault.
fn fault_text(sc: &Scenario, f: &Fault) -> String {
    match f {
        Fault::Crash {
            backend,
            at_ns,
            recover_after_ns,
            mode,
        } => {
            let mut s = format!("b{backend} crashes at {}", when(*at_ns));
            match mode {
                CrashMode::Reset => {}
                CrashMode::Blackhole => s.push_str(" (blackhole: every connect times out)"),
                CrashMode::Hang => s.push_str(" (hang: requests time out unanswered)"),
            }
            match recover_after_ns {
                Some(r) => s.push_str(&format!(", back (empty) {} later", when(*r))),
                None => s.push_str(" and stays down"),
            }
            s
        }
        Fault::Random { mtbf_ns, mttr_ns } => format!(
            "every instance fails at random (mean {} between failures, {} to repair)",
            when(*mtbf_ns),
            when(*mttr_ns)
        ),
        Fault::ZoneOutage {
            zone,
            at_ns,
            duration_ns,
        } => {
            let name = sc.backends.zones.get(*zone).map_or("?", String::as_str);
            let mut s = format!("zone {name} goes down at {}", when(*at_ns));
            match duration_ns {
                Some(d) => s.push_str(&format!(" for {}", when(*d))),
                None => s.push_str(" for good"),
            }
            s
        }
        Fault::Slow {
            backend,
            at_ns,
            duration_ns,
            factor,
        } => format!(
            "b{backend} serves {factor}× slower from {} for {}",
            when(*at_ns),
            when(*duration_ns)
        ),
    }
}

/// One sentence per entry of `items`, a repeating entry's run (`series`)
/// in one: `one(first, None)` alone, or `one(first, Some((series, last)))`.
fn sentences<T>(
    items: &[T],
    series: &[Series],
    one: impl Fn(&T, Option<(&Series, &T)>) -> String,
) -> Vec<String> {
    let mut v = Vec::new();
    let mut i = 0;
    while i < items.len() {
        match series.iter().find(|s| s.first == i && s.count > 0) {
            Some(s) => {
                v.push(one(&items[i], Some((s, &items[i + s.count - 1]))));
                i += s.count;
            }
            None => {
                v.push(one(&items[i], None));
                i += 1;
            }
        }
    }
    v
}

/// When a fault starts, if it does at a time.
fn fault_at(f: &Fault) -> Option<u64> {
    match f {
        Fault::Crash { at_ns, .. }
        | Fault::ZoneOutage { at_ns, .. }
        | Fault::Slow { at_ns, .. } => Some(*at_ns),
        Fault::Random { .. } => None,
    }
}

/// A fault, or a repeating fault's run in one sentence.
fn fault_sentence(sc: &Scenario, f: &Fault, run: Option<(&Series, &Fault)>) -> String {
    let text = fault_text(sc, f);
    match run {
        Some((s, last)) if s.count > 1 => format!(
            "{text}; repeated every {} until {}: {} times",
            when(s.every_ns),
            when(fault_at(last).unwrap_or(0)),
            s.count
        ),
        _ => text,
    }
}

/// Deploys and autoscaling, one sentence each (a repeating deploy's run
/// in one: "rolling deploy every 60 min from 60 min to 420 min: 7 deploys, …").
fn change_texts(sc: &Scenario) -> Vec<String> {
    let mut v: Vec<String> = sentences(&sc.deploys, &sc.deploy_series, |d, run| {
        let when_text = match run {
            Some((s, last)) if s.count > 1 => format!(
                "every {} from {} to {}: {} deploys,",
                when(s.every_ns),
                when(d.at_ns),
                when(last.at_ns),
                s.count
            ),
            _ => format!("at {}", when(d.at_ns)),
        };
        format!(
            "rolling deploy {when_text} in batches of {}, {} deregistration delay, {} boot",
            d.batch_size,
            when(d.deregistration_delay_ns),
            when(d.boot_time_ns)
        )
    });
    if let Some(a) = &sc.autoscaling {
        v.push(format!(
            "autoscaling {}–{} instances on {:.0}% target utilisation, {} boot, {} deregistration delay",
            a.min,
            a.max,
            a.target * 100.0,
            when(a.boot_time_ns),
            when(a.deregistration_delay_ns)
        ));
    }
    v
}

/// The facts of a validated scenario.
pub(crate) fn scenario_facts(sc: &Scenario) -> ScenarioFacts {
    ScenarioFacts {
        duration_s: sc.simulation.duration_ns as f64 / 1e9,
        warmup_s: sc.simulation.warmup_ns as f64 / 1e9,
        session_rate: sc.workload.session_rate,
        rate_profile: !sc.workload.profile.steps.is_empty(),
        requests_per_session_mean: sc.workload.requests_per_session.mean(),
        think_time_mean_s: sc.workload.think_time.mean(),
        service_time_mean_s: sc.workload.service_time.mean(),
        clients: sc
            .clients
            .iter()
            .map(|c| ClientFacts {
                name: c.name.clone(),
                share: c.share,
                users: c.users,
                // `direct`, `nat`, `cgnat`: the TOML's names.
                network: format!("{:?}", c.network).to_lowercase(),
                users_per_ip: c.users_per_ip,
                ip_change_rate: c.ip_change_rate,
                cookie_block: c.cookie_block,
                returning: c.cookie_jar == crate::scenario::CookieJar::User,
            })
            .collect(),
        backends: sc.backends.count() as u32,
        workers: sc.backends.workers,
        queue_limit: sc.backends.queue_limit,
        health_check_interval_s: sc.health_check.interval_ns as f64 / 1e9,
        unhealthy_threshold: sc.health_check.unhealthy_threshold,
        healthy_threshold: sc.health_check.healthy_threshold,
        session_state: match sc.session_state {
            SessionState::Local => "local",
            SessionState::Shared { .. } => "shared",
            SessionState::Replicated { .. } => "replicated",
        }
        .to_string(),
        faults: sentences(&sc.faults, &sc.fault_series, |f, run| {
            fault_sentence(sc, f, run)
        })
        .into_iter()
        .chain(change_texts(sc))
        .collect(),
        replay: None,
    }
}
