//! Placement: generated configurations and keys through real nginx and
//! HAProxy and through the routing core; every key must land on the same
//! server. A disagreement prints a reproducer: the configuration, the key
//! and both answers.

use crate::harness::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use stickysim::routing::haproxy_chash::HaproxyFn;
use stickysim::routing::*;

/// Keys per configuration.
const KEYS: usize = 2000;
/// Backend listeners (server `i` of every configuration is listener `i`).
const BACKENDS: usize = 8;
/// Client threads.
const THREADS: usize = 8;

/// The generator's seed (`STICKYSIM_REAL_SEED` overrides it to explore).
fn seed() -> u64 {
    std::env::var("STICKYSIM_REAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_240_601)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Product {
    Nginx,
    Haproxy,
}

/// What the configuration hashes.
#[derive(Debug, Clone, PartialEq)]
enum KeyKind {
    /// The client's source address.
    Ip,
    /// Header `X-Key`.
    Header,
    /// Cookie `sid`.
    Cookie,
    /// The request URI (HAProxy `balance uri`: the path before `?`).
    Uri,
    /// URL parameter `k` (HAProxy `balance url_param k`).
    UrlParam,
}

#[derive(Debug, Clone)]
struct Server {
    weight: u32,
    /// nginx `down`, HAProxy `disabled`.
    down: bool,
    /// HAProxy `backup`.
    backup: bool,
}

#[derive(Debug, Clone)]
struct Case {
    product: Product,
    name: String,
    key: KeyKind,
    algo: HashAlgo,
    tuning: HashTuning,
    /// The balancing lines of the section (`ip_hash;`, `balance source` …).
    directives: String,
    servers: Vec<Server>,
}

impl Case {
    /// The `upstream` block or `backend` section, with the real ports.
    fn section(&self, ports: &[u16]) -> String {
        let mut s = String::new();
        match self.product {
            Product::Nginx => {
                writeln!(s, "  upstream {} {{\n    {}", self.name, self.directives).unwrap();
                for (i, v) in self.servers.iter().enumerate() {
                    write!(s, "    server 127.0.0.1:{} weight={}", ports[i], v.weight).unwrap();
                    if v.down {
                        s.push_str(" down");
                    }
                    s.push_str(";\n");
                }
                s.push_str("  }\n");
            }
            Product::Haproxy => {
                writeln!(s, "backend {}\n  {}", self.name, self.directives).unwrap();
                for (i, v) in self.servers.iter().enumerate() {
                    write!(
                        s,
                        "  server s{i} 127.0.0.1:{} weight {}",
                        ports[i], v.weight
                    )
                    .unwrap();
                    if v.down {
                        s.push_str(" disabled");
                    }
                    if v.backup {
                        s.push_str(" backup");
                    }
                    s.push('\n');
                }
            }
        }
        s
    }

    /// The routing core's answer: the server's position, or `None`.
    fn model(&self, ports: &[u16], key: &Key) -> Option<usize> {
        let any_active = self.servers.iter().any(|s| !s.down && !s.backup);
        // HAProxy without a usable active server sends everything to the
        // first usable backup (no `option allbackups`).
        let first_backup = self.servers.iter().position(|s| s.backup && !s.down);
        let pool = Pool::new(
            self.servers
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let up = if s.backup {
                        !any_active && first_backup == Some(i)
                    } else {
                        !s.down
                    };
                    BackendView {
                        addr: SocketAddr::from(([127, 0, 0, 1], ports[i])),
                        weight: s.weight,
                        health: if up { Health::Up } else { Health::Down },
                        outstanding: 0,
                        capacity: None,
                    }
                })
                .collect(),
        );
        let mut t = HashTable::new(self.algo, self.tuning);
        t.build(&pool, OnDraining::Reroute, self.algo.skips_unusable());
        let hk = match (&self.key, key) {
            (KeyKind::Ip, Key::Ip(ip)) => HashKey::Ip(IpAddr::V4(*ip)),
            (KeyKind::Uri, Key::Text(u)) => HashKey::Bytes(u.split('?').next().unwrap().as_bytes()),
            (_, Key::Text(v)) => HashKey::Bytes(v.as_bytes()),
            _ => unreachable!(),
        };
        t.lookup(hk, &pool, OnDraining::Reroute).map(|b| b.index())
    }
}

#[derive(Debug, Clone)]
enum Key {
    Ip(Ipv4Addr),
    /// A header or cookie value, URL parameter value, or URI.
    Text(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Ip(ip) => write!(f, "source address {ip}"),
            Key::Text(t) => write!(f, "{t:?}"),
        }
    }
}

fn servers(rng: &mut Pcg64, product: Product, backup_only: bool) -> Vec<Server> {
    let n = rng.gen_range(2..=BACKENDS);
    let equal = rng.gen_bool(0.3);
    let mut v: Vec<Server> = (0..n)
        .map(|_| Server {
            weight: if equal { 1 } else { rng.gen_range(1..=6) },
            down: false,
            backup: false,
        })
        .collect();
    // One server down or disabled in most configurations.
    if rng.gen_bool(0.7) {
        let i = rng.gen_range(0..n);
        v[i].down = true;
    }
    if product == Product::Haproxy && rng.gen_bool(0.5) {
        let i = rng.gen_range(0..n);
        v[i].backup = true;
        v[i].down = false;
    }
    if backup_only {
        // Every active server disabled: the first usable backup takes all.
        for s in v.iter_mut() {
            s.down = true;
        }
        let b = rng.gen_range(0..n - 1);
        v[b].backup = true;
        v[b].down = false;
        v[b + 1].backup = true;
        v[b + 1].down = false;
    }
    if v.iter().all(|s| s.down || s.backup) && !backup_only {
        v[0].down = false;
        v[0].backup = false;
    }
    v
}

fn cases(rng: &mut Pcg64) -> Vec<Case> {
    let mut out = Vec::new();
    let tuning = HashTuning::default();
    let nginx: [(&str, HashAlgo, KeyKind); 7] = [
        ("ip_hash;", HashAlgo::NginxIpHash, KeyKind::Ip),
        ("hash $remote_addr;", HashAlgo::NginxHash, KeyKind::Ip),
        (
            "hash $remote_addr consistent;",
            HashAlgo::Ketama,
            KeyKind::Ip,
        ),
        ("hash $http_x_key;", HashAlgo::NginxHash, KeyKind::Header),
        (
            "hash $http_x_key consistent;",
            HashAlgo::Ketama,
            KeyKind::Header,
        ),
        ("hash $cookie_sid;", HashAlgo::NginxHash, KeyKind::Cookie),
        (
            "hash $cookie_sid consistent;",
            HashAlgo::Ketama,
            KeyKind::Cookie,
        ),
    ];
    for (d, algo, key) in nginx {
        for _ in 0..2 {
            out.push(Case {
                product: Product::Nginx,
                name: format!("c{}", out.len()),
                key: key.clone(),
                algo,
                tuning,
                directives: d.to_string(),
                servers: servers(rng, Product::Nginx, false),
            });
        }
    }
    let haproxy: [(&str, KeyKind); 4] = [
        ("balance source", KeyKind::Ip),
        ("balance hdr(X-Key)", KeyKind::Header),
        ("balance url_param k", KeyKind::UrlParam),
        ("balance uri", KeyKind::Uri),
    ];
    for (d, key) in haproxy {
        for consistent in [false, true] {
            for v in 0..2 {
                let f = HaproxyFn::ALL[rng.gen_range(0..4)];
                let avalanche = rng.gen_bool(0.5);
                let mut t = tuning;
                t.haproxy_fn = f;
                t.avalanche = avalanche;
                let ty = if consistent {
                    "consistent"
                } else {
                    "map-based"
                };
                let aval = if avalanche { " avalanche" } else { "" };
                // The last source configuration of each type runs on backups only.
                let backup_only = v == 1 && key == KeyKind::Ip;
                out.push(Case {
                    product: Product::Haproxy,
                    name: format!("c{}", out.len()),
                    key: key.clone(),
                    algo: if consistent {
                        HashAlgo::HaproxyConsistent
                    } else {
                        HashAlgo::HaproxySource
                    },
                    tuning: t,
                    directives: format!("{d}\n  hash-type {ty} {}{aval}", f.name()),
                    servers: servers(rng, Product::Haproxy, backup_only),
                });
            }
        }
    }
    out
}

fn token(rng: &mut Pcg64, max: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    let n = rng.gen_range(1..=max);
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn keys(rng: &mut Pcg64, kind: &KeyKind) -> Vec<Key> {
    (0..KEYS)
        .map(|_| match kind {
            KeyKind::Ip => Key::Ip(Ipv4Addr::new(
                127,
                rng.gen(),
                rng.gen(),
                rng.gen_range(1..=254),
            )),
            KeyKind::Header | KeyKind::Cookie | KeyKind::UrlParam => Key::Text(token(rng, 24)),
            KeyKind::Uri => {
                let mut u = String::new();
                for _ in 0..rng.gen_range(1..=3) {
                    u.push('/');
                    u.push_str(&token(rng, 10));
                }
                if rng.gen_bool(0.4) {
                    u.push_str("?q=");
                    u.push_str(&token(rng, 8));
                }
                Key::Text(u)
            }
        })
        .collect()
}

/// The request for `key` to `case`: path and headers.
fn request(case: &Case, key: &Key) -> (String, Vec<(&'static str, String)>) {
    let mut h = Vec::new();
    let mut path = match case.product {
        Product::Nginx => format!("/{}/x", case.name),
        Product::Haproxy => {
            h.push(("X-Cfg", case.name.clone()));
            "/x".to_string()
        }
    };
    if let Key::Text(t) = key {
        match case.key {
            KeyKind::Header => h.push(("X-Key", t.clone())),
            KeyKind::Cookie => h.push(("Cookie", format!("a=1; sid={t}; z=2"))),
            KeyKind::Uri => path = t.clone(),
            KeyKind::UrlParam => path = format!("/p?a=1&k={t}&z=2"),
            KeyKind::Ip => unreachable!(),
        }
    }
    (path, h)
}

fn answer(r: &std::io::Result<Response>) -> Result<Option<usize>, String> {
    match r {
        Ok(r) if r.status == 200 => r
            .body
            .strip_prefix('b')
            .and_then(|n| n.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("unexpected body {:?}", r.body)),
        Ok(r) if r.status == 503 => Ok(None),
        Ok(r) => Err(format!("status {} body {:?}", r.status, r.body)),
        Err(e) => Err(format!("request failed: {e}")),
    }
}

/// Runs every (case, key) through the product listening on `front`:
/// source-address cases on one connection per source, the others on
/// keep-alive connections spread over threads.
fn drive(cases: &[Case], keys: &[Vec<Key>], front: u16) -> Vec<Vec<Result<Option<usize>, String>>> {
    let mut out: Vec<Vec<Result<Option<usize>, String>>> = keys
        .iter()
        .map(|k| vec![Err("not run".into()); k.len()])
        .collect();
    let ip_cases: Vec<usize> = (0..cases.len())
        .filter(|&c| cases[c].key == KeyKind::Ip)
        .collect();
    let other: Vec<(usize, usize)> = (0..cases.len())
        .filter(|&c| cases[c].key != KeyKind::Ip)
        .flat_map(|c| (0..keys[c].len()).map(move |k| (c, k)))
        .collect();
    let results = std::sync::Mutex::new(Vec::new());
    let next_ip = AtomicUsize::new(0);
    let next_other = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let mut local = Vec::new();
                // Source-address keys: every IP case shares key index k's
                // address, so one connection from it serves them all.
                loop {
                    let k = next_ip.fetch_add(1, Ordering::Relaxed);
                    let Some(&c0) = ip_cases.first() else { break };
                    if k >= keys[c0].len() {
                        break;
                    }
                    let Key::Ip(src) = keys[c0][k] else {
                        unreachable!()
                    };
                    let mut cl = Client::new(src, front);
                    for &c in &ip_cases {
                        let (path, h) = request(&cases[c], &keys[c][k]);
                        let h: Vec<(&str, &str)> =
                            h.iter().map(|(a, b)| (*a, b.as_str())).collect();
                        local.push((c, k, answer(&cl.get(&path, &h))));
                    }
                }
                let mut cl = Client::new(Ipv4Addr::LOCALHOST, front);
                loop {
                    let i = next_other.fetch_add(64, Ordering::Relaxed);
                    if i >= other.len() {
                        break;
                    }
                    for &(c, k) in &other[i..(i + 64).min(other.len())] {
                        let (path, h) = request(&cases[c], &keys[c][k]);
                        let h: Vec<(&str, &str)> =
                            h.iter().map(|(a, b)| (*a, b.as_str())).collect();
                        local.push((c, k, answer(&cl.get(&path, &h))));
                    }
                }
                results.lock().unwrap().extend(local);
            });
        }
    });
    for (c, k, a) in results.into_inner().unwrap() {
        out[c][k] = a;
    }
    out
}

/// Compares, prints a reproducer per disagreement (up to 3 per case) and
/// returns (keys compared, keys agreeing).
fn compare(
    product: &str,
    cases: &[Case],
    keys: &[Vec<Key>],
    real: &[Vec<Result<Option<usize>, String>>],
    ports: &[u16],
) -> (usize, usize, Vec<String>) {
    let mut n = 0;
    let mut agree = 0;
    let mut failures = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let mut shown = 0;
        for (k, key) in keys[c].iter().enumerate() {
            n += 1;
            let model = case.model(ports, key);
            let ok = matches!(&real[c][k], Ok(r) if *r == model);
            if ok {
                agree += 1;
            } else if shown < 3 {
                shown += 1;
                failures.push(format!(
                    "{product} disagrees on {key}:\n{}  real {product}: {:?}\n  stickysim: {:?}\n",
                    case.section(ports),
                    real[c][k]
                        .as_ref()
                        .map(|r| r.map(|i| format!("server {i} (127.0.0.1:{})", ports[i]))),
                    model.map(|i| format!("server {i} (127.0.0.1:{})", ports[i])),
                ));
            }
        }
    }
    (n, agree, failures)
}

fn report(product: &str, version: &str, cases: usize, n: usize, agree: usize, failures: &[String]) {
    eprintln!(
        "{product} ({version}): {cases} configurations x {} keys = {n} compared, {agree} agree ({:.3} %)",
        KEYS,
        100.0 * agree as f64 / n as f64
    );
    for f in failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty() && agree == n,
        "{} disagreements with {product}",
        n - agree
    );
}

/// Starts `product` with every case of that product in one configuration,
/// sends every key through it and checks each lands where the routing core
/// places it. Skipped when the product is not installed.
fn places_every_key_where_the_routing_core_does(which: Product) {
    let (bin_name, label) = match which {
        Product::Nginx => ("nginx", "nginx"),
        Product::Haproxy => ("haproxy", "HAProxy"),
    };
    let Some(bin) = product(bin_name) else { return };
    let mut rng = Pcg64::seed_from_u64(seed());
    let cases: Vec<Case> = cases(&mut rng)
        .into_iter()
        .filter(|c| c.product == which)
        .collect();
    let mut keyset: Vec<Vec<Key>> = Vec::new();
    let ip_keys = keys(&mut rng, &KeyKind::Ip);
    for c in &cases {
        keyset.push(if c.key == KeyKind::Ip {
            ip_keys.clone()
        } else {
            keys(&mut rng, &c.key)
        });
    }
    let ports = free_ports(BACKENDS + 1);
    let (front, backends) = (ports[0], &ports[1..]);
    let dir = tempfile::tempdir().unwrap();
    let run = match which {
        Product::Nginx => {
            let conf = nginx_main(dir.path(), &nginx_http(&cases, front, backends));
            start_nginx(&bin, dir, &conf, front)
        }
        Product::Haproxy => start_haproxy(&bin, dir, &haproxy_cfg(&cases, front, backends), front),
    };
    let real = drive(&cases, &keyset, front);
    let (n, agree, failures) = compare(label, &cases, &keyset, &real, backends);
    if !failures.is_empty() {
        eprintln!("{label} log:\n{}", run.log());
    }
    report(
        label,
        &version(&bin, "-v"),
        cases.len(),
        n,
        agree,
        &failures,
    );
}

/// nginx's `http` block: one upstream and location per case on `front`,
/// and one server per backend port answering its name.
fn nginx_http(cases: &[Case], front: u16, backends: &[u16]) -> String {
    let mut http = String::new();
    for c in cases {
        http.push_str(&c.section(backends));
    }
    writeln!(http, "  server {{\n    listen 127.0.0.1:{front};").unwrap();
    for c in cases {
        writeln!(
            http,
            "    location /{}/ {{ proxy_pass http://{}; }}",
            c.name, c.name
        )
        .unwrap();
    }
    http.push_str("  }\n");
    for (i, p) in backends.iter().enumerate() {
        writeln!(
            http,
            "  server {{ listen 127.0.0.1:{p}; return 200 \"b{i}\"; }}"
        )
        .unwrap();
    }
    http
}

/// HAProxy's configuration: a frontend on `front` choosing the case's
/// backend by header, one backend per case, and one frontend per backend
/// port answering its name.
fn haproxy_cfg(cases: &[Case], front: u16, backends: &[u16]) -> String {
    let mut cfg = String::from(
        "global\n  maxconn 4000\n\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n\n",
    );
    writeln!(
        cfg,
        "frontend fe\n  bind 127.0.0.1:{front}\n  use_backend %[req.hdr(x-cfg)]\n"
    )
    .unwrap();
    for c in cases {
        cfg.push_str(&c.section(backends));
        cfg.push('\n');
    }
    for (i, p) in backends.iter().enumerate() {
        writeln!(
            cfg,
            "frontend b{i}\n  bind 127.0.0.1:{p}\n  http-request return status 200 content-type text/plain string b{i}\n"
        )
        .unwrap();
    }
    cfg
}

#[test]
fn nginx_places_every_key_where_the_routing_core_does() {
    places_every_key_where_the_routing_core_does(Product::Nginx);
}

#[test]
fn haproxy_places_every_key_where_the_routing_core_does() {
    places_every_key_where_the_routing_core_does(Product::Haproxy);
}
