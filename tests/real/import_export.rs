//! `stickysim import` of realistic configurations (includes, comments,
//! unmodelled directives) produces strategies that run; `stickysim export`
//! produces configurations the real product runs with the routing core's
//! decisions; and what a product refuses is refused.

use crate::harness::*;
use assert_cmd::Command;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use stickysim::routing::*;

fn bin() -> Command {
    Command::cargo_bin("stickysim").unwrap()
}

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

/// `tests/data/tiny.toml` with its strategies replaced by `strategies`.
fn scenario_with(strategies: &str) -> String {
    let tiny = std::fs::read_to_string(data("tiny.toml")).unwrap();
    let head = &tiny[..tiny.find("[[strategies]]").unwrap()];
    let faults = &tiny[tiny.find("[[faults]]").unwrap()..];
    format!("{head}{strategies}\n{faults}")
}

fn import_runs(config: &str, expect: &[&str], warn: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("strategies.toml");
    let a = bin()
        .arg("import")
        .arg(data(config))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    for w in warn {
        assert!(
            stderr.contains(w),
            "expected a warning about `{w}`:\n{stderr}"
        );
    }
    let toml = std::fs::read_to_string(&out).unwrap();
    for e in expect {
        assert!(toml.contains(e), "expected `{e}` in:\n{toml}");
    }
    // Every strategy line names its source directive.
    for l in toml
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = ") && !l.starts_with("name"))
    {
        assert!(l.contains("  # "), "line without its directive: {l}");
    }
    let sc = dir.path().join("scenario.toml");
    std::fs::write(&sc, scenario_with(&toml)).unwrap();
    bin().arg("validate").arg(&sc).assert().success();
    let res = dir.path().join("out");
    bin()
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(&res)
        .arg("--quiet")
        .arg("--no-charts")
        .assert()
        .success();
    assert!(res.join("summary.csv").exists());
}

#[test]
fn importing_a_realistic_nginx_config_gives_strategies_that_run() {
    import_runs(
        "lbconf/nginx/nginx.conf",
        &[
            "name = \"shop_web\"",
            "hash = \"nginx_ip_hash\"  # ip_hash (web.conf:3)",
            "header_name = \"X-Api-Key\"",
            "hash = \"ketama\"",
            "kind = \"least_conn\"",
            "# backend: 10.0.1.13:8080 down (web.conf:6)",
        ],
        &["keepalive 32", "max_fails", "zone static 64k"],
    );
}

#[test]
fn importing_a_realistic_haproxy_config_gives_strategies_that_run() {
    import_runs(
        "lbconf/haproxy.cfg",
        &[
            "kind = \"lb_cookie\"",
            "ttl = 1800",
            "on_unavailable = \"redispatch\"  # option redispatch (haproxy.cfg:15)",
            "hash = \"haproxy_consistent\"",
            "hash_function = \"djb2\"",
            "avalanche = true",
            "kind = \"source_ip_table\"",
            "size = 204800",
            "hash = \"haproxy_source\"",
        ],
        &["option httpchk", "slowstart", "backup", "timeout server 2m"],
    );
}

#[test]
fn a_file_that_is_not_a_config_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.conf");
    std::fs::write(&f, "# shopping list\n\nmilk, eggs and bread\n").unwrap();
    bin()
        .arg("import")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("notes.conf:3:"));
    let f = dir.path().join("broken.cfg");
    std::fs::write(
        &f,
        "global\n  maxconn 10\nbackend a\n  server a 1.2.3.4:80;\n",
    )
    .unwrap();
    bin()
        .arg("import")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("broken.cfg:4:"));
}

#[test]
fn export_refuses_what_the_product_cannot_express() {
    bin()
        .args(["export"])
        .arg(data("lbconf/export.toml"))
        .args(["--strategy", "maglev", "--to", "nginx"])
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains("can't be expressed in nginx")
                .and(predicates::str::contains("maglev")),
        );
    bin()
        .args(["export"])
        .arg(data("lbconf/export.toml"))
        .args(["--strategy", "table", "--to", "nginx"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no source-address affinity table",
        ));
    bin()
        .args(["export"])
        .arg(data("lbconf/export.toml"))
        .args(["--strategy", "ring", "--to", "haproxy"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("HAProxy has no `ketama` hash"));
}

use predicates::prelude::PredicateBooleanExt;

/// Documented exception: nginx refuses `backup` servers under `hash` and
/// `ip_hash` ("balancing method does not support parameter \"backup\"":
/// those modules don't set `NGX_HTTP_UPSTREAM_BACKUP` in the upstream's
/// flags, `ngx_http_upstream_hash_module.c` /
/// `ngx_http_upstream_ip_hash_module.c`, and `ngx_http_upstream.c` checks
/// every server's parameters against them): there is no nginx behaviour to
/// compare.
#[test]
fn nginx_refuses_backup_servers_with_hashing() {
    let Some(nginx) = product("nginx") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for m in [
        "ip_hash;",
        "hash $remote_addr;",
        "hash $remote_addr consistent;",
    ] {
        let conf = nginx_main(
            dir.path(),
            &format!("upstream u {{ {m} server 127.0.0.1:1; server 127.0.0.1:2 backup; }}"),
        );
        let e = nginx_test(&nginx, &conf).expect_err("nginx accepted backup with hashing");
        assert!(e.contains("does not support parameter \"backup\""), "{e}");
    }
}

fn export(strategy: &str, to: &str, backends: &[u16]) -> String {
    let list: Vec<String> = backends.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let a = bin()
        .arg("export")
        .arg(data("lbconf/export.toml"))
        .args([
            "--strategy",
            strategy,
            "--to",
            to,
            "--backends",
            &list.join(","),
        ])
        .assert()
        .success();
    let s = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        s.contains("scenario `export`") && s.contains("seed 7"),
        "{s}"
    );
    s
}

/// The routing core's answer for `spec` over `backends`.
fn model(spec: &StrategySpec, backends: &[u16], ip: Ipv4Addr, header: &str) -> Option<usize> {
    let (hash, tuning, by_header) = match spec {
        StrategySpec::SourceIp { hash, tuning, .. } => (*hash, *tuning, false),
        StrategySpec::Header { hash, tuning, .. } => (*hash, *tuning, true),
        other => panic!("not a hashing strategy: {other:?}"),
    };
    let pool = Pool::new(
        backends
            .iter()
            .map(|&p| BackendView {
                addr: SocketAddr::from(([127, 0, 0, 1], p)),
                weight: 1,
                health: Health::Up,
                outstanding: 0,
                capacity: None,
            })
            .collect(),
    );
    let mut t = HashTable::new(hash, tuning);
    t.build(&pool, OnDraining::Reroute, hash.skips_unusable());
    let key = if by_header {
        HashKey::Bytes(header.as_bytes())
    } else {
        HashKey::Ip(IpAddr::V4(ip))
    };
    t.lookup(key, &pool, OnDraining::Reroute).map(|b| b.index())
}

/// Sends 2,000 keys to each exported strategy (`path` → strategy) and
/// compares with the routing core.
fn exported_agree(product_name: &str, front: u16, backends: &[u16], routes: &[(&str, String)]) {
    let sc = stickysim::scenario::load(&data("lbconf/export.toml"), &[]).unwrap();
    let mut rng = Pcg64::seed_from_u64(99);
    let keys: Vec<(Ipv4Addr, String)> = (0..2000)
        .map(|i| {
            (
                Ipv4Addr::new(127, rng.gen(), rng.gen(), rng.gen_range(1..=254)),
                format!("key-{i}-{}", rng.gen::<u32>()),
            )
        })
        .collect();
    let failures = std::sync::Mutex::new(Vec::new());
    let compared = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for chunk in keys.chunks(keys.len() / 8) {
            let failures = &failures;
            let compared = &compared;
            let sc = &sc;
            s.spawn(move || {
                for (ip, h) in chunk {
                    let mut c = Client::new(*ip, front);
                    for (strategy, route) in routes {
                        let spec = &sc.strategies.iter().find(|s| s.name == *strategy).unwrap().spec;
                        let (path, hdrs): (String, Vec<(&str, &str)>) = if route.starts_with('/') {
                            (route.clone(), vec![("X-Api-Key", h.as_str())])
                        } else {
                            ("/".into(), vec![("X-Cfg", route.as_str()), ("X-Api-Key", h.as_str())])
                        };
                        let real = c.get(&path, &hdrs).ok().and_then(|r| r.body.strip_prefix('b').and_then(|n| n.parse::<usize>().ok()));
                        let m = model(spec, backends, *ip, h);
                        compared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if real != m {
                            failures.lock().unwrap().push(format!(
                                "{product_name} (exported `{strategy}`) disagrees on source {ip}, X-Api-Key {h:?}: real {real:?}, stickysim {m:?}"
                            ));
                        }
                    }
                }
            });
        }
    });
    let f = failures.into_inner().unwrap();
    let n = compared.into_inner();
    eprintln!(
        "{product_name}: exported configurations: {n} keys compared, {} disagree",
        f.len()
    );
    for x in f.iter().take(5) {
        eprintln!("{x}");
    }
    assert!(f.is_empty());
}

#[test]
fn an_exported_nginx_config_decides_as_the_routing_core() {
    let Some(nginx) = product("nginx") else {
        return;
    };
    let ports = free_ports(5);
    let (front, backends) = (ports[0], &ports[1..]);
    let mut http = String::new();
    let strategies = ["iphash", "ring", "apikey"];
    for s in strategies {
        http.push_str(&export(s, "nginx", backends));
    }
    writeln!(http, "server {{\n  listen 127.0.0.1:{front};").unwrap();
    for s in strategies {
        writeln!(http, "  location /{s}/ {{ proxy_pass http://{s}; }}").unwrap();
    }
    http.push_str("}\n");
    for (i, p) in backends.iter().enumerate() {
        writeln!(
            http,
            "server {{ listen 127.0.0.1:{p}; return 200 \"b{i}\"; }}"
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = nginx_main(dir.path(), &http);
    let _run = start_nginx(&nginx, dir, &conf, front);
    let routes: Vec<(&str, String)> = strategies.iter().map(|s| (*s, format!("/{s}/x"))).collect();
    exported_agree("nginx", front, backends, &routes);
}

#[test]
fn an_exported_haproxy_config_decides_as_the_routing_core() {
    let Some(haproxy) = product("haproxy") else {
        return;
    };
    let ports = free_ports(5);
    let (front, backends) = (ports[0], &ports[1..]);
    let mut cfg = String::from(
        "global\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n",
    );
    writeln!(
        cfg,
        "frontend fe\n  bind 127.0.0.1:{front}\n  use_backend %[req.hdr(x-cfg)]"
    )
    .unwrap();
    let strategies = ["hap-source", "hap-hdr"];
    for s in strategies {
        cfg.push_str(&export(s, "haproxy", backends));
    }
    for (i, p) in backends.iter().enumerate() {
        writeln!(cfg, "frontend b{i}\n  bind 127.0.0.1:{p}\n  http-request return status 200 content-type text/plain string b{i}").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let _run = start_haproxy(&haproxy, dir, &cfg, front);
    let routes: Vec<(&str, String)> = strategies.iter().map(|s| (*s, s.to_string())).collect();
    exported_agree("HAProxy", front, backends, &routes);
}
