//! Speed of the hot paths: the event queue, routing decisions, and the
//! bundled checkout scenario end to end (events per second on one core).
//!
//! Run: `cargo bench --bench engine`; figures are kept in `benches/README.md`.

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use stickysim::engine::run_strategy;
use stickysim::routing::*;
use stickysim::sim::EventQueue;

fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    for pending in [1_000u64, 10_000, 100_000, 1_000_000] {
        // The "hold" model: pop the earliest, schedule one a random time later.
        let mut q = EventQueue::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 1_000_000
        };
        for _ in 0..pending {
            q.schedule(next(), 0u32);
        }
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("pending_{pending}"), |b| {
            b.iter(|| {
                let (t, e) = q.pop().unwrap();
                q.schedule(t + 1 + next(), e);
            })
        });
    }
    g.finish();
}

fn routing(c: &mut Criterion) {
    let mut g = c.benchmark_group("route_100_backends");
    let pool = Pool::with_default_addrs(100, None);
    let specs = [
        ("round_robin", StrategySpec::Balance(Balance::RoundRobin)),
        ("least_conn", StrategySpec::Balance(Balance::LeastConn)),
        ("p2c", StrategySpec::Balance(Balance::P2c)),
        (
            "source_ip_modulo",
            StrategySpec::SourceIp {
                hash: HashAlgo::Modulo,
                tuning: HashTuning::default(),
                on_unavailable: OnUnavailable::Redispatch,
                on_draining: OnDraining::Reroute,
            },
        ),
        (
            "lb_cookie",
            StrategySpec::LbCookie {
                ttl_ns: 60_000_000_000,
                ttl_mode: TtlMode::Sliding,
                cookie: CookieAttrs::default(),
                balance: Balance::RoundRobin,
                on_unavailable: OnUnavailable::Redispatch,
                on_draining: OnDraining::Reroute,
            },
        ),
    ];
    for (name, spec) in specs {
        let mut r = Router::new(&spec, 1);
        let mut rng = RouteRng::new(1);
        // A million distinct keys, cookies for half of them.
        let cookies: Vec<Option<u64>> = (0..1024u32)
            .map(|i| {
                let req = RouteRequest {
                    now_ns: 0,
                    src: IpAddr::V4(Ipv4Addr::from(i)),
                    cookie: None,
                    header: None,
                    app_id: None,
                    exclude: None,
                };
                match r.route(&req, &pool, &mut rng) {
                    Decision::Forward {
                        set_cookie: Some(c),
                        ..
                    } if i % 2 == 0 => Some(c.value),
                    _ => None,
                }
            })
            .collect();
        let mut i = 0u32;
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % 1_000_000;
                let req = RouteRequest {
                    now_ns: 0,
                    src: IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761))),
                    cookie: cookies[(i % 1024) as usize],
                    header: None,
                    app_id: None,
                    exclude: None,
                };
                black_box(r.route(&req, &pool, &mut rng))
            })
        });
    }
    g.finish();
}

fn checkout(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
    // One simulated hour keeps an iteration around a second.
    let sc = stickysim::scenario::load(
        &path,
        &["simulation.duration=3600".into(), "faults.0.at=1800".into()],
    )
    .expect("checkout scenario loads");
    let mut g = c.benchmark_group("checkout_1h");
    g.sample_size(10);
    for (i, s) in sc.strategies.iter().enumerate() {
        let events = run_strategy(&sc, i).summary.events;
        g.throughput(Throughput::Elements(events));
        g.bench_function(format!("{} (events)", s.name), |b| {
            b.iter_batched(
                || (),
                |_| black_box(run_strategy(&sc, i)),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, event_queue, routing, checkout);
criterion_main!(benches);
