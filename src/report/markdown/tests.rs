use super::text::{clock, join_and};
use super::*;
use crate::routing::StrategyKind;

/// Two strategies on two backends, with a `lost_deploy` column that the
/// code does not name: b1 crashes at 10 s and is marked down at 30 s;
/// `lc` (least connections) sends it most requests meanwhile.
fn synthetic() -> RunData {
    let summary = "strategy,kind,requests,failed,rejected,sessions,sessions_lost,sessions_lost_pct,\
lost_failure,lost_deploy,latency_p50_ms,latency_p95_ms,latency_p99_ms,latency_p999_ms,util_mean,util_max,\
imbalance_util_max_over_mean,max_backend_request_share\n\
rr,round_robin,1000,10,0,100,20,20.0000,5,15,10,20,30,40,0.5,0.55,1.1,0.52\n\
lc,least_conn,1000,90,0,100,4,4.0000,4,0,11,21,31,41,0.5,0.6,1.2,0.55\n";
    let json = r#"{"scenario":"syn","seed":1,"scenario_hash":"00","stickysim_version":"0","bucket_s":10.0,"workers":1,"strategies":[]}"#;
    let mut backends =
        String::from("strategy,backend,t_start_s,t_end_s,requests,utilisation,alive,lb_up\n");
    for (s, dead_reqs) in [("rr", 50), ("lc", 400)] {
        for (t, alive1, up1) in [(0, 1, 1), (10, 0, 1), (20, 0, 1), (30, 0, 0)] {
            let r1 = if alive1 == 0 && t > 0 && t < 30 {
                dead_reqs
            } else {
                50
            };
            backends.push_str(&format!("{s},b0,{t},{},50,0.5,1,1\n", t + 10));
            backends.push_str(&format!("{s},b1,{t},{},{r1},0.5,{alive1},{up1}\n", t + 10));
        }
    }
    RunData::from_files(&[
        ("summary.csv", summary.as_bytes()),
        ("summary.json", json.as_bytes()),
        ("backends.csv", backends.as_bytes()),
    ])
    .unwrap()
}

#[test]
fn findings_cover_every_loss_column_and_the_least_conn_black_hole() {
    let f = findings(&synthetic());
    let all = f.join("\n");
    assert!(
        all.contains("Lost to a deploy: `rr` lost 15.0% of sessions (15); `lc` lost none."),
        "{all}"
    );
    assert!(all.contains("Lost to a backend crash: `rr` lost 5.00% of sessions (5); `lc` lost 4.00% of sessions (4)."), "{all}");
    // lc failed 90 against rr's 10: 9×; in the buckets starting with b1
    // dead but up (20–40 s), lc sent 450 of 550 requests there.
    assert!(
        all.contains("`lc` sent 90 requests to a crashed backend, 9.0×"),
        "{all}"
    );
    assert!(all.contains("in the 20 s of time buckets"), "{all}");
    assert!(
        all.contains("`lc` sent 81.8% of its requests to it, against an even share of 50.0%"),
        "{all}"
    );
    // One replication: no better/worse claim from single samples.
    assert!(
        all.contains("differences in `sessions_lost_pct` between `lc` and the other strategies are single samples"),
        "{all}"
    );
    // No black-hole finding for round robin.
    assert!(!all.contains("`rr` sent 10 requests to a crashed"), "{all}");
    // Every finding has a number behind it.
    for line in &f {
        assert!(
            line.chars().any(|c| c.is_ascii_digit()),
            "no number in: {line}"
        );
    }
}

#[test]
fn the_report_renders_without_scenario_facts_or_charts() {
    let md = report_md(&synthetic(), &[]);
    assert!(md.contains("records no scenario facts"));
    assert!(!md.contains("## Charts"));
    // At a glance: the decision columns (one replication: no interval),
    // and the full table left to summary.csv.
    assert!(
        md.contains("| rr | 20.00 | 1.00 | 0.000 | 30.00 | 55.00 |"),
        "{md}"
    );
    assert!(md.contains("[`summary.csv`](summary.csv)"), "{md}");
    assert!(!md.contains("| rr | round_robin | 1000 |"), "{md}");
}

/// `ck` (cookie, local state) and `rr` (round robin, shared store) on
/// slots b0, b1 from the start; scale-out launches b2 (in service at
/// 50 s); b1 is scaled in (drain 200 s, stopped 260 s) and its slot
/// reused by a new instance (in service at 280 s). The store is down
/// 130–150 s: `rr`'s backends get 60 requests each in that bucket
/// instead of 100. No scenario facts: the early window is one bucket.
fn elastic() -> RunData {
    let summary = "strategy,kind,requests,failed,retried,rejected,sessions,sessions_lost,sessions_lost_pct,\
lost_rebalanced,losses_avoided,latency_mean_ms,state_latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,\
latency_p999_ms,util_mean,util_max,imbalance_util_max_over_mean,max_backend_request_share,placement\n\
ck,lb_cookie,3000,0,0,0,100,10,10.0000,10,0,50,0.000,40,100,200,300,0.5,0.6,1.2,0.4,local\n\
rr,round_robin,3000,150,0,0,100,0,0.0000,0,400,52,2.000,41,101,210,310,0.5,0.5,1.0,0.34,shared\n";
    let json = r#"{"scenario":"el","seed":1,"scenario_hash":"00","stickysim_version":"0","bucket_s":60.0,"workers":1}"#;
    let mut events = String::from("strategy,time_s,event,backend\n");
    for s in ["ck", "rr"] {
        for (t, e, b) in [
            (30, "scale_out", "b2"),
            (30, "boot_start", "b2"),
            (50, "in_service", "b2"),
            (200, "scale_in", "b1"),
            (200, "drain_start", "b1"),
            (260, "stopped", "b1"),
            (270, "scale_out", "b1"),
            (270, "boot_start", "b1"),
            (280, "in_service", "b1"),
        ] {
            events.push_str(&format!("{s},{t}.000,{e},{b}\n"));
        }
    }
    events.push_str("rr,130.000,store_down,\nrr,150.000,store_up,\n");
    let mut backends =
        String::from("strategy,backend,t_start_s,t_end_s,requests,utilisation,alive,lb_up\n");
    // (strategy, old utilisation, b2's by bucket, b1's new instance)
    for (s, old, b2, b1_new) in [
        ("ck", 0.6, [0.1, 0.2, 0.5, 0.6, 0.6, 0.6], 0.3),
        ("rr", 0.5, [0.1, 0.4, 0.5, 0.5, 0.5, 0.5], 0.5),
    ] {
        for (i, u2) in b2.into_iter().enumerate() {
            let t = i * 60;
            let req = if s == "rr" && t == 120 { 60 } else { 100 };
            let b1 = if t >= 300 { b1_new } else { old };
            for (b, u) in [(0, old), (1, b1), (2, u2)] {
                backends.push_str(&format!("{s},b{b},{t},{},{req},{u},1,1\n", t + 60));
            }
        }
    }
    RunData::from_files(&[
        ("summary.csv", summary.as_bytes()),
        ("summary.json", json.as_bytes()),
        ("backends.csv", backends.as_bytes()),
        ("events.csv", events.as_bytes()),
    ])
    .unwrap()
}

#[test]
fn new_instances_are_told_apart_by_boot_start_and_compared_while_both_serve() {
    let d = elastic();
    let spans = d.service_spans(0);
    // b0 from the start; b1 from the start until its drain, then anew
    // from 280 s; b2 from 50 s.
    assert_eq!(spans.len(), 4, "{spans:?}");
    assert!(spans
        .iter()
        .any(|p| p.backend == 1 && !p.launched && p.to_s == 200.0));
    assert!(spans
        .iter()
        .any(|p| p.backend == 1 && p.launched && p.from_s == 280.0));
    let all = findings(&d).join("\n");
    // ck early (buckets at 60 s and 300 s): new 0.2 and 0.3 against old
    // 0.6 → 0.42×; whole (60–360 s): new 0.2, 0.5, 0.6, 0.6, 0.6, 0.3
    // = 0.467 against 0.6 → 0.78×. rr early: 0.4, 0.5 against 0.5 →
    // 0.90×; whole 2.9 / 6 / 0.5 → 0.97×.
    assert!(
        all.contains("in their first 60 s in service (at least one 60 s bucket; whole buckets in service only), ran at this fraction of the utilisation of the instances present from the start: 0.42× under `ck` (25.0% vs 60.0%), against 0.90× under `rr` (45.0% vs 50.0%) without affinity: under `ck` the new instances stayed colder"),
        "{all}"
    );
    assert!(
        all.contains("the ratio is 0.78× under `ck` (5 buckets), against 0.97× under `rr` (5 buckets) without affinity: the gap closes"),
        "{all}"
    );
}

#[test]
fn placement_finding_gives_losses_avoided_latency_cost_and_the_store_outage() {
    let all = findings(&elastic()).join("\n");
    assert!(
        all.contains("`rr` (shared store) lost no sessions: the store avoided 400 losses (requests that reached a backend without the session's state and found it there: 13.3% of its requests, 4.0 per session). The cost: 2 ms per request on average for the store round trip (mean latency 52 ms); p50 41 ms and p99 210 ms against 40 ms and 200 ms for `ck`, the local-state strategy that lost the fewest sessions (10.0%)."),
        "{all}"
    );
    assert!(
        all.contains("The shared store was down 20 s in all (1 outage, the first at 2 min 10 s): every `rr` request in that time failed without reaching a backend; its backends received 180 requests in the 1 time bucket overlapping it against 300 for the median local-state strategy, so about 120 of its 150 failed requests were the store's."),
        "{all}"
    );
    // No crash in events.csv: the failed requests left are drain stops,
    // and the store outage's are not counted again.
    assert!(
        all.contains("Requests that reached a backend that had stopped at the end of a drain (deploy or scale-in; in progress or queued when it stopped): `rr` 30 (1.00% of requests; not counting about 120 failed by the store outage); `ck` none."),
        "{all}"
    );
    assert!(!all.contains("crashed"), "{all}");
}

fn with_clients(mut d: RunData, kind: &str, users_per_ip: u32) -> RunData {
    let c = d.summary.header.iter().position(|h| h == "kind").unwrap();
    d.summary.rows[1][c] = kind.to_string();
    d.summary.kinds[1] = StrategyKind::from_name(kind).unwrap();
    d.summary.sticky[1] = d.summary.kinds[1].is_sticky();
    d.meta.scenario_facts = Some(ScenarioFacts {
        duration_s: 40.0,
        warmup_s: 0.0,
        session_rate: 1.0,
        rate_profile: false,
        requests_per_session_mean: 1.0,
        think_time_mean_s: 1.0,
        service_time_mean_s: 0.1,
        clients: vec![super::super::data::ClientFacts {
            name: "office".into(),
            share: 1.0,
            users: 100,
            network: "nat".into(),
            users_per_ip,
            ip_change_rate: 0.0,
            cookie_block: 0.0,
            returning: false,
        }],
        backends: 2,
        workers: 1,
        queue_limit: None,
        health_check_interval_s: 10.0,
        unhealthy_threshold: 2,
        healthy_threshold: 2,
        session_state: "local".into(),
        faults: vec![],
    });
    d
}

#[test]
fn the_source_address_explanation_needs_an_address_big_enough() {
    // `lc` takes 55% against an even 50%: 5 points above.
    // 10 users per address: 10 addresses of 10% each explain it.
    let all = findings(&with_clients(synthetic(), "source_ip_table", 10)).join("\n");
    assert!(
        all.contains("; source-address affinity keeps all of one address's sessions on one backend, and the largest address carries 10.0% of sessions"),
        "{all}"
    );
    assert!(!all.contains("hash"), "{all}");
    let all = findings(&with_clients(synthetic(), "source_ip", 10)).join("\n");
    assert!(all.contains("; a source-address hash sends"), "{all}");
    // 1 user per address: 1% each, under a quarter of 5 points.
    let all = findings(&with_clients(synthetic(), "source_ip", 1)).join("\n");
    assert!(
        all.contains("; the largest client address carries only 1.00% of sessions (office: 1 users behind each of 100 addresses), too little to explain the 5.00 points above an even share"),
        "{all}"
    );
    assert!(!all.contains("hash sends"), "{all}");
}

#[test]
fn number_formats() {
    assert_eq!(count(1234567.0), "1,234,567");
    assert_eq!(count(12.0), "12");
    assert_eq!(num(0.04 * 1000.0), "40");
    assert_eq!(num(2.5), "2.5");
    assert_eq!(duration(14400.0), "4 h");
    assert_eq!(duration(600.0), "10 min");
    assert_eq!(clock(12600.0), "3 h 30 min");
    assert_eq!(clock(130.0), "2 min 10 s");
    assert_eq!(clock(0.0), "0 s");
    assert_eq!(md_escape("a|b"), "a\\|b");
    assert_eq!(
        join_and(&["a".into(), "b".into(), "c".into()]),
        "a, b and c"
    );
}
