//! Bounded inputs, safe names and text, validated read-back: every
//! reproducer of the adversarial pass (F03, F05–F07, F09–F13, F15) as a
//! regression test, named after what it guards. Input reproducers live in
//! `tests/data/limits/` (and in the fuzz corpus).

use crate::common::{bin, data, run_tiny};
use std::fs;
use std::path::{Path, PathBuf};

fn limits(name: &str) -> PathBuf {
    data("limits").join(name)
}

/// `stickysim validate FILE` fails with exit 2 and its stderr contains
/// every one of `parts`; returns stderr.
fn refused(file: &str, parts: &[&str]) -> String {
    let out = bin()
        .arg("validate")
        .arg(limits(file))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for p in parts {
        assert!(err.contains(p), "{file}: expected {p:?} in:\n{err}");
    }
    err
}

/// `stickysim validate tests/data/tiny.toml --set …` fails with exit 2
/// naming every one of `parts`.
fn set_refused(sets: &[&str], parts: &[&str]) -> String {
    let mut c = bin();
    c.arg("validate").arg(data("tiny.toml"));
    for s in sets {
        c.arg("--set").arg(s);
    }
    let out = c
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for p in parts {
        assert!(err.contains(p), "{sets:?}: expected {p:?} in:\n{err}");
    }
    err
}

#[test]
fn f05_a_65536_character_strategy_name_is_refused_and_not_echoed_in_full() {
    let err = refused(
        "f05_long_strategy_name.toml",
        &["`strategies[0].name`", "1 to 64", "(65536 characters)"],
    );
    assert!(err.len() < 600, "the name is cut: {} bytes", err.len());
}

#[test]
fn f06_a_huge_batch_size_is_refused_before_allocating() {
    refused(
        "f06_batch_size.toml",
        &[
            "`deploys[0].batch_size`",
            "from 1 to 10000",
            "found 4294967295",
        ],
    );
}

#[test]
fn f06_huge_worker_counts_are_refused() {
    refused(
        "f06_workers.toml",
        &["`backends.workers`", "from 1 to 4096", "found 4294967295"],
    );
}

#[test]
fn f07_a_client_name_with_markup_and_control_bytes_is_refused_and_shown_escaped() {
    let err = refused("f07_client_name.toml", &["`clients[0].name`", "\\u{a}"]);
    assert!(!err.contains('\u{7}') && !err.contains('\u{1b}'), "{err:?}");
    assert!(!err.contains("\n## Recommendation"), "{err}");
}

#[test]
fn f07_a_question_with_markup_reaches_report_md_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    bin()
        .arg("run")
        .arg(limits("f07_question.toml"))
        .args(["--quiet", "--no-charts", "--out"])
        .arg(&out)
        .assert()
        .success();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let q = md
        .lines()
        .find(|l| l.starts_with("**Question:**"))
        .expect("the question is shown");
    assert!(q.contains("Which?\\u{a}\\#\\# Recommendation: evil"), "{q}");
    assert!(q.contains("\\<script\\>"), "{q}");
    assert!(!md.contains("<script>") && !md.contains("<!--"), "raw HTML");
    assert!(
        !md.lines().any(|l| l.starts_with("## Recommendation: evil")),
        "no injected heading"
    );
    assert!(
        !md.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters"
    );
    // `check` prints the question on a terminal: controls escaped.
    let o = bin()
        .arg("check")
        .arg(limits("f07_question.toml"))
        .arg("--quiet")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("question: Which?\\u{a}"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
}

#[test]
fn f10_a_geometric_mean_of_2e16_is_refused_at_once() {
    refused(
        "f10_geometric_mean.toml",
        &[
            "`workload.requests_per_session.mean`",
            "from 1 to 1e9",
            "found 20000000000000000",
        ],
    );
    set_refused(
        &[r#"workload.think_time={dist="geometric",mean=2e16}"#],
        &["`workload.think_time.mean`", "1e9"],
    );
}

#[test]
fn f11_periods_of_a_nanosecond_are_refused() {
    refused(
        "f11_profile_period.toml",
        &[
            "`workload.profile_period`",
            "at least 1 s",
            "found 0.000000001 s",
        ],
    );
    refused(
        "f11_evaluation_period.toml",
        &["`autoscaling.evaluation_period`", "at least 1 s"],
    );
}

#[test]
fn f11_zero_time_requests_by_the_billion_are_caught_by_the_events_bound() {
    refused(
        "f11_zero_time_sessions.toml",
        &[
            "`workload.session_rate`",
            "at most 1e6 simulated events",
            "requests_per_session",
        ],
    );
}

#[test]
fn f11_route_table_size_near_u64_max_is_range_checked_before_the_primality_test() {
    bin()
        .args([
            "route",
            "--hash",
            "maglev",
            "--backends",
            "10.0.0.1:80",
            "--table-size",
            "18446744073709551557",
            "192.0.2.1",
        ])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--table-size: expected a prime number up to 5000011",
        ));
}

#[test]
fn primality_near_u64_max_does_not_overflow() {
    // 2^64 − 59 is the largest 64-bit prime; `d * d` in u64 overflowed.
    assert!(!stickysim::routing::is_prime(u64::MAX));
    assert!(!stickysim::routing::is_prime(u64::MAX - 1));
    assert!(stickysim::routing::is_prime(4_294_967_291)); // largest 32-bit prime
    assert!(stickysim::routing::is_prime(65_537));
}

#[test]
fn f12_backends_times_buckets_is_refused_with_a_memory_estimate() {
    refused(
        "f12_backend_buckets.toml",
        &[
            "`output.bucket`",
            "this run would need ~1800.0 GB",
            "raise `output.bucket` or lower `backends.count`",
        ],
    );
    refused(
        "f12_small_bucket.toml",
        &[
            "`output.bucket`",
            "~7.2 GB",
            "40 backends × 100000 buckets × 3 strategies",
        ],
    );
}

#[test]
fn f12_a_session_rate_of_1e7_is_refused_by_the_events_bound() {
    refused(
        "f12_session_rate.toml",
        &[
            "`workload.session_rate`",
            "at most 1e6 simulated events per simulated second",
        ],
    );
}

#[test]
fn f12_a_sweep_grid_of_ten_million_runs_is_refused_before_planning() {
    refused(
        "f12_sweep_grid.toml",
        &["at most 100000 grid points", "1000 × 1000"],
    );
}

#[test]
fn f12_route_ketama_rings_beyond_2_pow_24_points_are_refused() {
    let backends: Vec<String> = (0..2000)
        .map(|i| format!("10.0.{}.{}:80", i / 250, i % 250))
        .collect();
    let weights = vec!["256"; 2000];
    bin()
        .args(["route", "--hash", "ketama", "--backends"])
        .arg(backends.join(","))
        .arg("--weights")
        .arg(weights.join(","))
        .arg("192.0.2.1")
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--weights: expected at most 16777216 ring points",
        ))
        .stderr(predicates::str::contains("found 81920000"));
}

#[test]
fn f13_a_grid_of_2_pow_64_points_does_not_wrap_to_zero_runs() {
    refused(
        "f13_grid_wraps.toml",
        &["at most 100000 grid points", "4096 × 4096"],
    );
    // The same grid from flags, through `sweep` itself.
    bin()
        .arg("sweep")
        .arg(data("tiny.toml"))
        .args([
            "--param",
            "workload.session_rate=1..4096",
            "--param",
            "backends.count=1..4096",
            "--param",
            "backends.workers=1..4096",
            "--param",
            "backends.queue_limit=1..4096",
            "--param",
            "clients.home.users=1..4096",
            "--param",
            "strategies.cookie.ttl=1..16",
            "--dry-run",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("at most 100000 grid points"));
}

#[test]
fn f15_more_than_64_zones_are_refused() {
    refused(
        "f15_zones.toml",
        &["`backends.zones`", "at most 64 zones", "found 65"],
    );
}

#[test]
fn f15_zone_uniqueness_names_the_first_duplicate() {
    set_refused(
        &[r#"backends.zones=["a","b","c","b"]"#],
        &["`backends.zones[3]`", "found `b` again (first at zones[1])"],
    );
}

/// A finished tiny run in a temporary directory.
fn tiny_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_tiny(&out, &["--no-charts"]).success();
    (dir, out)
}

/// `stickysim report DIR` fails with exit 2 naming each of `parts`.
fn report_refused(dir: &Path, parts: &[&str]) {
    let out = bin()
        .arg("report")
        .arg(dir)
        .arg("--quiet")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for p in parts {
        assert!(err.contains(p), "expected {p:?} in:\n{err}");
    }
}

/// `backends.csv` with the first data row's backend replaced by `b`.
fn with_backend(dir: &Path, b: &str) {
    let path = dir.join("backends.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header.iter().position(|h| *h == "backend").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[col] = b.to_string();
    lines[1] = cells.join(",");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn f03_a_backend_index_of_u32_max_is_refused_naming_file_line_and_column() {
    let (_d, run) = tiny_run();
    with_backend(&run, "b4294967295");
    report_refused(&run, &["backends.csv", "line 2", "backend", "b4294967295"]);
}

#[test]
fn f03_a_backend_index_that_would_allocate_103_gb_is_refused() {
    let (_d, run) = tiny_run();
    with_backend(&run, "b4294967294");
    report_refused(&run, &["backends.csv", "line 2", "below b20000"]);
}

#[test]
fn report_refuses_a_strategy_name_outside_the_name_rule_in_summary_csv() {
    let (_d, run) = tiny_run();
    for f in [
        "summary.csv",
        "backends.csv",
        "replications.csv",
        "events.csv",
        "instances.csv",
    ] {
        let p = run.join(f);
        if let Ok(t) = fs::read_to_string(&p) {
            fs::write(
                &p,
                t.replace(",rr,", ",../rr,").replace("\nrr,", "\n../rr,"),
            )
            .unwrap();
        }
    }
    report_refused(&run, &["summary.csv", "line 2", "strategy", "1 to 64"]);
}

/// A finished one-shard sweep of tiny.toml.
fn tiny_sweep(root: &Path) -> PathBuf {
    let out = root.join("shard");
    bin()
        .arg("sweep")
        .arg(data("tiny.toml"))
        .args(["--replications", "1", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn f09_merge_refuses_a_strategy_name_with_a_path_and_writes_nothing_outside_out() {
    let dir = tempfile::tempdir().unwrap();
    let shard = tiny_sweep(dir.path());
    let log = shard.join("runs.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    fs::write(
        &log,
        text.replace("\"rr\"", "\"../../evil\"")
            .replace("/rr\"", "/../../evil\""),
    )
    .unwrap();
    let merged = dir.path().join("merged");
    let out = bin()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&merged)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("runs.jsonl") && err.contains("line 1"),
        "{err}"
    );
    assert!(
        err.contains("`strategies[0]`") && err.contains("../../evil"),
        "{err}"
    );
    let mut stray = Vec::new();
    for e in walk(dir.path()) {
        if e.to_string_lossy().contains("evil") {
            stray.push(e);
        }
    }
    assert!(
        stray.is_empty(),
        "files named after the crafted name: {stray:?}"
    );
}

#[test]
fn f09_merge_refuses_a_record_whose_strategy_is_not_the_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let shard = tiny_sweep(dir.path());
    let log = shard.join("runs.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let rest = rest.replacen("\"strategy\":\"rr\"", "\"strategy\":\"zz\"", 1);
    fs::write(&log, format!("{head}\n{rest}")).unwrap();
    let out = bin()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("line 2") && err.contains("field `strategy`"),
        "{err}"
    );
}

#[test]
fn a_crafted_log_whose_grid_overflows_is_refused_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let shard = tiny_sweep(dir.path());
    let log = shard.join("runs.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(head).unwrap();
    let values: Vec<String> = (0..65536).map(|i| i.to_string()).collect();
    let param = serde_json::json!({ "key": "workload.session_rate", "values": values });
    meta["params"] = serde_json::json!([param.clone(), param.clone(), param.clone(), param]);
    fs::write(&log, format!("{meta}\n{rest}")).unwrap();
    let out = bin()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(dir.path().join("m"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("line 1") && err.contains("field `params`"),
        "{err}"
    );
    assert!(err.contains("more than 2^64"), "{err}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
