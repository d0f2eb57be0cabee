//! The bundled example log `scenarios/logs/shop.log` and its generator:
//! one hour of a small shop's nginx access log in `combined` format, with
//! a corporate NAT address many users share, direct users (IPv4 and
//! IPv6), a crawler, load-balancer health checks, one truncated line and
//! lines written a little out of order (several workers). The test
//! regenerates it and checks the committed file is byte for byte the
//! same; `STICKYSIM_BLESS=1 cargo test --test it replay_example` rewrites
//! it. The constants below are its construction, for tests that check
//! what a reader finds in it.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp};
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use stickysim::replay::time;

/// Where the example lives.
pub(crate) fn shop_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/logs/shop.log")
}

/// The first second of the log, UTC (written at +0100).
pub(crate) const START: &str = "2026-03-02T09:00:00Z";
/// Length of the log, seconds.
pub(crate) const SPAN_S: f64 = 3600.0;
/// New sessions per second.
pub(crate) const SESSION_RATE: f64 = 0.12;
/// Mean requests per session (geometric, at least 1).
pub(crate) const REQUESTS_MEAN: f64 = 7.0;
/// Mean think time between a session's requests, seconds (exponential).
pub(crate) const THINK_MEAN_S: f64 = 15.0;
/// The corporate NAT address, and the share of sessions behind it.
pub(crate) const NAT_ADDR: &str = "203.0.113.10";
pub(crate) const NAT_SHARE: f64 = 0.4;
/// Users behind the NAT address.
pub(crate) const NAT_USERS: u32 = 80;
/// Direct users (one address each; every 10th on IPv6).
pub(crate) const DIRECT_USERS: u32 = 400;
/// The crawler: its address, user agent and seconds between requests.
pub(crate) const BOT_ADDR: &str = "192.0.2.200";
pub(crate) const BOT_UA: &str = "ExampleBot/2.1 (+https://bot.example.com/)";
pub(crate) const BOT_EVERY_S: f64 = 4.0;
/// The load balancer's health checks: path and seconds between them.
pub(crate) const HEALTH_PATH: &str = "/healthz";
pub(crate) const HEALTH_EVERY_S: f64 = 30.0;
/// Share of lines written late (by 1-4 s), as a busy worker would.
pub(crate) const LATE_SHARE: f64 = 0.05;
/// The truncated line is written after this many lines.
pub(crate) const BAD_AFTER: usize = 1000;

const PAGES: &[&str] = &[
    "/products/",
    "/products/",
    "/products/",
    "/search?q=",
    "/cart",
    "/static/app.js",
    "/api/stock/",
    "/checkout",
];

fn user_agent(user: u32) -> String {
    let (os, build) = match user % 3 {
        0 => ("Windows NT 10.0; Win64; x64", 120 + user % 7),
        1 => ("Macintosh; Intel Mac OS X 10_15_7", 118 + user % 9),
        _ => ("X11; Linux x86_64", 119 + user % 5),
    };
    format!(
        "Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{build}.0.{}.{} Safari/537.36",
        6000 + user * 7 % 400,
        user % 200
    )
}

fn direct_addr(user: u32) -> String {
    if user % 10 == 9 {
        return format!("2001:db8:{:x}::{:x}", 0x100 + user / 200, user % 200 + 1);
    }
    // Made-up public addresses spread over many /24s (none in 10/8, 127/8,
    // 172.16/12 or 192.168/16), as home connections are.
    let h = (user + 1).wrapping_mul(0x9e37_79b1).rotate_left(7) ^ 0x5bd1_e995;
    let first = match 23 + (h >> 24) % 180 {
        127 | 172 | 192 => 151,
        f => f,
    };
    format!(
        "{first}.{}.{}.{}",
        h >> 16 & 0xff,
        h >> 8 & 0xff,
        h % 254 + 1
    )
}

struct Line {
    /// When the request arrived, seconds from the start.
    t: f64,
    /// When the worker wrote it: the log's order.
    written: f64,
    addr: String,
    path: String,
    status: u16,
    bytes: u32,
    ua: String,
}

/// One session as the generator made it (the truth a reader of the log
/// should find).
#[derive(Debug, Clone)]
pub(crate) struct TrueSession {
    /// The user: 0..NAT_USERS behind the NAT address, then the direct users.
    pub(crate) user: u32,
    /// Behind the NAT address.
    pub(crate) nat: bool,
    /// Its requests' times, seconds from the start.
    pub(crate) times: Vec<f64>,
}

/// The example log's text.
pub(crate) fn generate() -> String {
    construct().0
}

/// The example log's text and the sessions it was made from.
pub(crate) fn construct() -> (String, Vec<TrueSession>) {
    let mut sessions = Vec::new();
    let mut rng = rand_pcg::Pcg64::seed_from_u64(20_260_302);
    let mut lines = Vec::new();
    let gaps = Exp::new(SESSION_RATE).unwrap();
    let think = Exp::new(1.0 / THINK_MEAN_S).unwrap();
    let mut t: f64 = gaps.sample(&mut rng);
    let p_more = 1.0 - 1.0 / REQUESTS_MEAN;
    while t < SPAN_S {
        let nat = rng.gen::<f64>() < NAT_SHARE;
        let (addr, user) = if nat {
            let u = rng.gen_range(0..NAT_USERS);
            (NAT_ADDR.to_string(), u)
        } else {
            let u = rng.gen_range(0..DIRECT_USERS);
            (direct_addr(u), NAT_USERS + u)
        };
        let ua = user_agent(user);
        let mut truth = TrueSession {
            user,
            nat,
            times: Vec::new(),
        };
        let mut at = t;
        let mut first = true;
        loop {
            let page = PAGES[rng.gen_range(0..PAGES.len())];
            let path = if first {
                "/".to_string()
            } else if page.ends_with('/') || page.ends_with('=') {
                format!("{page}{}", rng.gen_range(1..500))
            } else {
                page.to_string()
            };
            first = false;
            truth.times.push(at);
            let status = match rng.gen_range(0..100) {
                0..=2 => 404,
                3..=10 => 304,
                _ => 200,
            };
            lines.push(Line {
                t: at,
                written: at,
                addr: addr.clone(),
                path,
                status,
                bytes: if status == 200 {
                    rng.gen_range(200..60_000)
                } else {
                    0
                },
                ua: ua.clone(),
            });
            if rng.gen::<f64>() >= p_more {
                break;
            }
            at += think.sample(&mut rng);
            if at >= SPAN_S {
                break;
            }
        }
        sessions.push(truth);
        t += gaps.sample(&mut rng);
    }
    let mut b = BOT_EVERY_S / 2.0;
    while b < SPAN_S {
        let n = rng.gen_range(1..500);
        lines.push(Line {
            t: b,
            written: b,
            addr: BOT_ADDR.to_string(),
            path: format!("/products/{n}"),
            status: 200,
            bytes: rng.gen_range(200..60_000),
            ua: BOT_UA.to_string(),
        });
        b += BOT_EVERY_S;
    }
    let mut h = 1.0;
    while h < SPAN_S {
        lines.push(Line {
            t: h,
            written: h,
            addr: "10.0.0.2".to_string(),
            path: HEALTH_PATH.to_string(),
            status: 200,
            bytes: 2,
            ua: "ELB-HealthChecker/2.0".to_string(),
        });
        h += HEALTH_EVERY_S;
    }
    for l in &mut lines {
        if rng.gen::<f64>() < LATE_SHARE {
            l.written = l.t + rng.gen_range(1.0..4.0);
        }
    }
    lines.sort_by(|a, b| a.written.total_cmp(&b.written).then(a.t.total_cmp(&b.t)));
    let start = time::iso(START).unwrap();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        // nginx writes local time: the shop is at +0100.
        let ns = start + (l.t * 1e9) as i64 + 3_600_000_000_000;
        let stamp = time::format_clf(ns).replace("+0000", "+0100");
        let method = if l.path == "/checkout" { "POST" } else { "GET" };
        let _ = writeln!(
            out,
            r#"{} - - [{stamp}] "{method} {} HTTP/1.1" {} {} "-" "{}""#,
            l.addr, l.path, l.status, l.bytes, l.ua
        );
        if i + 1 == BAD_AFTER {
            // A line cut short when the disk filled up.
            let _ = writeln!(out, "198.51.100.77 - - [{}", &stamp[..15]);
        }
    }
    (out, sessions)
}

#[test]
fn the_bundled_example_log_is_what_its_generator_writes() {
    let want = generate();
    let path = shop_log();
    if std::env::var_os("STICKYSIM_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &want).unwrap();
    }
    let got = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "{} differs from its generator (tests/it/replay_example.rs); regenerate it with\n    \
         STICKYSIM_BLESS=1 cargo test --test it replay_example\nand review the diff.",
        path.display()
    );
    // What the generator promises: a few thousand lines, the NAT address,
    // the crawler, one bad line, and lines out of order.
    let n = want.lines().count();
    assert!((2000..8000).contains(&n), "{n} lines");
    assert!(want.lines().filter(|l| l.starts_with(NAT_ADDR)).count() > 500);
    assert!(want.contains(BOT_UA));
    let p = stickysim::replay::Parser::new(
        stickysim::replay::Format::Combined,
        Default::default(),
        None,
    );
    let parsed: Vec<_> = want.lines().map(|l| p.parse(l).ok()).collect();
    assert_eq!(parsed.iter().filter(|r| r.is_none()).count(), 1);
    let times: Vec<i64> = parsed.iter().flatten().map(|r| r.time_ns).collect();
    assert!(times.windows(2).filter(|w| w[1] < w[0]).count() > 20);
}
