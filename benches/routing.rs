//! Routing decisions per strategy: 100 backends, a million distinct keys
//! (client addresses, tokens, session ids), each decision on the next key.
//! A counting allocator checks that a warm decision allocates nothing.
//!
//! `balance_per_decision`: the non-sticky balancers at 10 / 100 / 1,000 /
//! 10,000 backends, each decision followed by what the engine does around
//! it (the pick gains an outstanding request, the oldest of `2·N` in
//! flight completes), with equal weights and with weights 1–4.
//!
//! Run: `cargo bench --bench routing -- --warm-up-time 1 --measurement-time 3`;
//! figures are kept in `benches/README.md`.

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use stickysim::routing::*;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEYS: usize = 1 << 20;
const BACKENDS: usize = 100;

fn specs() -> Vec<(String, StrategySpec)> {
    let mut v = Vec::new();
    for hash in HashAlgo::ALL {
        v.push((
            format!("source_ip/{}", hash.name()),
            StrategySpec::SourceIp {
                hash,
                tuning: HashTuning::default(),
                on_unavailable: OnUnavailable::Redispatch,
                on_draining: OnDraining::Reroute,
            },
        ));
    }
    v.push((
        "header/envoy_ring".into(),
        StrategySpec::Header {
            name: "Authorization".into(),
            hash: HashAlgo::EnvoyRing,
            tuning: HashTuning::default(),
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        },
    ));
    v.push((
        "bounded_load/ketama".into(),
        StrategySpec::BoundedLoad {
            key: KeySource::SourceIp,
            hash: HashAlgo::Ketama,
            factor: 125,
            tuning: HashTuning::default(),
            balance: Balance::RoundRobin,
            on_draining: OnDraining::Reroute,
        },
    ));
    v.push((
        "source_ip_table".into(),
        StrategySpec::SourceIpTable {
            timeout_ns: u64::MAX / 4,
            size: 1 << 21,
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        },
    ));
    v.push((
        "session_id".into(),
        StrategySpec::Learn {
            learned: Learned::SessionId,
            name: "X-Session-Id".into(),
            timeout_ns: u64::MAX / 4,
            size: 1 << 21,
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        },
    ));
    v.push((
        "lb_cookie".into(),
        StrategySpec::LbCookie {
            ttl_ns: 86_400_000_000_000,
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        },
    ));
    v
}

fn key(i: usize) -> (IpAddr, u64) {
    let x = stickysim::routing::hash::mix64(i as u64);
    (IpAddr::V4(Ipv4Addr::from((x >> 32) as u32)), x)
}

fn bench(c: &mut Criterion) {
    let mut pool = Pool::with_default_addrs(BACKENDS, None);
    // Some load, so least-loaded and bounded-load paths see differences.
    for b in 0..BACKENDS as u32 {
        for _ in 0..(b % 3) {
            pool.add_outstanding(BackendId(b));
        }
    }
    let reqs: Vec<RouteRequest> = (0..KEYS)
        .map(|i| {
            let (src, x) = key(i);
            RouteRequest {
                now_ns: 1,
                src,
                cookie: None,
                header: Some(x),
                app_id: Some(x),
                exclude: None,
            }
        })
        .collect();
    let mut g = c.benchmark_group("route_100_backends_1m_keys");
    g.throughput(Throughput::Elements(1));
    for (name, spec) in specs() {
        let mut r = Router::new(&spec, 42);
        let mut rng = RouteRng::new(7);
        // Warm: build tables, learn every key once and hand out cookies,
        // then route the first thousand again carrying them.
        let mut reqs = reqs.clone();
        for q in reqs.iter_mut() {
            if let Decision::Forward {
                backend,
                set_cookie,
            } = r.route(q, &pool, &mut rng)
            {
                r.on_response(1, backend, q.app_id.unwrap());
                q.cookie = set_cookie.map(|c| c.value);
            }
        }
        for q in reqs.iter().take(1000) {
            black_box(r.route(q, &pool, &mut rng));
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        for q in reqs.iter().take(200_000) {
            black_box(r.route(q, &pool, &mut rng));
        }
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        eprintln!("{name}: {allocs} allocations in 200000 warm decisions");
        assert_eq!(allocs, 0, "{name} allocates per decision");
        let mut i = 0usize;
        g.bench_function(&name, |b| {
            b.iter(|| {
                i = (i + 1) & (KEYS - 1);
                black_box(r.route(&reqs[i], &pool, &mut rng))
            })
        });
    }
    g.finish();
}

fn balance(c: &mut Criterion) {
    let mut g = c.benchmark_group("balance_per_decision");
    g.throughput(Throughput::Elements(1));
    let kinds = [
        ("round_robin", Balance::RoundRobin, false),
        ("round_robin_w1-4", Balance::RoundRobin, true),
        ("least_conn", Balance::LeastConn, false),
        ("least_conn_w1-4", Balance::LeastConn, true),
        ("random", Balance::Random, false),
        ("p2c", Balance::P2c, false),
    ];
    for n in [10usize, 100, 1_000, 10_000] {
        for (name, kind, weighted) in kinds {
            let mut pool = Pool::with_default_addrs(n, None);
            if weighted {
                for i in 0..n {
                    pool.set_weight(BackendId::from_index(i), 1 + (i % 4) as u32);
                }
            }
            let mut b = Balancer::new(kind);
            let mut rng = RouteRng::new(7);
            let mut in_flight = std::collections::VecDeque::with_capacity(2 * n + 1);
            // Warm up to 2·N in flight.
            for _ in 0..2 * n {
                let id = b.pick(&pool, &mut rng, None).expect("a backend");
                pool.add_outstanding(id);
                in_flight.push_back(id);
            }
            let before = ALLOCS.load(Ordering::Relaxed);
            let mut step = |pool: &mut Pool| {
                let id = b.pick(pool, &mut rng, None).expect("a backend");
                pool.add_outstanding(id);
                in_flight.push_back(id);
                let done = in_flight.pop_front().expect("in flight");
                pool.remove_outstanding(done);
                id
            };
            for _ in 0..10_000 {
                black_box(step(&mut pool));
            }
            let allocs = ALLOCS.load(Ordering::Relaxed) - before;
            assert_eq!(allocs, 0, "{name} at {n} allocates per decision");
            g.bench_function(format!("{name}/{n}"), |bch| {
                bch.iter(|| black_box(step(&mut pool)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench, balance);
criterion_main!(benches);
