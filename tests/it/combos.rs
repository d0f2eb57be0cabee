//! Cross-feature stress: every strategy kind and hash, with both
//! `on_unavailable` and `on_draining` where they apply, under every session
//! state placement, on one small scenario with everything enabled at once
//! (NAT, CGNAT churn, cookie blocking, token rotation, returning users
//! with their cookie jars, users who retry after errors and give up, the fleet's own addresses, names and weights with
//! an address pool, load-balancer retries of every product with a budget,
//! replacement of unhealthy instances at another speed, a crash, random faults, a zone outage, a slow backend,
//! a rolling deploy with drain and slow start, autoscaling out and in, a
//! store outage, crashes that hang and blackhole, passive health checks of
//! every product). Runs in the test
//! profile, which keeps debug assertions and overflow checks.

use crate::common::{assert_conserved, assert_requests_conserved, HASHES};
use std::collections::HashMap;
use stickysim::engine::{run_strategy_traced, RunOutput, TraceKind};
use stickysim::metrics::ControlKind;
use stickysim::scenario::{self, Scenario};

const UNAVAILABLE: [&str; 2] = ["redispatch", "reject"];
const DRAINING: [&str; 2] = ["reroute", "honor"];

/// Every strategy variant, as `[[strategies]]` tables.
fn strategies() -> String {
    let mut out = String::new();
    let mut add = |name: String, body: String| {
        out.push_str(&format!("[[strategies]]\nname = \"{name}\"\n{body}\n"));
    };
    for b in ["round_robin", "random", "least_conn", "p2c"] {
        add(b.into(), format!("kind = \"{b}\"\n"));
    }
    // Each product's load-balancer retries, and a budget.
    for (name, body) in [
        ("lc-nginx-retry", "kind = \"least_conn\"\nretry = { policy = \"nginx\", on = [\"error\", \"overloaded\"] }\n"),
        ("p2c-envoy-retry", "kind = \"p2c\"\nretry = { policy = \"envoy\", attempts = 3, budget_percent = 20 }\n"),
        ("cookie-haproxy-retry", "kind = \"lb_cookie\"\nretry = { policy = \"haproxy\" }\n"),
        ("ip-envoy-retry", "kind = \"source_ip\"\nhash = \"maglev\"\ntable_size = 251\nretry = { policy = \"envoy\", min_retry_concurrency = 1 }\n"),
    ] {
        add(name.into(), body.into());
    }
    // Passive health of every product, with their timeouts.
    for (name, body) in [
        (
            "lc-nginx",
            "kind = \"least_conn\"\nproduct = \"nginx\"\nconnect_timeout = 3\nread_timeout = 8\npassive_health = { max_fails = 2, fail_timeout = 20 }\n",
        ),
        (
            "rr-envoy",
            "kind = \"round_robin\"\nproduct = \"envoy\"\npassive_health = { interval = 5, base_ejection_time = 10, consecutive_5xx = 3 }\n",
        ),
        (
            "p2c-haproxy",
            "kind = \"p2c\"\nproduct = \"haproxy\"\npassive_health = { observe = \"layer7\", error_limit = 3, on_error = \"sudden-death\" }\n",
        ),
        (
            "ring-envoy",
            "kind = \"source_ip\"\nhash = \"envoy_ring\"\nmin_ring_size = 64\npassive_health = { consecutive_5xx = 2, max_ejection_percent = 50 }\n",
        ),
        (
            "cookie-nginx",
            "kind = \"lb_cookie\"\nproduct = \"nginx\"\nttl = 120\npassive_health = {}\n",
        ),
    ] {
        add(name.into(), body.into());
    }
    for u in UNAVAILABLE {
        for d in DRAINING {
            let pol = format!("on_unavailable = \"{u}\"\non_draining = \"{d}\"\n");
            for (kind, extra) in [
                ("lb_cookie", "ttl = 120\nbalance = \"least_conn\"\n"),
                ("lb_cookie", "ttl_mode = \"absolute\"\nttl = 60\n"),
                ("app_cookie", "timeout = 60\n"),
                ("session_id", "balance = \"p2c\"\n"),
                ("source_ip_table", "timeout = 90\nsize = 50\n"),
            ] {
                add(
                    format!("{kind}-{}-{u}-{d}", extra.len()),
                    format!("kind = \"{kind}\"\n{extra}{pol}"),
                );
            }
            for h in HASHES {
                let extra = match h {
                    "maglev" => "table_size = 251\n",
                    "envoy_ring" => "min_ring_size = 64\n",
                    _ => "",
                };
                add(
                    format!("ip-{h}-{u}-{d}"),
                    format!("kind = \"source_ip\"\nhash = \"{h}\"\n{extra}{pol}"),
                );
                // Headers share the hashes' code: two of the four policies.
                if (u == "reject") != (d == "honor") {
                    continue;
                }
                add(
                    format!("hdr-{h}-{u}-{d}"),
                    format!("kind = \"header\"\nhash = \"{h}\"\n{extra}{pol}"),
                );
            }
        }
    }
    for d in DRAINING {
        for key in ["source", "header", "cookie"] {
            for h in ["ketama", "envoy_ring"] {
                add(
                    format!("bounded-{key}-{h}-{d}"),
                    format!(
                        "kind = \"bounded_load\"\nkey = \"{key}\"\nhash = \"{h}\"\nfactor = 150\non_draining = \"{d}\"\n"
                    ),
                );
            }
        }
    }
    out
}

fn placement(p: &str) -> &'static str {
    match p {
        "local" => "placement = \"local\"\n",
        "shared" => {
            "placement = \"shared\"\nstore_latency = { dist = \"constant\", value = 0.002 }\nstore_outages = [{ at = 700, duration = 40 }]\n"
        }
        _ => {
            "placement = \"replicated\"\ncopies = 1\nreplica_lookup = \"cluster\"\nwrite_latency = { dist = \"constant\", value = 0.001 }\n"
        }
    }
}

fn scenario(place: &str) -> Scenario {
    let text = format!(
        r#"
[simulation]
duration = 1500
warmup = 30
seed = 11

[workload]
session_rate = 0.8
requests_per_session = {{ dist = "geometric", mean = 6 }}
think_time = {{ dist = "exponential", mean = 6 }}
service_time = {{ dist = "exponential", mean = 0.25 }}
profile = [{{ from = 0, multiplier = 1 }}, {{ from = 400, multiplier = 4 }}, {{ from = 800, multiplier = 0.3 }}]

[[clients]]
name = "home"
share = 0.4
users = 2000
cookie_block = 0.2
cookie_jar = "user"
retry = {{ attempts = 0 }}

[[clients]]
name = "office"
share = 0.3
users = 400
network = "nat"
users_per_ip = 100
retry = {{ attempts = 2, delay = {{ dist = "exponential", mean = 3 }} }}

[[clients]]
name = "mobile"
share = 0.3
users = 3000
network = "cgnat"
users_per_ip = 50
ipv6 = true
ip_change_rate = 0.02
token_header = true
token_rotation = 40

[backends]
count = 4
workers = 2
queue_limit = 6
zones = ["a", "b"]
addresses = ["10.1.0.5:8080", "10.1.0.6:8080", "10.1.0.7:8080", "10.1.0.8:8080"]
names = ["w0", "w1", "w2", "w3"]
weights = [1, 2, 1, 1]
address_pool = "10.1.2.0/28"
replace_unhealthy = {{ grace = 70, boot_time = 20 }}
launch_speed = 1.5

[health_check]
interval = 10
timeout = 2
unhealthy_threshold = 2
healthy_threshold = 2

[session_state]
{state}
[autoscaling]
min = 2
max = 7
target_utilisation = 0.4
metric_window = 60
evaluation_period = 30
scale_out_cooldown = 60
scale_in_cooldown = 60
boot_time = 40
victim = "newest"
deregistration_delay = 40
slow_start = 30

[[deploys]]
at = 250
batch_size = 2
pause = 10
deregistration_delay = 60
boot_time = 20
slow_start = 30

[[faults]]
kind = "crash"
backend = "b1"
at = 120
recover_after = 60

[[faults]]
kind = "crash"
backend = "b2"
at = 450
recover_after = 40
mode = "hang"

[[faults]]
kind = "crash"
backend = "b3"
at = 1000
recover_after = 50
mode = "blackhole"

[[faults]]
kind = "random"
mtbf = 900
mttr = 45

[[faults]]
kind = "zone_outage"
zone = "b"
at = 600
duration = 90

# Zone a too, inside zone b's outage: every backend is down for 30 s.
[[faults]]
kind = "zone_outage"
zone = "a"
at = 640
duration = 30

[[faults]]
kind = "slow"
backend = "b0"
at = 60
duration = 300
factor = 5

{strategies}"#,
        state = placement(place),
        strategies = strategies()
    );
    scenario::from_str(&text, "combos", "combos", &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn check(sc: &Scenario, o: &RunOutput) {
    let s = &o.summary;
    let name = &s.strategy;
    assert_conserved(s);
    assert!(s.loss_events >= s.sessions_lost, "{name}");
    assert!(s.sessions_lost <= s.sessions, "{name}");
    assert!(s.retried <= s.requests, "{name}");
    assert!(
        o.events.windows(2).all(|w| w[0].t_ns <= w[1].t_ns),
        "{name}"
    );

    // No request reaches an instance between its launch and its entry into
    // service; the autoscaler keeps the serving fleet within min..=max.
    let a = sc.autoscaling.as_ref().unwrap();
    let mut booting: HashMap<u32, bool> = HashMap::new();
    let mut serving = sc.backends.count() as i64;
    let mut ev = o.events.iter().peekable();
    for t in &o.trace {
        while let Some(e) = ev.next_if(|e| e.t_ns <= t.t) {
            match e.kind {
                ControlKind::BootStart => {
                    booting.insert(e.backend.unwrap(), true);
                    serving += 1;
                }
                ControlKind::InService => {
                    booting.insert(e.backend.unwrap(), false);
                }
                // A replaced instance leaves without a drain.
                ControlKind::DrainStart | ControlKind::Replaced => serving -= 1,
                _ => {}
            }
            // A deploy's batch of 2 launches before its old instances drain.
            assert!(serving <= (a.max + 2) as i64, "{name}: {serving} serving");
        }
        if let TraceKind::Accepted(b) | TraceKind::Failed(b) = t.what {
            assert!(
                !booting.get(&b.0).copied().unwrap_or(false),
                "{name}: request to {b:?} at {} before it entered service",
                t.t
            );
        }
    }
    // Re-walk the events for the scale decisions' bounds.
    let mut serving = sc.backends.count() as i64;
    for (i, e) in o.events.iter().enumerate() {
        match e.kind {
            ControlKind::BootStart => serving += 1,
            ControlKind::DrainStart | ControlKind::Replaced => serving -= 1,
            _ => {}
        }
        let last_of_instant = o.events.get(i + 1).is_none_or(|n| n.t_ns != e.t_ns);
        if last_of_instant {
            let at = &o.events[..=i];
            let same = at.iter().rev().take_while(|x| x.t_ns == e.t_ns);
            for x in same {
                match x.kind {
                    ControlKind::ScaleOut => {
                        assert!(
                            serving <= a.max as i64,
                            "{name}: {serving} > max at {}",
                            e.t_ns
                        )
                    }
                    ControlKind::ScaleIn => {
                        assert!(
                            serving >= a.min as i64,
                            "{name}: {serving} < min at {}",
                            e.t_ns
                        )
                    }
                    _ => {}
                }
            }
        }
    }
}

fn run_all(place: &str) {
    let sc = scenario(place);
    let outs: Vec<RunOutput> = {
        use rayon::prelude::*;
        (0..sc.strategies.len())
            .into_par_iter()
            .map(|i| run_strategy_traced(&sc, i))
            .collect()
    };
    let mut kinds = std::collections::HashSet::new();
    for o in &outs {
        check(&sc, o);
        for e in &o.events {
            kinds.insert(format!("{:?}", e.kind));
        }
    }
    for k in [
        "Crash",
        "Recover",
        "MarkedDown",
        "MarkedUp",
        "ZoneOutage",
        "SlowStart",
        "DrainStart",
        "Stopped",
        "InService",
        "ScaleOut",
        "ScaleIn",
        "Replaced",
        "Ejected",
        "Returned",
    ] {
        assert!(kinds.contains(k), "{place}: no {k} in any run");
    }
    assert!(
        outs.iter()
            .any(|o| o.summary.client_retries > 0 && o.summary.abandoned > 0),
        "{place}: no user retried and gave up in any run"
    );
    assert!(
        outs.iter().any(|o| o.summary.retries_over_budget > 0),
        "{place}: no retry budget ran out in any run"
    );
    // Deterministic: a second run of a few strategies is identical.
    for i in [0, sc.strategies.len() / 2, sc.strategies.len() - 1] {
        let again = run_strategy_traced(&sc, i);
        assert_eq!(again.trace, outs[i].trace, "{}", sc.strategies[i].name);
        assert_eq!(
            format!("{:?}", again.summary),
            format!("{:?}", outs[i].summary)
        );
    }
}

#[test]
fn every_strategy_survives_everything_with_local_state() {
    run_all("local");
}

#[test]
fn every_strategy_survives_everything_with_a_shared_store_outage() {
    run_all("shared");
}

#[test]
fn every_strategy_survives_everything_with_replicated_state() {
    run_all("replicated");
}

/// A pin to an instance that has stopped (end of a deploy's or scale-in's
/// drain) names a target that is no longer registered: the balancer treats
/// it as absent, as ALB does for a deregistered target, rather than as an
/// unavailable backend to refuse under `on_unavailable = "reject"`. Before
/// the fix, a source-address table kept refusing returning clients for its
/// whole idle timeout (3 h by default) after a rolling deploy.
#[test]
fn pins_to_stopped_instances_are_forgotten_not_refused() {
    let mut text = String::from(
        r#"
[simulation]
duration = 1800
warmup = 0
seed = 3

[workload]
session_rate = 2
requests_per_session = { dist = "geometric", mean = 6 }
think_time = { dist = "exponential", mean = 10 }
service_time = { dist = "exponential", mean = 0.05 }

[[clients]]
name = "office"
share = 1
users = 300
network = "nat"
users_per_ip = 10

[backends]
count = 4
workers = 4

[health_check]
interval = 10
timeout = 2

[[deploys]]
at = 300
batch_size = 2
deregistration_delay = 30
boot_time = 20
"#,
    );
    for kind in ["lb_cookie", "source_ip_table", "app_cookie", "session_id"] {
        for d in DRAINING {
            text.push_str(&format!(
                "[[strategies]]\nname = \"{kind}-{d}\"\nkind = \"{kind}\"\non_unavailable = \"reject\"\non_draining = \"{d}\"\n\n"
            ));
        }
    }
    let sc = scenario::from_str(&text, "stopped", "stopped", &[]).unwrap();
    for i in 0..sc.strategies.len() {
        let s = run_strategy_traced(&sc, i).summary;
        // No fault, no queue limit: nothing is down but stopped instances.
        assert_eq!(s.rejected, 0, "{}: {s:?}", s.strategy);
        assert_requests_conserved(&s);
        assert!(s.lost_deploy > 0, "{}", s.strategy);
    }
}
