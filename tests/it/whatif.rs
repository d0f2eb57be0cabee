//! Safe what-ifs and sweep sharing: `--set`/`--seed` recorded in
//! `summary.json` and `report.md`; a run of another scenario hash refused
//! (or, with `--force`, the previous results moved aside, never lost); a
//! sweep runs the strategies no parameter affects once per replication,
//! with the same per-cell numbers as the unshared plan; `--dry-run`.

use crate::common::bin;
use std::fs;
use std::path::{Path, PathBuf};

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.toml")
}

fn run(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("run")
        .arg(tiny())
        .args(["--quiet", "--no-charts", "--set", "simulation.duration=300"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn overrides_and_seed_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    run(&out, &["--set", "workload.session_rate=3", "--seed", "7"]).success();
    let s = summary(&out);
    assert_eq!(
        s["overrides"],
        serde_json::json!([
            "simulation.duration=300",
            "workload.session_rate=3",
            "simulation.seed=7"
        ])
    );
    assert_eq!(s["seed"], 7);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let top: String = md.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(top.contains("`workload.session_rate=3`"), "{top}");
    assert!(top.contains("`simulation.seed=7`"), "{top}");
}

#[test]
fn another_scenario_hash_is_refused_and_force_keeps_the_previous_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    run(&out, &[]).success();
    let first = fs::read(out.join("summary.json")).unwrap();
    let first_hash = summary(&out)["scenario_hash"].as_str().unwrap().to_string();

    // The same scenario again: allowed, same bytes.
    run(&out, &[]).success();
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), first);

    // Another --set: refused, naming the directory and both fixes; nothing touched.
    let refused = run(&out, &["--set", "workload.session_rate=3"]).failure();
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(err.contains(&out.display().to_string()), "{err}");
    assert!(
        err.contains("--out DIR") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), first);

    // --force: the previous results move aside, whole, and the new run writes.
    run(&out, &["--set", "workload.session_rate=3", "--force"]).success();
    let aside = tmp.path().join(format!("r.{first_hash}"));
    assert_eq!(fs::read(aside.join("summary.json")).unwrap(), first);
    assert!(aside.join("report.md").is_file());
    assert_ne!(summary(&out)["scenario_hash"].as_str().unwrap(), first_hash);
}

fn sweep(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("sweep")
        .arg(tiny())
        .args([
            "--param",
            "strategies.cookie.ttl=60,600,3600",
            "--replications",
            "2",
            "--set",
            "simulation.duration=300",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// `sweep.csv` rows without the `shared` column, and that column.
fn rows_and_shared(dir: &Path) -> (Vec<String>, Vec<String>) {
    let text = fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = head.iter().position(|h| *h == "shared").unwrap();
    let (mut rows, mut shared) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut cells: Vec<&str> = line.split(',').collect();
        shared.push(cells.remove(col).to_string());
        rows.push(cells.join(","));
    }
    (rows, shared)
}

#[test]
fn strategies_a_parameter_cannot_affect_run_once_with_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("shared"), tmp.path().join("all"));
    sweep(&a, &["--jobs", "2"]).success();
    sweep(&b, &["--no-share", "--jobs", "1"]).success();
    // 3 TTLs × 3 strategies × 2 replications = 18 cells; rr and ip run once
    // per replication: 3 × 2 (cookie) + 2 × 2 = 10 runs, 17 lines with the header.
    let log = |d: &Path| {
        fs::read_to_string(d.join("runs.jsonl"))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!((log(&a), log(&b)), (1 + 10, 1 + 18));
    let ((rows_a, shared_a), (rows_b, shared_b)) = (rows_and_shared(&a), rows_and_shared(&b));
    assert_eq!(
        rows_a, rows_b,
        "every cell's numbers are those of the unshared plan"
    );
    assert_eq!(rows_a.len(), 1 + 18);
    assert!(shared_b[1..].iter().all(|s| s == "false"));
    for (row, shared) in rows_a[1..].iter().zip(&shared_a[1..]) {
        let strategy = row.split(',').nth(1).unwrap();
        assert_eq!(shared == "true", strategy != "cookie", "{row}");
    }
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let a = sweep(&out, &["--dry-run"]).success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(text.contains("= 18 cells"), "{text}");
    assert!(text.contains("runs: 10 (8 saved by sharing)"), "{text}");
    assert!(text.contains("shared: rr, ip"), "{text}");
    assert!(text.contains("estimate: about"), "{text}");
    assert!(!out.exists(), "a dry run writes nothing");
}

#[test]
fn shards_of_a_shared_sweep_merge_into_the_whole_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]).success();
    let mut dirs = Vec::new();
    for k in 1..=3 {
        let d = tmp.path().join(format!("s{k}"));
        sweep(&d, &["--shard", &format!("{k}/3")]).success();
        dirs.push(d);
    }
    let merged = tmp.path().join("merged");
    bin()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    for f in ["sweep.csv", "sweep_summary.csv", "runs.jsonl"] {
        assert!(
            fs::read(whole.join(f)).unwrap() == fs::read(merged.join(f)).unwrap(),
            "{f} differs"
        );
    }
}
