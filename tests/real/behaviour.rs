//! Behaviour over time: one generated trace of requests and runtime
//! commands driven through a real HAProxy and through the routing core,
//! each side writing one decision line per request; the two logs must be
//! equal. A difference prints the configuration, the trace and both logs
//! up to the first differing line.
//!
//! Trace format, one step per line:
//!
//! ```text
//! req C        client C sends a request (with its cookie, from its address)
//! forge C      client C's cookie is replaced by a value no server issued
//! disable I    server sI is put in maintenance (`disable server`);
//!              with `stop_backend`, its listener is stopped too
//! enable I     the reverse
//! ```
//!
//! Decision lines: `C sI` (forwarded), `C sI set` (forwarded with a new
//! cookie), `C 503` (refused).

use crate::harness::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use stickysim::routing::*;

const SERVERS: usize = 3;
const CLIENTS: usize = 24;
const STEPS: usize = 240;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Req(usize),
    Forge(usize),
    Disable(usize),
    Enable(usize),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Req(c) => write!(f, "req {c}"),
            Step::Forge(c) => write!(f, "forge {c}"),
            Step::Disable(i) => write!(f, "disable {i}"),
            Step::Enable(i) => write!(f, "enable {i}"),
        }
    }
}

/// A seeded trace: requests from random clients, some forged cookies, one
/// server disabled a third of the way in and enabled again at two thirds.
fn trace(seed: u64, forge: bool) -> Vec<Step> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let down = rng.gen_range(0..SERVERS);
    let mut t = Vec::new();
    for i in 0..STEPS {
        if i == STEPS / 3 {
            t.push(Step::Disable(down));
        }
        if i == 2 * STEPS / 3 {
            t.push(Step::Enable(down));
        }
        let c = rng.gen_range(0..CLIENTS);
        if forge && rng.gen_bool(0.05) {
            t.push(Step::Forge(c));
        }
        t.push(Step::Req(c));
    }
    t
}

fn client_ip(c: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 10, (c / 200) as u8, (c % 200 + 1) as u8)
}

/// The backend section under test (`be`), with the servers' ports.
struct Setup {
    section: String,
    spec: StrategySpec,
    /// Stop the disabled server's listener too (HAProxy then can't reach it).
    stop_backend: bool,
}

fn run_real(bin: &std::path::Path, setup: &Setup, steps: &[Step]) -> Vec<String> {
    let ports = free_ports(SERVERS + 1);
    let (front, backends) = (ports[0], &ports[1..]);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("admin.sock");
    let mut cfg = format!(
        "global\n  maxconn 1000\n  stats socket {} level admin\ndefaults\n  mode http\n  timeout connect 200ms\n  timeout client 10s\n  timeout server 10s\n",
        sock.display()
    );
    writeln!(
        cfg,
        "frontend fe\n  bind 127.0.0.1:{front}\n  default_backend be"
    )
    .unwrap();
    cfg.push_str(&setup.section.replace("{ports}", ""));
    for (i, p) in backends.iter().enumerate() {
        writeln!(cfg, "  server s{i} 127.0.0.1:{p} cookie s{i}").unwrap();
    }
    for (i, p) in backends.iter().enumerate() {
        writeln!(cfg, "frontend b{i}\n  bind 127.0.0.1:{p}\n  http-request return status 200 content-type text/plain string s{i}").unwrap();
    }
    let run = start_haproxy(bin, dir, &cfg, front);
    let mut jar: Vec<Option<String>> = vec![None; CLIENTS];
    let mut log = Vec::new();
    for s in steps {
        match *s {
            Step::Req(c) => {
                let mut cl = Client::new(client_ip(c), front);
                let cookie = jar[c].as_ref().map(|v| format!("SRV={v}"));
                let h: Vec<(&str, &str)> = cookie.iter().map(|v| ("Cookie", v.as_str())).collect();
                let r = cl
                    .get("/", &h)
                    .unwrap_or_else(|e| panic!("request failed: {e}\n{}", run.log()));
                let set = r.header("set-cookie").and_then(|v| {
                    v.split(';')
                        .next()?
                        .trim()
                        .strip_prefix("SRV=")
                        .map(str::to_string)
                });
                let line = match r.status {
                    200 => format!("{c} {}{}", r.body, if set.is_some() { " set" } else { "" }),
                    503 => format!("{c} 503"),
                    other => format!("{c} status {other}"),
                };
                if let Some(v) = set {
                    jar[c] = Some(v);
                }
                log.push(line);
            }
            Step::Forge(c) => jar[c] = Some("bogus".into()),
            Step::Disable(i) => {
                haproxy_admin(&sock, &format!("disable server be/s{i}"));
                if setup.stop_backend {
                    haproxy_admin(&sock, &format!("disable frontend b{i}"));
                }
            }
            Step::Enable(i) => {
                if setup.stop_backend {
                    haproxy_admin(&sock, &format!("enable frontend b{i}"));
                }
                haproxy_admin(&sock, &format!("enable server be/s{i}"));
            }
        }
    }
    log
}

/// The routing core's decisions on `steps`. Once a server has left or
/// returned (`disable`, `enable`), HAProxy's round robin (`src/lb_fwrr.c`:
/// servers are dequeued and requeued by `fwrr_dequeue_srv` /
/// `fwrr_queue_srv` at positions derived from the group's current one) and
/// stickysim's (nginx's smooth weighted round robin, whose per-server
/// current weights carry over a membership change) may pick a different
/// server for a request that is balanced anew; until then the picks must be
/// equal. Such a
/// pick is accepted when both sides balanced the request (a new cookie)
/// onto a usable server; the model then takes the product's pick (its jar
/// gets the cookie it issues for that server) so that every later decision
/// is still compared. Returns the decisions and how many picks were synced.
fn run_model(setup: &Setup, steps: &[Step], real: &[String]) -> (Vec<String>, usize) {
    let mut pool = Pool::new(
        (0..SERVERS)
            .map(|i| BackendView {
                addr: SocketAddr::from(([127, 0, 0, 1], 9000 + i as u16)),
                weight: 1,
                health: Health::Up,
                outstanding: 0,
                capacity: None,
            })
            .collect(),
    );
    let mut router = Router::new(&setup.spec, 42);
    let mut rng = RouteRng::new(1);
    let mut jar: Vec<Option<u64>> = vec![None; CLIENTS];
    // The cookie the model issues for each server, once seen.
    let mut issued: Vec<Option<u64>> = vec![None; SERVERS];
    let mut changed = false;
    let mut synced = 0;
    let mut log = Vec::new();
    for (t, s) in steps.iter().enumerate() {
        match *s {
            Step::Req(c) => {
                let req = RouteRequest {
                    now_ns: t as u64 * 1_000_000,
                    src: IpAddr::V4(client_ip(c)),
                    cookie: jar[c],
                    header: None,
                    app_id: None,
                    exclude: None,
                };
                let mut line = match router.route(&req, &pool, &mut rng) {
                    Decision::Forward {
                        backend,
                        set_cookie,
                    } => {
                        if let Some(sc) = set_cookie {
                            jar[c] = Some(sc.value);
                            issued[backend.index()] = Some(sc.value);
                        }
                        format!(
                            "{c} s{}{}",
                            backend.0,
                            if set_cookie.is_some() { " set" } else { "" }
                        )
                    }
                    Decision::Refuse(_) => format!("{c} 503"),
                };
                if let Some(r) = real.get(log.len()) {
                    let pick = |l: &str| -> Option<usize> {
                        l.strip_suffix(" set")?
                            .split(' ')
                            .nth(1)?
                            .strip_prefix('s')?
                            .parse()
                            .ok()
                    };
                    if let (true, Some(rp), Some(_)) = (changed && *r != line, pick(r), pick(&line))
                    {
                        let usable = pool.get(BackendId(rp as u32)).health == Health::Up;
                        if let (true, Some(v)) = (usable, issued[rp]) {
                            jar[c] = Some(v);
                            line = r.clone();
                            synced += 1;
                        }
                    }
                }
                log.push(line);
            }
            // A value no backend's cookie has.
            Step::Forge(c) => jar[c] = Some(0x0bad_c00c_1e00_0000),
            Step::Disable(i) => {
                pool.set_health(BackendId(i as u32), Health::Down);
                changed = true;
            }
            Step::Enable(i) => {
                pool.set_health(BackendId(i as u32), Health::Up);
                changed = true;
            }
        }
    }
    (log, synced)
}

fn compare(name: &str, setup: &Setup, seeds: &[u64], forge: bool) {
    let Some(bin) = product("haproxy") else {
        return;
    };
    let mut decisions = 0;
    let mut synced = 0;
    for &seed in seeds {
        let steps = trace(seed, forge);
        let real = run_real(&bin, setup, &steps);
        let (model, n) = run_model(setup, &steps, &real);
        synced += n;
        decisions += real.len();
        if let Some(i) = (0..real.len().max(model.len())).find(|&i| real.get(i) != model.get(i)) {
            let t: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
            panic!(
                "{name}, seed {seed}: decision {i} differs: HAProxy `{}`, stickysim `{}`\n\
                 backend section:\n{}\ntrace:\n{}\nHAProxy decisions:\n{}\nstickysim decisions:\n{}",
                real.get(i).map_or("-", |s| s),
                model.get(i).map_or("-", |s| s),
                setup.section,
                t.join("\n"),
                real[..=i.min(real.len() - 1)].join("\n"),
                model[..=i.min(model.len() - 1)].join("\n"),
            );
        }
    }
    eprintln!(
        "{name}: {} traces, {decisions} decisions equal ({synced} balanced picks after a membership change taken from HAProxy's round robin)",
        seeds.len()
    );
}

fn cookie_spec(on_unavailable: OnUnavailable) -> StrategySpec {
    StrategySpec::LbCookie {
        ttl_ns: 0,
        ttl_mode: TtlMode::Session,
        cookie: CookieAttrs {
            name: "SRV".into(),
            ..CookieAttrs::default()
        },
        balance: Balance::RoundRobin,
        on_unavailable,
        on_draining: OnDraining::Reroute,
    }
}

/// `cookie SRV insert`: the first request is balanced and gets the
/// server's cookie name; a valid cookie goes to its server without a new
/// cookie (`indirect`); an unknown value is balanced anew; a cookie naming
/// a server in maintenance is balanced anew (HAProxy ignores cookies of
/// stopped servers unless `option persist`).
#[test]
fn haproxy_cookie_insert_with_redispatch_decides_as_the_routing_core() {
    let setup = Setup {
        section: "backend be\n  balance roundrobin\n  cookie SRV insert indirect nocache\n  option redispatch\n".into(),
        spec: cookie_spec(OnUnavailable::Redispatch),
        stop_backend: false,
    };
    compare("cookie insert + redispatch", &setup, &[1, 2, 3], true);
}

/// `option persist` without `option redispatch`, the pinned server in
/// maintenance and unreachable: its clients get 503 (`retries 0`).
#[test]
fn haproxy_cookie_insert_with_persist_refuses_as_the_routing_core() {
    let setup = Setup {
        section: "backend be\n  balance roundrobin\n  cookie SRV insert indirect nocache\n  option persist\n  retries 0\n".into(),
        spec: cookie_spec(OnUnavailable::Reject),
        stop_backend: true,
    };
    compare("cookie insert + persist", &setup, &[4, 5], false);
}

/// `stick-table type ip` + `stick on src`: first request balanced and
/// stored; later ones follow the entry; an entry naming a server in
/// maintenance is ignored and the request balanced anew.
#[test]
fn haproxy_stick_on_src_decides_as_the_routing_core() {
    let setup = Setup {
        section: "backend be\n  balance roundrobin\n  stick-table type ip size 1m expire 30m\n  stick on src\n  option redispatch\n".into(),
        spec: StrategySpec::SourceIpTable {
            timeout_ns: 1_800_000_000_000,
            size: 1 << 20,
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        },
        stop_backend: false,
    };
    compare("stick on src", &setup, &[6, 7, 8], false);
}
