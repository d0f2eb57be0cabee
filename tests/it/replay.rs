//! Replaying access logs (`workload.replay`) end to end: every format
//! through every strategy, the counts the report gives, bad lines,
//! `strict`, gzip, reordering, `exclude`, `speed` and `scale`, the error
//! messages, and the round trip (a run's own traffic written as a log and
//! replayed gives the same loss and imbalance).

use crate::common::{assert_requests_conserved, bin, mean_ci95};
use crate::replay_example::{shop_log, BOT_UA, HEALTH_PATH};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use stickysim::engine::{run_strategies, run_strategy_logged, RunOutput};
use stickysim::replay::write::{write_log, LogFormat};
use stickysim::replay::{time, ReplayEvent, ReplaySource};
use stickysim::scenario::Scenario;

/// One strategy of every kind.
const EVERY_KIND: &str = r#"
[[strategies]]
name = "rr"
kind = "round_robin"
[[strategies]]
name = "random"
kind = "random"
[[strategies]]
name = "least"
kind = "least_conn"
[[strategies]]
name = "p2c"
kind = "p2c"
[[strategies]]
name = "cookie"
kind = "lb_cookie"
ttl = 600
[[strategies]]
name = "ip"
kind = "source_ip"
[[strategies]]
name = "header"
kind = "header"
[[strategies]]
name = "table"
kind = "source_ip_table"
[[strategies]]
name = "app"
kind = "app_cookie"
[[strategies]]
name = "sid"
kind = "session_id"
[[strategies]]
name = "bounded"
kind = "bounded_load"
key = "source"
"#;

/// A scenario replaying `log` (a file name in `dir`) with `replay` keys
/// added to the table, `duration` seconds long, no warm-up.
fn scenario(dir: &Path, replay: &str, duration: u32, strategies: &str) -> PathBuf {
    let p = dir.join("s.toml");
    fs::write(
        &p,
        format!(
            r#"[simulation]
duration = {duration}
seed = 5
[workload]
service_time = {{ dist = "exponential", mean = 0.02 }}
replay = {{ {replay} }}
[backends]
count = 3
workers = 4
{strategies}"#
        ),
    )
    .unwrap();
    p
}

fn load(p: &Path) -> Scenario {
    stickysim::scenario::load(p, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn run_all(sc: &Scenario) -> Vec<RunOutput> {
    run_strategies(sc, &(0..sc.strategies.len()).collect::<Vec<_>>())
}

/// `sessions` sessions of `per` requests each, 7 s apart within a session,
/// sessions starting 3 s apart; session `i` from address `addr(i)`.
/// Returns `(t seconds, session, address)` in time order.
fn plan(sessions: u32, per: u32) -> Vec<(f64, u32, String)> {
    let mut v = Vec::new();
    for s in 0..sessions {
        for k in 0..per {
            let addr = if s % 4 == 0 {
                "203.0.113.10".to_string() // a NAT address for every 4th
            } else {
                format!("198.51.{}.{}", s % 50, s + 1)
            };
            v.push((f64::from(s) * 3.0 + f64::from(k) * 7.0, s, addr));
        }
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

const T0: &str = "2026-03-02T09:00:00Z";

fn at(t: f64) -> i64 {
    time::iso(T0).unwrap() + (t * 1e9) as i64
}

fn combined_line(t: f64, s: u32, addr: &str) -> String {
    format!(
        r#"{addr} - - [{}] "GET /p/{s} HTTP/1.1" 200 10 "-" "agent {s}""#,
        time::format_clf(at(t))
    )
}

fn alb_line(t: f64, s: u32, addr: &str) -> String {
    format!(
        r#"https {} app/lb/50dc6c495c0c9188 {addr}:{} 10.0.0.1:80 0.001 0.0{:02} 0.000 200 200 0 57 "GET https://shop.example.com:443/p/{s} HTTP/1.1" "agent {s}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "shop.example.com" "-" 1 {} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#,
        time::format_iso(at(t) + 40_000_000),
        40_000 + s,
        s % 50 + 1,
        time::format_iso(at(t)),
    )
}

fn jsonl_line(t: f64, s: u32, addr: &str) -> String {
    format!(
        r#"{{"ts":"{}","client":"{addr}:{}","method":"GET","uri":"/p/{s}","ua":"agent","sid":"u{s}","rt":{}}}"#,
        time::format_iso(at(t)),
        40_000 + s,
        10 + s % 30
    )
}

const JSONL_KEYS: &str = r#"fields = { time = "ts", client = "client", request = "", method = "method", path = "uri", user_agent = "ua", service_time = "rt", service_time_unit = "ms" }, session = { field = "sid" }"#;

#[test]
fn combined_alb_and_jsonl_logs_replay_through_every_strategy() {
    let plan = plan(40, 6);
    for (format, line, keys) in [
        (
            "combined",
            combined_line as fn(f64, u32, &str) -> String,
            "",
        ),
        ("alb", alb_line, ""),
        ("jsonl", jsonl_line, JSONL_KEYS),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text: String = plan
            .iter()
            .map(|(t, s, a)| line(*t, *s, a) + "\n")
            .collect();
        fs::write(dir.path().join("access.log"), text).unwrap();
        let keys = if keys.is_empty() {
            String::new()
        } else {
            format!(", {keys}")
        };
        let p = scenario(
            dir.path(),
            &format!(r#"log = "access.log", format = "{format}"{keys}"#),
            600,
            EVERY_KIND,
        );
        let sc = load(&p);
        let runs = run_all(&sc);
        assert_eq!(runs.len(), 11);
        for o in &runs {
            let s = &o.summary;
            assert_eq!(s.requests, plan.len() as u64, "{format} {}", s.strategy);
            assert_eq!(s.sessions, 40, "{format} {}", s.strategy);
            assert_requests_conserved(s);
            assert_eq!(s.completed, s.requests, "{format} {}: {s:?}", s.strategy);
            let st = o.replay.as_ref().unwrap();
            assert_eq!((st.lines, st.valid, st.replayed), (240, 240, 240));
            let from_log = if format == "combined" { 0 } else { 240 };
            assert_eq!(st.service_from_log, from_log, "{format}");
        }
        // Round robin scatters sessions, a cookie keeps them.
        let lost = |name: &str| {
            runs.iter()
                .find(|o| o.summary.strategy == name)
                .unwrap()
                .summary
                .sessions_lost
        };
        assert!(lost("rr") > 20, "{format}: {}", lost("rr"));
        assert_eq!(lost("cookie"), 0, "{format}");
        assert_eq!(lost("ip"), 0, "{format}");
    }
}

/// `stickysim run SCENARIO --out DIR --quiet`, its exit code and stderr.
fn run_cli(p: &Path, out: &Path) -> (i32, String) {
    let o = bin()
        .arg("run")
        .arg(p)
        .arg("--out")
        .arg(out)
        .arg("--no-charts")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const TWO: &str = r#"
[[strategies]]
name = "rr"
kind = "round_robin"
[[strategies]]
name = "cookie"
kind = "lb_cookie"
"#;

fn log_with_bad_lines(dir: &Path) -> usize {
    let plan = plan(10, 3);
    let mut lines: Vec<String> = plan
        .iter()
        .map(|(t, s, a)| combined_line(*t, *s, a))
        .collect();
    lines.insert(2, "this is not a log line".into());
    lines.insert(
        6,
        r#"192.0.2.1 - - [02/Mar/2026:09:00:10 +0000] "GET / HTTP/1.1" 2xx 5"#.into(),
    );
    fs::write(dir.join("access.log"), lines.join("\n") + "\n").unwrap();
    plan.len()
}

#[test]
fn bad_lines_are_skipped_counted_and_the_first_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let valid = log_with_bad_lines(dir.path());
    let p = scenario(dir.path(), r#"log = "access.log""#, 600, TWO);
    let out = dir.path().join("res");
    let (code, err) = run_cli(&p, &out);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 bad lines skipped (of 32)"), "{err}");
    assert!(
        err.contains("line 3: client address (%h): expected an IP address, found `this`"),
        "{err}"
    );
    assert!(err.contains("line 7: status (%>s)"), "{err}");
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Replayed from the access log `access.log`"),
        "{report}"
    );
    assert!(
        report.contains("32 read, 30 replayed, 2 bad and skipped"),
        "{report}"
    );
    assert!(report.contains("line 3: client address"), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let facts = &json["scenario_facts"]["replay"];
    assert_eq!(facts["skipped"], 2, "{facts}");
    for s in json["strategies"].as_array().unwrap() {
        assert_eq!(s["requests"], valid as u64, "{s}");
    }
}

#[test]
fn strict_makes_a_bad_line_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    log_with_bad_lines(dir.path());
    let p = scenario(dir.path(), r#"log = "access.log", strict = true"#, 600, TWO);
    let out = dir.path().join("res");
    let (code, err) = run_cli(&p, &out);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("access.log: line 3: client address (%h)"),
        "{err}"
    );
    assert!(err.contains("strict = true"), "{err}");
    let written = fs::read_dir(&out).map_or(0, |d| {
        d.filter(|e| e.as_ref().unwrap().file_name() != ".lock")
            .count()
    });
    assert_eq!(written, 0, "strict wrote files");
}

#[test]
fn a_gzip_log_replays_as_the_plain_one_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read(shop_log()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    fs::write(dir.path().join("shop.log.gz"), &gz).unwrap();
    fs::write(dir.path().join("shop.log.1"), &gz).unwrap();
    fs::write(dir.path().join("shop.log"), &text).unwrap();
    let summaries = |log: &str| {
        let p = scenario(dir.path(), &format!(r#"log = "{log}""#), 3600, TWO);
        let runs = run_all(&load(&p));
        let st = runs[0].replay.clone().unwrap();
        (runs.into_iter().map(|o| o.summary).collect::<Vec<_>>(), st)
    };
    let (plain, st) = summaries("shop.log");
    assert_eq!(st.lines, 4024);
    for log in ["shop.log.gz", "shop.log.1"] {
        let (z, zst) = summaries(log);
        assert_eq!(zst, st, "{log}");
        for (a, b) in plain.iter().zip(&z) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{log}");
        }
    }
}

/// Every event of a replay of `text` with `keys`.
fn events(dir: &Path, text: &str, keys: &str, duration: u32) -> (Vec<ReplayEvent>, ReplaySource) {
    fs::write(dir.join("access.log"), text).unwrap();
    let p = scenario(dir, &format!(r#"log = "access.log"{keys}"#), duration, TWO);
    let sc = load(&p);
    let mut src = ReplaySource::new(
        sc.workload.replay.as_ref().unwrap(),
        sc.simulation.duration_ns,
    );
    let mut v = Vec::new();
    while let Some(ev) = src.next_due(u64::MAX) {
        v.push(ev);
    }
    (v, src)
}

fn request_times(ev: &[ReplayEvent]) -> Vec<u64> {
    ev.iter()
        .filter_map(|e| match e {
            ReplayEvent::Request { t, .. } => Some(*t),
            _ => None,
        })
        .collect()
}

#[test]
fn out_of_order_lines_are_sorted_within_the_window_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(10, 3);
    let mut lines: Vec<String> = plan
        .iter()
        .map(|(t, s, a)| combined_line(*t, *s, a))
        .collect();
    // Two lines written 2 s late (inside a 5 s window), one 60 s late.
    lines.swap(4, 5);
    lines.swap(10, 11);
    let late = lines.remove(3);
    lines.insert(20, late);
    let text = lines.join("\n") + "\n";
    let (ev, src) = events(dir.path(), &text, ", reorder_window = 5", 600);
    let times = request_times(&ev);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(ev.windows(2).all(|w| w[0].t() <= w[1].t()));
    let st = &src.stats;
    assert_eq!(st.reordered, 2, "{st:?}");
    assert_eq!(st.late, 1, "{st:?}");
    assert_eq!(st.replayed, plan.len() as u64 - 1);
    assert_eq!(times.len() as u64, st.replayed);
    // A wide enough window takes the late line too.
    let (_, src) = events(dir.path(), &text, ", reorder_window = 120", 600);
    assert_eq!((src.stats.late, src.stats.replayed), (0, plan.len() as u64));
    assert_eq!(src.stats.reordered, 3);
}

#[test]
fn exclude_leaves_out_matching_paths_and_user_agents() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(shop_log()).unwrap();
    let bots = text.lines().filter(|l| l.contains(BOT_UA)).count() as u64;
    let health = text.lines().filter(|l| l.contains(HEALTH_PATH)).count() as u64;
    assert!(bots > 100 && health > 100);
    let (_, all) = events(dir.path(), &text, "", 3600);
    let (_, no_bot) = events(
        dir.path(),
        &text,
        r#", exclude = { user_agent = ["(?i)bot"] }"#,
        3600,
    );
    let (_, neither) = events(
        dir.path(),
        &text,
        r#", exclude = { user_agent = ["(?i)bot"], path = ["^/healthz$"] }"#,
        3600,
    );
    assert_eq!(all.stats.excluded, 0);
    assert_eq!(no_bot.stats.excluded, bots);
    assert_eq!(neither.stats.excluded, bots + health);
    assert_eq!(all.stats.replayed - neither.stats.replayed, bots + health);
}

#[test]
fn speed_compresses_time_and_scale_copies_sessions_from_distinct_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(20, 4);
    let text: String = plan
        .iter()
        .map(|(t, s, a)| combined_line(*t, *s, a) + "\n")
        .collect();
    let (base, b) = events(dir.path(), &text, "", 600);
    let (fast, f) = events(dir.path(), &text, ", speed = 4", 600);
    let (bt, ft) = (request_times(&base), request_times(&fast));
    assert_eq!(bt.len(), ft.len());
    for (x, y) in bt.iter().zip(&ft) {
        assert_eq!(*x, y * 4, "4× faster");
    }
    assert_eq!(f.stats.sessions, b.stats.sessions);
    // A run of a quarter the length holds the whole log at speed 4, not at 1.
    let (quarter, q) = events(dir.path(), &text, "", 40);
    assert!(request_times(&quarter).len() < bt.len());
    assert!(q.stats.outside > 0);
    let (_, qf) = events(dir.path(), &text, ", speed = 4", 40);
    assert_eq!(qf.stats.replayed, plan.len() as u64);

    let (scaled, s) = events(dir.path(), &text, ", scale = 3", 600);
    assert_eq!(request_times(&scaled).len(), 3 * bt.len());
    assert_eq!(s.stats.sessions, 3 * b.stats.sessions);
    let addrs = |ev: &[ReplayEvent]| -> BTreeSet<String> {
        ev.iter()
            .filter_map(|e| match e {
                ReplayEvent::Request { addr, .. } => Some(addr.to_string()),
                _ => None,
            })
            .collect()
    };
    let (one, three) = (addrs(&base), addrs(&scaled));
    assert_eq!(three.len(), 3 * one.len(), "distinct addresses per copy");
    // The NAT address stays one address per copy: each copy's busiest
    // address carries the same requests as the original's.
    let busiest = |ev: &[ReplayEvent], copy: Option<u32>| {
        let mut n = std::collections::BTreeMap::<String, usize>::new();
        for e in ev {
            if let ReplayEvent::Request { addr, slot, .. } = e {
                if copy.is_none_or(|c| slot % 3 == c) {
                    *n.entry(addr.to_string()).or_default() += 1;
                }
            }
        }
        n.into_values().max().unwrap()
    };
    for c in 0..3 {
        assert_eq!(busiest(&scaled, Some(c)), busiest(&base, None), "copy {c}");
    }
}

#[test]
fn cookie_identity_counts_an_address_change_as_churn() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for k in 0..6 {
        // Session u1 moves address half-way (a phone leaving Wi-Fi).
        let addr = if k < 3 {
            "198.51.100.1"
        } else {
            "203.0.113.99"
        };
        lines.push(jsonl_line(f64::from(k) * 10.0, 1, addr));
    }
    let text = lines.join("\n") + "\n";
    fs::write(dir.path().join("access.log"), &text).unwrap();
    let strategies = "[[strategies]]\nname = \"ip\"\nkind = \"source_ip\"\nhash = \"maglev\"\n";
    let p = scenario(
        dir.path(),
        &format!(r#"log = "access.log", format = "jsonl", {JSONL_KEYS}"#),
        600,
        strategies,
    );
    let sc = load(&p);
    let runs = run_all(&sc);
    let st = runs[0].replay.as_ref().unwrap();
    assert_eq!((st.sessions, st.address_changes), (1, 1));
    // Whether the move costs the session depends on where the two
    // addresses hash; if it does, the cause is the address change.
    let s = &runs[0].summary;
    assert_eq!(s.sessions_lost, s.lost_ip_change);
}

/// The error `stickysim validate|run` prints (exit 2) for a scenario
/// replaying `text` with `keys`.
fn fails(text: &[u8], keys: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("access.log"), text).unwrap();
    let p = scenario(
        dir.path(),
        &format!(r#"log = "access.log"{keys}"#),
        600,
        TWO,
    );
    let out = dir.path().join("res");
    let (code, err) = run_cli(&p, &out);
    assert_eq!(code, 2, "{err}");
    assert!(!out.join("summary.csv").exists());
    err
}

#[test]
fn replay_errors_name_the_key_the_file_and_the_format() {
    let line = combined_line(0.0, 1, "192.0.2.1") + "\n";
    let err = fails(b"", "");
    assert!(
        err.contains("access.log: the log has no lines (format `combined`)"),
        "{err}"
    );
    let err = fails(line.as_bytes(), r#", format = "alb""#);
    assert!(err.contains("no line parsed as format `alb`"), "{err}");
    assert!(
        err.contains("1 line read, the first: line 1: line: expected at least 14 ALB fields"),
        "{err}"
    );
    let err = fails(line.as_bytes(), r#", format = "jsonl""#);
    assert!(
        err.contains("format `jsonl` (see `workload.replay.fields`"),
        "{err}"
    );
    let err = fails(line.as_bytes(), r#", from = "2027-01-01T00:00:00Z""#);
    assert!(
        err.contains("none of the 1 parsed lines falls in the replay window"),
        "{err}"
    );
    let err = fails(line.as_bytes(), r#", format = "apache""#);
    assert!(err.contains("`workload.replay.format`"), "{err}");
    assert!(err.contains("`combined`"), "{err}");
    let err = fails(line.as_bytes(), r#", session = { field = "sid" }"#);
    assert!(err.contains("`workload.replay.session.field`"), "{err}");
    assert!(err.contains("only with format `jsonl`"), "{err}");
    let err = fails(line.as_bytes(), r#", exclude = { path = ["(unclosed"] }"#);
    assert!(err.contains("`workload.replay.exclude.path[0]`"), "{err}");
    assert!(
        err.contains("expected a regular expression, found `(unclosed`"),
        "{err}"
    );
    let err = fails(line.as_bytes(), r#", scale = 0"#);
    assert!(err.contains("`workload.replay.scale`"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let p = scenario(dir.path(), r#"log = "missing.log""#, 600, TWO);
    let err = String::from_utf8(
        bin()
            .arg("validate")
            .arg(&p)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(err.contains("`workload.replay.log`"), "{err}");
    assert!(err.contains("expected a readable log file"), "{err}");
    assert!(err.contains("missing.log"), "{err}");
    // Without a replay, the synthetic keys are still required.
    let s = fs::read_to_string(crate::common::data("tiny.toml")).unwrap();
    fs::write(
        dir.path().join("t.toml"),
        s.replace("session_rate = 2.0\n", ""),
    )
    .unwrap();
    let err = String::from_utf8(
        bin()
            .arg("validate")
            .arg(dir.path().join("t.toml"))
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(err.contains("`workload.session_rate`"), "{err}");
    assert!(
        err.contains("required key `session_rate` is missing"),
        "{err}"
    );
}

#[test]
fn the_bundled_replay_counts_every_valid_line_in_the_window() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/replay.toml");
    let sc = stickysim::scenario::load(&p, &["simulation.warmup=0".into()]).unwrap();
    let text = fs::read_to_string(shop_log()).unwrap();
    let parser = stickysim::replay::Parser::new(
        stickysim::replay::Format::Combined,
        Default::default(),
        None,
    );
    let valid = text
        .lines()
        .filter(|l| parser.parse(l).is_ok())
        .filter(|l| !l.contains(BOT_UA) && !l.contains("\"GET /healthz "))
        .count() as u64;
    for o in run_all(&sc) {
        assert_eq!(o.summary.requests, valid, "{}", o.summary.strategy);
        let st = o.replay.unwrap();
        assert_eq!((st.skipped, st.first_bad[0].0), (1, 1001));
        assert!(st.reordered > 20, "{st:?}");
    }
}

/// The round trip: a synthetic run's own traffic, written as a log and
/// replayed, gives the same session loss and imbalance as the synthetic
/// runs, within their intervals.
#[test]
fn replaying_a_runs_own_traffic_gives_the_same_loss_and_imbalance() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = r#"[simulation]
duration = 1200
warmup = 120
seed = 11
[workload]
session_rate = 2.0
requests_per_session = { dist = "geometric", mean = 8 }
think_time = { dist = "exponential", mean = 10 }
service_time = { dist = "lognormal", mean = 0.05, cv = 1.0 }
[[clients]]
name = "home"
share = 0.6
users = 2000
[[clients]]
name = "office"
share = 0.3
users = 400
network = "nat"
users_per_ip = 100
[[clients]]
name = "mobile"
share = 0.1
users = 500
network = "cgnat"
users_per_ip = 20
ip_change_rate = 0.01
[backends]
count = 4
workers = 2
[[strategies]]
name = "rr"
kind = "round_robin"
[[strategies]]
name = "cookie"
kind = "lb_cookie"
ttl = 120
[[strategies]]
name = "ip"
kind = "source_ip"
hash = "maglev"
[[strategies]]
name = "table"
kind = "source_ip_table"
timeout = 60
"#;
    let reps = 6u64;
    let metrics = ["sessions_lost_pct", "imbalance_util_max_over_mean"];
    let value = |o: &RunOutput, m: &str| -> f64 {
        let v = serde_json::to_value(&o.summary).unwrap();
        v[m].as_f64().unwrap()
    };
    // Per strategy and metric: synthetic and replayed values, one per seed.
    let mut syn = vec![vec![Vec::new(); metrics.len()]; 4];
    let mut rep = syn.clone();
    for r in 0..reps {
        let set = [format!("simulation.seed={}", 11 + r)];
        let sc = stickysim::scenario::from_str(synthetic, "syn.toml", "syn", &set).unwrap();
        let log = run_strategy_logged(&sc, 0).access;
        let mut text = Vec::new();
        write_log(&mut text, &log, LogFormat::Jsonl).unwrap();
        fs::write(dir.path().join("own.jsonl"), &text).unwrap();
        let st = "service_time = { dist = \"lognormal\", mean = 0.05, cv = 1.0 }\n";
        let replay = synthetic.replacen(
            st,
            &format!("{st}replay = {{ log = \"own.jsonl\", format = \"jsonl\", session = {{ field = \"session\" }}, from = \"2026-01-01T00:00:00Z\" }}\n"),
            1,
        );
        let p = dir.path().join("rep.toml");
        fs::write(&p, replay).unwrap();
        let rsc = stickysim::scenario::load(&p, &set).unwrap();
        let (a, b) = (run_all(&sc), run_all(&rsc));
        for s in 0..4 {
            // The log is strategy 0's requests.
            assert_eq!(b[s].summary.requests, a[0].summary.requests, "seed {r}");
            for (k, m) in metrics.iter().enumerate() {
                syn[s][k].push(value(&a[s], m));
                rep[s][k].push(value(&b[s], m));
            }
        }
    }
    for s in 0..4 {
        for (k, m) in metrics.iter().enumerate() {
            let (ms, hs) = mean_ci95(&syn[s][k]);
            let (mr, hr) = mean_ci95(&rep[s][k]);
            assert!(
                (ms - mr).abs() <= hs.max(hr),
                "strategy {s} {m}: synthetic {ms:.3} ± {hs:.3}, replayed {mr:.3} ± {hr:.3}"
            );
        }
    }
}

#[test]
fn a_sweep_checks_its_replayed_log_before_running() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("access.log"), "not a log line\n").unwrap();
    let p = scenario(dir.path(), r#"log = "access.log""#, 600, TWO);
    let out = dir.path().join("sweep");
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--param", "workload.replay.speed=1,2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no line parsed as format `combined`"), "{err}");
    assert!(!out.exists(), "the sweep wrote {}", out.display());
}

/// `stickysim traffic` streams each request to the file as the run sends
/// it; the file is byte for byte what writing the whole run's requests at
/// once (`run_strategy_logged` + `write_log`, the former code path) gives,
/// plain and gzip, in both formats.
#[test]
fn traffic_streams_the_same_bytes_as_writing_the_whole_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = crate::common::data("tiny.toml");
    let sc = stickysim::scenario::load(&tiny, &[]).unwrap();
    let kept = run_strategy_logged(&sc, 1).access;
    assert!(kept.len() > 1000, "{}", kept.len());
    for (flag, format) in [
        ("jsonl", LogFormat::Jsonl),
        ("combined", LogFormat::Combined),
    ] {
        let mut want = Vec::new();
        write_log(&mut want, &kept, format).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&want).unwrap();
        let want_gz = gz.finish().unwrap();
        for (name, want) in [("t.log", &want), ("t.log.gz", &want_gz)] {
            let out = dir.path().join(format!("{flag}-{name}"));
            bin()
                .arg("traffic")
                .arg(&tiny)
                .args(["--strategy", "cookie", "--format", flag, "--out"])
                .arg(&out)
                .assert()
                .success()
                .stderr(predicates::str::contains(format!(
                    "({} requests",
                    kept.len()
                )));
            assert!(fs::read(&out).unwrap() == *want, "{flag} {name} differs");
        }
    }
    // Nothing but the logs is left in the directory (no temporary file).
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
}
