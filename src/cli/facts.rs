//! The scenario in a few facts for the report (recorded in `summary.json`),
//! so `report.md` can describe the run from its files alone.

use crate::report::data::{ClientFacts, ScenarioFacts};
use crate::scenario::{Fault, Scenario, SessionState};

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
fn fault_text(f: &Fault) -> String {
    #[allow(unreachable_patterns)]
    match f {
        Fault::Crash {
            backend,
            at_ns,
            recover_after_ns,
        } => {
            let mut s = format!("b{backend} crashes at {}", when(*at_ns));
            match recover_after_ns {
                Some(r) => s.push_str(&format!(", back (empty) {} later", when(*r))),
                None => s.push_str(" and stays down"),
            }
            s
        }
        other => format!("{other:?}"),
    }
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
        }
        .to_string(),
        faults: sc.faults.iter().map(fault_text).collect(),
    }
}
