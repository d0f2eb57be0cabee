//! Cross-strategy properties and golden product vectors.

use super::hashed::HashKey;
use super::jump::jump;
use super::nginx::ip_hash_step;
use super::*;
use std::net::Ipv4Addr;

fn req(ip: [u8; 4], cookie: Option<u64>, now_ns: u64) -> RouteRequest {
    RouteRequest {
        now_ns,
        src: IpAddr::V4(Ipv4Addr::from(ip)),
        cookie,
        header: None,
        app_id: None,
        exclude: None,
    }
}

fn all_specs() -> Vec<StrategySpec> {
    let mut v: Vec<StrategySpec> = [
        Balance::RoundRobin,
        Balance::Random,
        Balance::LeastConn,
        Balance::P2c,
    ]
    .into_iter()
    .map(StrategySpec::Balance)
    .collect();
    for on_unavailable in [OnUnavailable::Redispatch, OnUnavailable::Reject] {
        v.push(StrategySpec::LbCookie {
            ttl_ns: 60_000_000_000,
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::RoundRobin,
            on_unavailable,
            on_draining: OnDraining::Reroute,
        });
        for hash in HashAlgo::ALL {
            v.push(StrategySpec::SourceIp {
                hash,
                tuning: HashTuning::default(),
                on_unavailable,
                on_draining: OnDraining::Reroute,
            });
            v.push(StrategySpec::Header {
                name: "Authorization".into(),
                hash,
                tuning: HashTuning::default(),
                balance: Balance::RoundRobin,
                on_unavailable,
                on_draining: OnDraining::Reroute,
            });
        }
        v.push(StrategySpec::SourceIpTable {
            timeout_ns: 1_000_000_000,
            size: 100,
            balance: Balance::RoundRobin,
            on_unavailable,
            on_draining: OnDraining::Reroute,
        });
        for learned in [Learned::AppCookie, Learned::SessionId] {
            v.push(StrategySpec::Learn {
                learned,
                name: "SID".into(),
                timeout_ns: 1_000_000_000,
                size: 100,
                balance: Balance::RoundRobin,
                on_unavailable,
                on_draining: OnDraining::Reroute,
            });
        }
    }
    v
}

#[test]
fn no_strategy_ever_returns_a_down_backend() {
    let mut pool = Pool::with_default_addrs(5, None);
    pool.set_health(BackendId(1), Health::Down);
    pool.set_health(BackendId(3), Health::Down);
    for spec in all_specs() {
        let mut r = Router::new(&spec, 9);
        let mut rng = RouteRng::new(2);
        let mut cookie = None;
        for i in 0..2000u32 {
            let d = r.route(&req(i.to_be_bytes(), cookie, 0), &pool, &mut rng);
            if let Decision::Forward {
                backend,
                set_cookie,
            } = d
            {
                assert_eq!(
                    pool.get(backend).health,
                    Health::Up,
                    "{spec:?} chose {backend:?}"
                );
                if let Some(c) = set_cookie {
                    cookie = Some(c.value);
                }
            }
        }
    }
}

#[test]
fn everything_down_is_refused() {
    let mut pool = Pool::with_default_addrs(2, None);
    pool.set_health(BackendId(0), Health::Down);
    pool.set_health(BackendId(1), Health::Down);
    for spec in all_specs() {
        let mut r = Router::new(&spec, 9);
        let d = r.route(&req([1, 2, 3, 4], None, 0), &pool, &mut RouteRng::new(1));
        assert_eq!(d, Decision::Refuse(Refusal::NoBackend), "{spec:?}");
    }
}

/// A pool of `127.0.0.1:<port>` backends, as the products' tests use.
fn local_pool(ports: &[u16]) -> Pool {
    pool_of(ports.iter().map(|p| format!("127.0.0.1:{p}")), 1)
}

fn pool_of(addrs: impl IntoIterator<Item = impl AsRef<str>>, weight: u32) -> Pool {
    Pool::new(
        addrs
            .into_iter()
            .map(|a| BackendView {
                addr: a.as_ref().parse().unwrap(),
                weight,
                health: Health::Up,
                outstanding: 0,
                capacity: None,
            })
            .collect(),
    )
}

fn table(pool: &Pool, hash: HashAlgo, tuning: HashTuning) -> HashTable {
    let mut t = HashTable::new(hash, tuning);
    t.build(pool, OnDraining::Reroute, hash.skips_unusable());
    t
}

fn first(t: &HashTable, pool: &Pool, key: HashKey) -> u32 {
    t.lookup(key, pool, OnDraining::Reroute).unwrap().0
}

/// Envoy `test/extensions/load_balancing_policies/maglev/maglev_lb_test.cc`,
/// `MaglevLoadBalancerTest.Basic`: hosts 127.0.0.1:90..95, table size 7,
/// hash keys 0..20 map to hosts {2, 4, 0, 1, 5, 0, 3} repeating.
#[test]
fn golden_envoy_maglev_basic() {
    let pool = local_pool(&[90, 91, 92, 93, 94, 95]);
    let t = table(
        &pool,
        HashAlgo::Maglev,
        HashTuning {
            table_size: 7,
            ..HashTuning::default()
        },
    );
    let expected = [2, 4, 0, 1, 5, 0, 3];
    for i in 0..21u64 {
        assert_eq!(
            first(&t, &pool, HashKey::Raw(i)),
            expected[i as usize % 7],
            "key {i}"
        );
    }
}

/// Envoy `test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc`,
/// `RingHashLoadBalancerTest.Basic`: hosts 127.0.0.1:90..95, minimum ring
/// size 12 (two points each), the ring's point values as listed there.
#[test]
fn golden_envoy_ring_basic() {
    let pool = local_pool(&[90, 91, 92, 93, 94, 95]);
    let addrs: Vec<_> = pool.backends().iter().map(|b| (b.addr, 1)).collect();
    let ring = super::ring::Ring::envoy(&addrs, 12, MAX_RING_SIZE);
    let expected: [(u64, u32); 12] = [
        (833437586790550860, 4),
        (928266305478181108, 2),
        (1033482794131418490, 0),
        (3551244743356806947, 5),
        (3851675632748031481, 3),
        (5583722120771150861, 1),
        (6311230543546372928, 1),
        (7700377290971790572, 3),
        (13144177310400110813, 5),
        (13444792449719432967, 2),
        (15516499411664133160, 4),
        (16117243373044804889, 0),
    ];
    assert_eq!(ring.points, expected);
    let t = table(
        &pool,
        HashAlgo::EnvoyRing,
        HashTuning {
            min_ring_size: 12,
            ..HashTuning::default()
        },
    );
    for (h, host) in [
        (0, 4),
        (u64::MAX, 4),
        (3551244743356806947, 5),
        (3551244743356806948, 3),
        (16117243373044804880, 0),
    ] {
        assert_eq!(first(&t, &pool, HashKey::Raw(h)), host, "hash {h}");
    }
}

/// A real nginx capture: `pingora-ketama/test-data/sample-nginx-upstream.csv`
/// (cloudflare/pingora), made with `test-data/nginx.conf`: `hash
/// $request_uri consistent;` over `10.0.0.1..9:443 weight=100`.
#[test]
fn golden_nginx_ketama_capture() {
    let pool = pool_of((1..=9).map(|i| format!("10.0.0.{i}:443")), 100);
    let t = table(&pool, HashAlgo::Ketama, HashTuning::default());
    let capture = [
        ("/81fa1d251d605775d647b5b55565e71526d4cef6", 7),
        ("/2fec328e6ccdda6a7edf329f9f780e546ea183b4", 5),
        ("/19fb835d90883a6263ec4279c6da184e3f1a79b2", 4),
        ("/da7a88e542f7aaddc074f988164b9df7e5f7fea6", 4),
        ("/8f87cfd8005306643b6528b3d4125cf005139a7e", 5),
        ("/26d2769eab098458bc3e4e641a4b7d8abffd0aea", 6),
        ("/aa5b5323980f2d3e21246212ebd820c3949c1e88", 7),
        ("/d9c4bc3cc4517c629e8f4c911c2fd8baf260ae65", 1),
        ("/28c1c069a2904bb3b3e0f9731b1ff8de9ab7a76d", 4),
        ("/fe5199bdfeee5cd431ae7e9f77f178164f9995a0", 9),
        ("/43992eee187920c5e8695332f71ca6e23ef6ac4b", 3),
        ("/38528aab753a6f32de86b5a7acdbb0c885137a81", 9),
        ("/12d4b9155ff599c0ac554226796b58a2278b450f", 7),
        ("/9c34c9a4f9009997dd29c6e6a627b0aca7beb6e5", 5),
        ("/eb5a2ab55796afd673874fd7560f1329be5540bd", 9),
        ("/ad7b5395766b77098c3f212043650a805b622ffe", 3),
        ("/c72fedf4177499635302849496898fe4f3409cc1", 9),
        ("/77766138aaf0c016bdd1f6b996177fc8ca1d2204", 8),
        ("/860c86b94e04f2648fb164c87fd6166707fd08ff", 6),
        ("/1b419454e4eb63ef915e8e06cc11110a3ccd607e", 7),
        ("/668fd6d99bfb50b85b0928a8915761be2ca19089", 2),
        ("/fefbfb22035c938b44d305dbb71b11d531257af8", 2),
    ];
    for (uri, host) in capture {
        // Backend i is 10.0.0.(i+1).
        assert_eq!(
            first(&t, &pool, HashKey::Bytes(uri.as_bytes())) + 1,
            host,
            "{uri}"
        );
    }
}

/// Jump: the reference C++ outputs quoted in dgryski/go-jump `jump_test.go`
/// (Lamping & Veach, arXiv:1406.2294).
#[test]
fn golden_jump_reference() {
    let cases: [(u64, &[u32]); 3] = [
        (
            1,
            &[0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17],
        ),
        (
            0xdeadbeef,
            &[0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16],
        ),
        (
            0x0ddc0ffeebadf00d,
            &[0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15],
        ),
    ];
    for (key, buckets) in cases {
        for (i, &b) in buckets.iter().enumerate() {
            assert_eq!(
                jump(key, i as u32 + 1),
                b,
                "key {key:#x}, {} buckets",
                i + 1
            );
        }
    }
    for n in 1..20 {
        assert_eq!(jump(0, n), 0);
    }
}

/// nginx `ip_hash`, derived by hand from
/// `src/http/modules/ngx_http_upstream_ip_hash_module.c` (hash = 89; per
/// octet `hash = (hash * 113 + octet) % 6271`; peer = walk of `hash % total_weight`):
/// for 192.168.1.x: 89 → (89·113+192)%6271 = 3978 → (3978·113+168)%6271 = 4441
/// → (4441·113+1)%6271 = 154. Three equal peers: 154 % 3 = 1. The last
/// octet never matters: the whole /24 lands together.
#[test]
fn golden_nginx_ip_hash_by_hand() {
    assert_eq!(ip_hash_step(89, &[192, 168, 1]), 154);
    let pool = pool_of(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], 1);
    let t = table(&pool, HashAlgo::NginxIpHash, HashTuning::default());
    for last in [0u8, 7, 255] {
        let ip = IpAddr::V4(Ipv4Addr::new(192, 168, 1, last));
        assert_eq!(first(&t, &pool, HashKey::Ip(ip)), 1);
    }
    // Peer 1 down: nginx folds the octets in again from 154:
    // (154·113+192)%6271 = 5052, (5052·113+168)%6271 = 383, (383·113+1)%6271 = 5654; 5654 % 3 = 2.
    assert_eq!(ip_hash_step(154, &[192, 168, 1]), 5654);
    let mut pool = pool;
    pool.set_health(BackendId(1), Health::Down);
    let ip = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 9));
    assert_eq!(first(&t, &pool, HashKey::Ip(ip)), 2);
}

/// HAProxy `balance source` map-based, derived from `src/backend.c`
/// (`get_server_sh`: the IPv4 address as an integer) and `src/lb_map.c`
/// (`map_get_server_hash`: `map[h % tot_weight]`; `recalc_server_map`
/// lists equal-weight servers in declaration order).
#[test]
fn golden_haproxy_source_map() {
    assert_eq!(super::haproxy::server_map(&[1, 1, 1]), [0, 1, 2]);
    // Weights 3:1 as HAProxy's wscore loop orders them (by hand: the
    // light server's score reaches (4+4)/4 = 2 only at the fourth slot).
    assert_eq!(super::haproxy::server_map(&[3, 1]), [0, 0, 0, 1]);
    let pool = pool_of(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], 1);
    let t = table(&pool, HashAlgo::HaproxySource, HashTuning::default());
    // 192.0.2.10 = 0xC000020A = 3221225994; 3221225994 % 3 = 0.
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    assert_eq!(first(&t, &pool, HashKey::Ip(ip)), 0);
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
    assert_eq!(first(&t, &pool, HashKey::Ip(ip)), 1);
}

/// Share of `keys` whose first choice differs between two tables, counting
/// only keys whose old backend is still in `survivors`.
fn moved_between_survivors(
    a: &HashTable,
    pa: &Pool,
    b: &HashTable,
    pb: &Pool,
    keys: u64,
    survivors: &[u32],
) -> (f64, f64) {
    let (mut moved_surv, mut moved_all) = (0u64, 0u64);
    for k in 0..keys {
        let key = HashKey::Raw(mix_key(k));
        let (x, y) = (first(a, pa, key), first(b, pb, key));
        if x != y {
            moved_all += 1;
            if survivors.contains(&x) && survivors.contains(&y) {
                moved_surv += 1;
            }
        }
    }
    (
        moved_surv as f64 / keys as f64,
        moved_all as f64 / keys as f64,
    )
}

fn mix_key(k: u64) -> u64 {
    super::hash::mix64(k ^ 0x51ed)
}

/// The comparison: 5 → 6 backends. Ketama moves no key between the
/// five that stayed; Envoy's ring (1024 points shared out) does. Prints both.
#[test]
fn ketama_vs_envoy_ring_five_to_six() {
    let five: Vec<String> = (1..=5).map(|i| format!("10.0.0.{i}:8080")).collect();
    let six: Vec<String> = (1..=6).map(|i| format!("10.0.0.{i}:8080")).collect();
    let p5 = pool_of(&five, 1);
    let p6 = pool_of(&six, 1);
    let mut shares = Vec::new();
    for hash in [HashAlgo::Ketama, HashAlgo::EnvoyRing] {
        let (a, b) = (
            table(&p5, hash, HashTuning::default()),
            table(&p6, hash, HashTuning::default()),
        );
        // Ketama keys are 32-bit CRCs: feed it 32-bit values.
        let (surv, all) = moved_between_survivors(&a, &p5, &b, &p6, 200_000, &[0, 1, 2, 3, 4]);
        println!(
            "{}: 5->6 moved between survivors {:.2}%, moved in all {:.2}%",
            hash.name(),
            surv * 100.0,
            all * 100.0
        );
        shares.push((surv, all));
    }
    assert_eq!(
        shares[0].0, 0.0,
        "ketama never moves keys between survivors"
    );
    assert!(
        shares[1].0 > 0.01,
        "envoy ring moves keys between survivors: {:?}",
        shares[1]
    );
}

/// Maglev: removing one of N backends moves few keys whose backend survived,
/// and every backend's share of the table is near equal.
#[test]
fn maglev_survivor_movement_and_shares() {
    let addrs: Vec<String> = (0..100)
        .map(|i| format!("10.0.{}.{}:8080", i / 250, i % 250 + 1))
        .collect();
    let mut pool = pool_of(&addrs, 1);
    let before = table(&pool, HashAlgo::Maglev, HashTuning::default());
    let m = before.maglev_table().len();
    let mut counts = vec![0u32; 100];
    for &e in before.maglev_table() {
        counts[e as usize] += 1;
    }
    let (min, max) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
    let mean = m as f64 / 100.0;
    println!(
        "maglev M=65537 N=100: min/mean {:.4}, max/mean {:.4}",
        min as f64 / mean,
        max as f64 / mean
    );
    assert!(
        max as f64 / mean < 1.01 && min as f64 / mean > 0.99,
        "{min}..{max}"
    );
    pool.set_health(BackendId(37), Health::Down);
    let after = table(&pool, HashAlgo::Maglev, HashTuning::default());
    // Compare slot owners by backend id.
    let owner = |t: &HashTable, i: usize| t.members()[t.maglev_table()[i] as usize].0;
    let moved = (0..m)
        .filter(|&i| owner(&before, i) != 37 && owner(&before, i) != owner(&after, i))
        .count();
    let share = moved as f64 / m as f64;
    println!(
        "maglev remove 1 of 100: survivor slots moved {:.3}%",
        share * 100.0
    );
    assert!(share < 0.02, "{share}");
    assert!(moved > 0, "Maglev is not perfectly stable");
}

fn hash_moves(hash: HashAlgo, n: usize, remove: u32) -> (f64, f64) {
    let addrs: Vec<String> = (0..n).map(|i| format!("10.1.0.{}:80", i + 1)).collect();
    let mut pool = pool_of(&addrs, 1);
    let before = table(&pool, hash, HashTuning::default());
    pool.set_health(BackendId(remove), Health::Down);
    let after = table(&pool, hash, HashTuning::default());
    let survivors: Vec<u32> = (0..n as u32).filter(|&i| i != remove).collect();
    moved_between_survivors(
        &before,
        &pool_of(&addrs, 1),
        &after,
        &pool,
        50_000,
        &survivors,
    )
}

#[test]
fn jump_and_rendezvous_move_only_the_removed_backends_keys() {
    // Jump supports removing only the last bucket; rendezvous any.
    let (surv, all) = hash_moves(HashAlgo::Jump, 10, 9);
    assert_eq!(surv, 0.0);
    assert!((0.08..0.12).contains(&all), "{all}");
    let (surv, all) = hash_moves(HashAlgo::Rendezvous, 10, 4);
    assert_eq!(surv, 0.0);
    assert!((0.08..0.12).contains(&all), "{all}");
    // Adding an 11th backend moves about 1/11 of keys, all to it.
    for hash in [HashAlgo::Jump, HashAlgo::Rendezvous] {
        let (surv, all) = hash_moves(hash, 11, 10);
        assert_eq!(surv, 0.0, "{hash:?}");
        assert!((0.07..0.11).contains(&all), "{hash:?} {all}");
    }
}

#[test]
fn bounded_load_never_exceeds_its_slot_bound() {
    let n = 8u32;
    let mut pool = Pool::with_default_addrs(n as usize, None);
    for hash in [HashAlgo::Ketama, HashAlgo::EnvoyRing] {
        for factor in [101u32, 125, 150, 200] {
            let mut r = BoundedLoad::new(
                KeySource::SourceIp,
                hash,
                factor,
                HashTuning::default(),
                Balance::RoundRobin,
                OnDraining::Reroute,
            );
            let mut rng = RouteRng::new(3);
            let mut live: Vec<BackendId> = Vec::new();
            for i in 0..20_000u32 {
                // A few hot addresses make plain consistent hashing overload.
                let ip = if i % 3 == 0 { 7 } else { i % 50 };
                let d = r.route(&req(ip.to_be_bytes(), None, 0), &pool, &mut rng);
                let b = d.backend().unwrap();
                pool.add_outstanding(b);
                live.push(b);
                let total: u64 = pool.backends().iter().map(|v| v.outstanding as u64).sum();
                let bound = (total * factor as u64).div_ceil(100).div_ceil(n as u64);
                assert!(
                    pool.get(b).outstanding as u64 <= bound,
                    "{hash:?} factor {factor}: backend {} at {} > bound {bound} (total {total})",
                    b.0,
                    pool.get(b).outstanding
                );
                // Completions, pseudo-randomly.
                if live.len() > 40 {
                    let j = (super::hash::mix64(i as u64) % live.len() as u64) as usize;
                    let gone = live.swap_remove(j);
                    pool.remove_outstanding(gone);
                }
            }
            for b in live.drain(..) {
                pool.remove_outstanding(b);
            }
        }
    }
}

#[test]
fn reject_refuses_rather_than_moving_a_pinned_request() {
    for spec in all_specs() {
        let mut pool = Pool::with_default_addrs(4, Some(1));
        let on_unavailable = match &spec {
            StrategySpec::LbCookie { on_unavailable, .. }
            | StrategySpec::SourceIp { on_unavailable, .. }
            | StrategySpec::Header { on_unavailable, .. }
            | StrategySpec::SourceIpTable { on_unavailable, .. }
            | StrategySpec::Learn { on_unavailable, .. } => *on_unavailable,
            _ => continue,
        };
        if on_unavailable != OnUnavailable::Reject {
            continue;
        }
        let mut r = Router::new(&spec, 5);
        let mut rng = RouteRng::new(1);
        let mut q = req([198, 51, 100, 4], None, 0);
        q.header = Some(42);
        q.app_id = Some(43);
        let d = r.route(&q, &pool, &mut rng);
        let b = d.backend().unwrap();
        r.on_response(0, b, 43);
        if let Decision::Forward {
            set_cookie: Some(c),
            ..
        } = d
        {
            q.cookie = Some(c.value);
        }
        // Pinned there: fill it, then take it down.
        pool.add_outstanding(b);
        q.now_ns = 1;
        assert_eq!(
            r.route(&q, &pool, &mut rng),
            Decision::Refuse(Refusal::PinnedUnavailable),
            "{spec:?} full pin"
        );
        if matches!(
            spec,
            StrategySpec::SourceIp { .. } | StrategySpec::Header { .. }
        ) {
            continue; // stateless hashes rebuild without a down backend
        }
        pool.set_health(b, Health::Down);
        assert_eq!(
            r.route(&q, &pool, &mut rng),
            Decision::Refuse(Refusal::PinnedUnavailable),
            "{spec:?} down pin"
        );
    }
}

#[test]
fn app_cookie_stays_on_the_new_backend_after_failover() {
    let mut pool = Pool::with_default_addrs(3, None);
    let spec = StrategySpec::Learn {
        learned: Learned::AppCookie,
        name: "JSESSIONID".into(),
        timeout_ns: 600_000_000_000,
        size: 1000,
        balance: Balance::RoundRobin,
        on_unavailable: OnUnavailable::Redispatch,
        on_draining: OnDraining::Reroute,
    };
    let mut r = Router::new(&spec, 1);
    let mut rng = RouteRng::new(1);
    let mut q = req([1, 2, 3, 4], None, 0);
    let b0 = r.route(&q, &pool, &mut rng).backend().unwrap();
    r.on_response(0, b0, 77);
    q.app_id = Some(77);
    assert_eq!(r.route(&q, &pool, &mut rng).backend(), Some(b0));
    pool.set_health(b0, Health::Down);
    let b1 = r.route(&q, &pool, &mut rng).backend().unwrap();
    assert_ne!(b1, b0);
    pool.set_health(b0, Health::Up);
    for _ in 0..5 {
        assert_eq!(r.route(&q, &pool, &mut rng).backend(), Some(b1));
    }
    // Idle past the timeout: the entry is gone and the request is balanced.
    q.now_ns = 601_000_000_000;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        seen.insert(r.route(&q, &pool, &mut rng).backend().unwrap());
    }
    assert!(seen.len() > 1, "no longer pinned: {seen:?}");
}

#[test]
fn draining_pins_reroute_or_are_honored() {
    for (on_draining, stays) in [(OnDraining::Reroute, false), (OnDraining::Honor, true)] {
        let mut pool = Pool::with_default_addrs(3, None);
        let spec = StrategySpec::SourceIpTable {
            timeout_ns: 10_800_000_000_000,
            size: 100,
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining,
        };
        let mut r = Router::new(&spec, 1);
        let mut rng = RouteRng::new(1);
        let q = req([9, 9, 9, 9], None, 0);
        let b = r.route(&q, &pool, &mut rng).backend().unwrap();
        pool.set_health(b, Health::Draining);
        assert_eq!(r.route(&q, &pool, &mut rng).backend() == Some(b), stays);
        // New clients never land on a draining backend.
        for i in 0..50u8 {
            let d = r.route(&req([10, 0, 0, i], None, 0), &pool, &mut rng);
            assert_ne!(d.backend(), Some(b));
        }
    }
}

#[test]
fn health_flap_moves_envoy_keys_but_not_nginx_pins() {
    // Envoy-style tables are rebuilt over the healthy set: a flap of one
    // backend leaves other keys in place for ring/Maglev (mostly) and jump's
    // last bucket, while nginx ketama skips the down peer without rebuilding.
    let mut pool = Pool::with_default_addrs(5, None);
    let t0 = table(&pool, HashAlgo::Ketama, HashTuning::default());
    let keys: Vec<u64> = (0..5000).map(mix_key).collect();
    let before: Vec<u32> = keys
        .iter()
        .map(|&k| first(&t0, &pool, HashKey::Raw(k)))
        .collect();
    pool.set_health(BackendId(2), Health::Down);
    let after: Vec<u32> = keys
        .iter()
        .map(|&k| first(&t0, &pool, HashKey::Raw(k)))
        .collect();
    for (b, a) in before.iter().zip(&after) {
        if *b != 2 {
            assert_eq!(a, b);
        } else {
            assert_ne!(*a, 2);
        }
    }
}

proptest::proptest! {
    /// The indexed ring lookup agrees with a plain binary search over the points.
    #[test]
    fn ring_index_agrees_with_plain_search(h in proptest::num::u64::ANY, n in 1usize..20) {
        let addrs: Vec<_> = (0..n)
            .map(|i| (format!("10.0.0.{}:80", i + 1).parse().unwrap(), 1 + (i % 3) as u32))
            .collect();
        for (ring, h) in [
            (super::ring::Ring::ketama(&addrs), h & 0xffff_ffff),
            (super::ring::Ring::envoy(&addrs, 1024, MAX_RING_SIZE), h),
        ] {
            let plain = ring.points.partition_point(|&(p, _)| p < h);
            let plain = if plain == ring.points.len() { 0 } else { plain };
            proptest::prop_assert_eq!(ring.first_at(h), plain);
        }
    }

    /// Jump and rendezvous: removing one backend moves only its own keys.
    #[test]
    fn rendezvous_moves_only_the_removed_backends_keys(remove in 0u32..7, seed in 0u64..1000) {
        let mut pool = Pool::with_default_addrs(7, None);
        let before = table(&pool, HashAlgo::Rendezvous, HashTuning::default());
        let old = pool.clone();
        pool.set_health(BackendId(remove), Health::Down);
        let after = table(&pool, HashAlgo::Rendezvous, HashTuning::default());
        for k in 0..200u64 {
            let key = HashKey::Raw(mix_key(k ^ (seed << 20)));
            let (x, y) = (first(&before, &old, key), first(&after, &pool, key));
            proptest::prop_assert!(x == remove || x == y);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever the health pattern, no strategy forwards to a down backend,
    /// nor sends a new client to a draining one under `reroute`.
    #[test]
    fn never_a_down_backend_for_any_health_pattern(
        health in proptest::collection::vec(0u8..4, 6),
        seed in 0u64..1000,
    ) {
        let mut pool = Pool::with_default_addrs(6, None);
        for (i, h) in health.iter().enumerate() {
            let h = match h {
                0 => Health::Down,
                1 => Health::Draining,
                _ => Health::Up,
            };
            pool.set_health(BackendId(i as u32), h);
        }
        for spec in all_specs() {
            let mut r = Router::new(&spec, seed);
            let mut rng = RouteRng::new(seed);
            for i in 0..200u32 {
                let x = super::hash::mix64(i as u64 ^ (seed << 32));
                let mut q = req((x as u32).to_be_bytes(), None, i as u64);
                q.header = Some(x % 50);
                q.app_id = Some(x % 40);
                if let Some(b) = r.route(&q, &pool, &mut rng).backend() {
                    proptest::prop_assert_eq!(pool.get(b).health, Health::Up, "{:?}", spec);
                }
            }
        }
    }
}

/// Envoy `maglev_lb_test.cc`, `MaglevLoadBalancerTest.Weighted`
/// (127.0.0.1:90 weight 1, :91 weight 2, table 17) and
/// `BasicWithRetryHostPredicate` (key 10: first choice :91, attempt 1 → :90,
/// attempt 2 → :95).
#[test]
fn golden_envoy_maglev_weighted_and_retries() {
    let mut pool = local_pool(&[90, 91]);
    let mut backends = pool.backends().to_vec();
    backends[1].weight = 2;
    pool = Pool::new(backends);
    let t = table(
        &pool,
        HashAlgo::Maglev,
        HashTuning {
            table_size: 17,
            ..HashTuning::default()
        },
    );
    let expected = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1];
    for i in 0..51u64 {
        assert_eq!(
            first(&t, &pool, HashKey::Raw(i)),
            expected[i as usize % 17],
            "key {i}"
        );
    }
    let pool = local_pool(&[90, 91, 92, 93, 94, 95]);
    let t = table(
        &pool,
        HashAlgo::Maglev,
        HashTuning {
            table_size: 7,
            ..HashTuning::default()
        },
    );
    let key = HashKey::Raw(10);
    let mut st = t.start(key);
    let picks: Vec<usize> = (0..3).map(|a| t.probe(key, a, &mut st)).collect();
    assert_eq!(picks, [1, 0, 5]);
}

/// A varied request: address, header and application id from `i`.
fn varied(i: u64, now_ns: u64) -> RouteRequest {
    let x = super::hash::mix64(i);
    let mut q = req((x as u32).to_be_bytes(), None, now_ns);
    q.header = Some(x % 50);
    q.app_id = Some(x % 40);
    q
}

/// Whether a pin that cannot be followed is refused.
fn rejects(spec: &StrategySpec) -> bool {
    matches!(
        spec,
        StrategySpec::LbCookie {
            on_unavailable: OnUnavailable::Reject,
            ..
        } | StrategySpec::SourceIp {
            on_unavailable: OnUnavailable::Reject,
            ..
        } | StrategySpec::Header {
            on_unavailable: OnUnavailable::Reject,
            ..
        } | StrategySpec::SourceIpTable {
            on_unavailable: OnUnavailable::Reject,
            ..
        } | StrategySpec::Learn {
            on_unavailable: OnUnavailable::Reject,
            ..
        }
    )
}

/// Bounded loads over both rings, for the properties every strategy has.
fn bounded_specs() -> Vec<StrategySpec> {
    [HashAlgo::Ketama, HashAlgo::EnvoyRing]
        .into_iter()
        .map(|hash| StrategySpec::BoundedLoad {
            key: KeySource::SourceIp,
            hash,
            factor: 125,
            tuning: HashTuning::default(),
            balance: Balance::RoundRobin,
            on_draining: OnDraining::Reroute,
        })
        .collect()
}

/// A retry names the backend the failed attempt went to: every strategy
/// picks another one (HAProxy's map-based hash excepted: it re-hashes to
/// the same server), and the pool — health, generation — is not touched.
#[test]
fn a_retry_never_chooses_the_excluded_backend_and_leaves_the_pool_alone() {
    let pool = Pool::with_default_addrs(5, None);
    let generation = pool.generation();
    for spec in all_specs().into_iter().chain(bounded_specs()) {
        let same_again = matches!(
            spec,
            StrategySpec::SourceIp {
                hash: HashAlgo::HaproxySource,
                ..
            } | StrategySpec::Header {
                hash: HashAlgo::HaproxySource,
                ..
            }
        );
        let mut r = Router::new(&spec, 7);
        let mut rng = RouteRng::new(3);
        let mut avoided = 0;
        for i in 0..300u64 {
            let q = varied(i, i);
            let Some(b) = r.route(&q, &pool, &mut rng).backend() else {
                panic!("{spec:?}: five backends are up");
            };
            r.on_response(i, b, q.app_id.unwrap());
            let retry = RouteRequest {
                exclude: Some(b),
                ..q
            };
            let again = r.route(&retry, &pool, &mut rng).backend();
            if same_again {
                assert_eq!(again, Some(b), "{spec:?}");
                continue;
            }
            assert_ne!(again, Some(b), "{spec:?}");
            // A pin under `reject` refuses rather than move (the engine
            // never retries those strategies); everything else moves.
            if again.is_some() {
                avoided += 1;
            } else {
                assert!(rejects(&spec), "{spec:?}");
            }
        }
        assert!(same_again || rejects(&spec) || avoided == 300, "{spec:?}");
    }
    assert_eq!(pool.generation(), generation);
    assert_eq!(pool.up().len(), 5);
}

/// Where the product skips the failed backend as it skips a down one —
/// every balancer (nginx's tried peers, HAProxy's `prev_srv`), the pins of
/// `lb_cookie` and the tables (redispatch re-balances), and nginx's hashes
/// (a tried peer is skipped and uses up a try) — a retry decides exactly as
/// the old health flip did: as if the backend were marked down, with the
/// router's state (round-robin weights, tables) moving in step.
#[test]
fn where_the_product_skips_the_backend_a_retry_is_its_down_choice() {
    let pool = Pool::with_default_addrs(5, None);
    let nginx = |h: &HashAlgo| h.skips_unusable();
    let specs: Vec<StrategySpec> = all_specs()
        .into_iter()
        .filter(|s| match s {
            StrategySpec::SourceIp { hash, .. } | StrategySpec::Header { hash, .. } => nginx(hash),
            _ => true,
        })
        .collect();
    assert!(specs.len() > 15);
    for spec in specs {
        // `r` retries with `exclude`; `twin` sees the backend marked down.
        let mut r = Router::new(&spec, 7);
        let mut twin = Router::new(&spec, 7);
        let (mut rng, mut twin_rng) = (RouteRng::new(3), RouteRng::new(3));
        for i in 0..300u64 {
            let mut q = varied(i % 60, i * 1_000);
            let first = r.route(&q, &pool, &mut rng);
            assert_eq!(first, twin.route(&q, &pool, &mut twin_rng), "{spec:?}");
            let Some(b) = first.backend() else { continue };
            r.on_response(q.now_ns, b, q.app_id.unwrap());
            twin.on_response(q.now_ns, b, q.app_id.unwrap());
            // The retry carries the cookie the first attempt would have set.
            if let Decision::Forward {
                set_cookie: Some(c),
                ..
            } = first
            {
                q.cookie = Some(c.value);
            }
            let mut down = pool.clone();
            down.set_health(b, Health::Down);
            let retry = RouteRequest {
                exclude: Some(b),
                ..q
            };
            let mine = r.route(&retry, &pool, &mut rng);
            let flip = twin.route(&q, &down, &mut twin_rng);
            assert_eq!(mine, flip, "{spec:?} request {i}");
        }
    }
}

/// Envoy's ring and Maglev re-select with the next attempt
/// (`chooseHost(hash, attempt)` under the `previous_hosts` retry
/// predicate), over the table as it is; jump and rendezvous re-hash with
/// the attempt; modulo takes the next slot; HAProxy's consistent tree walks
/// on to the next node (`chash_get_server_hash`'s `avoid` loop): the retry
/// lands on the first candidate of that sequence that is not the failed
/// backend. HAProxy's map-based hash lands on the same server again
/// (`get_server_sh` passes `avoid` only to the tree).
#[test]
fn a_retry_takes_the_hashs_next_candidate() {
    let pool = Pool::with_default_addrs(7, None);
    for hash in [
        HashAlgo::Modulo,
        HashAlgo::EnvoyRing,
        HashAlgo::Maglev,
        HashAlgo::Jump,
        HashAlgo::Rendezvous,
        HashAlgo::HaproxyConsistent,
        HashAlgo::HaproxySource,
    ] {
        let spec = StrategySpec::SourceIp {
            hash,
            tuning: HashTuning::default(),
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        };
        let t = table(&pool, hash, HashTuning::default());
        let mut r = Router::new(&spec, 7);
        let mut rng = RouteRng::new(3);
        let mut moved_past_first_choice = 0;
        for i in 0..500u64 {
            let q = varied(i, i);
            let key = HashKey::Ip(q.src);
            let mut st = t.start(key);
            let seq: Vec<BackendId> = (0..40)
                .map(|a| t.members()[t.probe(key, a, &mut st)])
                .collect();
            let b = r.route(&q, &pool, &mut rng).backend().unwrap();
            assert_eq!(b, seq[0], "{hash:?}: the first choice");
            let retry = RouteRequest {
                exclude: Some(b),
                ..q
            };
            let again = r.route(&retry, &pool, &mut rng).backend().unwrap();
            let want = if hash == HashAlgo::HaproxySource {
                b
            } else {
                *seq.iter().find(|&&x| x != b).unwrap()
            };
            assert_eq!(again, want, "{hash:?} key {i}");
            if hash == HashAlgo::Modulo {
                // The next slot of the table.
                let at = t.members().iter().position(|&x| x == b).unwrap();
                assert_eq!(again, t.members()[(at + 1) % 7]);
            }
            moved_past_first_choice += usize::from(seq[1] == b);
        }
        if hash == HashAlgo::HaproxyConsistent || hash == HashAlgo::EnvoyRing {
            // Neighbouring points of one server: the walk goes past them.
            assert!(moved_past_first_choice > 0, "{hash:?}");
        }
    }
}

/// Envoy `maglev_lb_test.cc` `BasicWithRetryHostPredicate`: hosts
/// 127.0.0.1:90..95, table size 7, key 10 probes hosts 1, 0, 5 on attempts
/// 0, 1, 2; with the predicate rejecting host 1 the retry goes to host 0.
#[test]
fn golden_envoy_maglev_retry_skips_the_previous_host() {
    let pool = local_pool(&[90, 91, 92, 93, 94, 95]);
    let tuning = HashTuning {
        table_size: 7,
        ..HashTuning::default()
    };
    let t = table(&pool, HashAlgo::Maglev, tuning);
    let key = HashKey::Raw(10);
    let mut st = t.start(key);
    let seq: Vec<BackendId> = (0..3)
        .map(|a| t.members()[t.probe(key, a, &mut st)])
        .collect();
    assert_eq!(seq, [BackendId(1), BackendId(0), BackendId(5)]);
}

/// Bounded loads walk the ring past the failed server (HAProxy's `avoid`
/// in `chash_get_server_hash`), so with ketama — whose points do not depend
/// on the other servers — the retry lands where a ring without the server
/// would send the key.
#[test]
fn bounded_load_retry_walks_past_the_failed_server() {
    let pool = Pool::with_default_addrs(6, None);
    let spec = &bounded_specs()[0];
    let mut r = Router::new(spec, 7);
    let mut rng = RouteRng::new(3);
    for i in 0..300u64 {
        let q = varied(i, i);
        let b = r.route(&q, &pool, &mut rng).backend().unwrap();
        let mut down = pool.clone();
        down.set_health(b, Health::Down);
        let without = table(&down, HashAlgo::Ketama, HashTuning::default());
        let want = first(&without, &down, HashKey::Ip(q.src));
        let retry = RouteRequest {
            exclude: Some(b),
            ..q
        };
        let again = r.route(&retry, &pool, &mut rng).backend().unwrap();
        assert_eq!(again.0, want, "key {i}");
    }
}
