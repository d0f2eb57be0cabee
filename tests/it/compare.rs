//! `stickysim compare DIR_A DIR_B`: two runs of `tiny.toml` with different
//! `--set` — the comparison names the change, tests differences on paired
//! (same seed and replications) or Welch intervals, writes `compare.md`,
//! prints JSON, gates with `--fail-if-worse`, and refuses bad input with
//! exit 2.

use crate::common::{bin, run_tiny};
use predicates::prelude::*;
use std::fs;
use std::path::Path;

/// A 300 s run of tiny.toml with `extra` flags into `out`.
fn run(out: &Path, extra: &[&str]) {
    let mut args = vec!["--no-charts", "--set", "simulation.duration=300"];
    args.extend_from_slice(extra);
    run_tiny(out, &args).success();
}

fn compare(a: &Path, b: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("compare")
        .arg(a)
        .arg(b)
        .arg("--quiet")
        .args(extra)
        .assert()
}

#[test]
fn compare_names_the_change_and_gates_on_a_worse_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run(&a, &["--replications", "3"]);
    // Four times the sessions on the same two backends: the hottest
    // backend is busier in every replication.
    run(
        &b,
        &["--replications", "3", "--set", "workload.session_rate=8"],
    );

    let out = compare(&a, &b, &["--fail-if-worse", "util_max"])
        .code(1)
        .stderr(predicate::str::contains(
            "B is worse than A on util_max for rr",
        ))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("--set workload.session_rate: (the scenario file's) → 8"),
        "{text}"
    );
    assert!(text.contains("intervals: paired"), "{text}");
    assert!(text.contains("--fail-if-worse util_max: FAIL"), "{text}");
    let md = fs::read_to_string(b.join("compare.md")).unwrap();
    assert!(
        md.contains("| --set workload.session_rate | (the scenario file's) | 8 |"),
        "{md}"
    );
    assert!(md.contains("| `util_max` |"), "{md}");
    let html = fs::read_to_string(b.join("compare.html")).unwrap();
    assert!(html.contains("<code>util_max</code>"), "{html}");
    assert!(html.contains("Content-Security-Policy"));

    // The other way round B is the lighter run: not worse, exit 0.
    let other = tmp.path().join("ba.md");
    bin()
        .arg("compare")
        .arg(&b)
        .arg(&a)
        .args(["--quiet", "--fail-if-worse", "util_max", "--out"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::contains("--fail-if-worse util_max: pass"));
    assert!(other.exists(), "--out FILE is written");

    // A run against itself: nothing differs, nothing is worse.
    bin()
        .arg("compare")
        .arg(&a)
        .arg(&a)
        .args(["--quiet", "--fail-if-worse", "sessions_lost_pct", "--out"])
        .arg(tmp.path().join("aa.md"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "inputs: the same scenario, overrides, seed and replications",
        ))
        .stdout(predicate::str::contains("same"));
}

#[test]
fn compare_json_parses_and_says_which_interval_it_used() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    run(&a, &["--replications", "2"]);
    // Another seed: the replications are independent, so Welch.
    run(
        &b,
        &[
            "--replications",
            "2",
            "--seed",
            "7",
            "--strategy",
            "rr",
            "--strategy",
            "cookie",
        ],
    );
    run(&c, &[]);
    let out = compare(&a, &b, &["--json", "--column", "sessions_lost_pct"])
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["method"], "welch");
    assert_eq!(j["only_in_a"], serde_json::json!(["ip"]));
    let inputs: Vec<&str> = j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["what"].as_str().unwrap())
        .collect();
    assert!(inputs.contains(&"seed"), "{inputs:?}");
    let rr = &j["strategies"][0];
    assert_eq!(rr["strategy"], "rr");
    let col = &rr["columns"][0];
    assert_eq!(col["column"], "sessions_lost_pct");
    assert!(col["diff_hw"].as_f64().unwrap() > 0.0);
    let diff = col["b"].as_f64().unwrap() - col["a"].as_f64().unwrap();
    assert!((col["diff"].as_f64().unwrap() - diff).abs() < 1e-9);

    // One replication in A: no interval, and it says so.
    let out = compare(&c, &a, &["--json"])
        .success()
        .get_output()
        .stdout
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["method"], "none");
    assert!(j["method_reason"]
        .as_str()
        .unwrap()
        .contains("no intervals"));
}

#[test]
fn compare_refuses_bad_input_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    run(&a, &[]);
    let missing = tmp.path().join("nope");
    compare(&a, &missing, &[])
        .code(2)
        .stderr(predicate::str::contains("DIR_B"))
        .stderr(predicate::str::contains("no such directory"));
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    compare(&empty, &a, &[])
        .code(2)
        .stderr(predicate::str::contains(
            "not a results directory: it has no summary.json",
        ));
    compare(&a, &a, &["--fail-if-worse", "sessions_lost_pc"])
        .code(2)
        .stderr(predicate::str::contains(
            "unknown column `sessions_lost_pc` (did you mean `sessions_lost_pct`?)",
        ));
    compare(&a, &a, &["--fail-if-worse", "requests"])
        .code(2)
        .stderr(predicate::str::contains("has no better direction"));
    // A damaged summary.csv is named with its file.
    let bad = tmp.path().join("bad");
    fs::create_dir(&bad).unwrap();
    for f in ["summary.json", "backends.csv"] {
        fs::copy(a.join(f), bad.join(f)).unwrap();
    }
    fs::write(bad.join("summary.csv"), "strategy\nx\n").unwrap();
    compare(&a, &bad, &[])
        .code(2)
        .stderr(predicate::str::contains("summary.csv"));
    assert!(!bad.join("compare.md").exists());
    assert!(!bad.join("compare.html").exists());
}
