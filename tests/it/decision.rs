//! Replications, the verdict and the SLO gate of `stickysim run` and
//! `stickysim check`, on the tiny scenario.

use crate::common::{bin, data, run_tiny};
use std::fs;
use std::path::Path;

/// Reads a CSV file into its header and rows.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn cell<'a>(h: &[String], row: &'a [String], name: &str) -> &'a str {
    &row[h
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("{name}"))]
}

#[test]
fn replications_give_intervals_and_replication_0_is_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let (one, three) = (dir.path().join("one"), dir.path().join("three"));
    run_tiny(&one, &["--no-charts"]).success();
    let out = run_tiny(&three, &["--no-charts", "--replications", "3"]).success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("3 replications: mean ± 95 % half-width"),
        "{stdout}"
    );
    assert!(stdout.lines().nth(2).unwrap().contains(" ± "), "{stdout}");

    let (h, rows) = csv(&three.join("summary.csv"));
    assert!(h.contains(&"sessions_lost_pct_hw95".to_string()));
    assert!(!h.contains(&"strategy_hw95".to_string()));
    let hw: f64 = cell(&h, &rows[0], "latency_p99_ms_hw95").parse().unwrap();
    assert!(hw > 0.0, "three different workloads give a non-zero spread");

    // Replication 0 of the replicated run is the one-replication run.
    let (h1, single) = csv(&one.join("summary.csv"));
    let (hr, reps) = csv(&three.join("replications.csv"));
    assert_eq!(reps.len(), 3 * single.len());
    assert_eq!(&hr[..h1.len() - 3], &h1[..h1.len() - 3]);
    for (r, s) in reps.iter().zip(&single) {
        assert_eq!(cell(&hr, r, "replication"), "0");
        assert_eq!(&r[..h1.len() - 3], &s[..h1.len() - 3]);
    }
    // The series files come from replication 0: identical.
    crate::common::assert_same_bytes(
        &one,
        &three,
        ["backends.csv", "events.csv", "instances.csv"],
        "between replication 0 and the single run",
    );
    // The mean in summary.csv is the mean of the replications' rows.
    let lost: Vec<f64> = reps
        .iter()
        .filter(|r| r[0] == rows[0][0])
        .map(|r| cell(&hr, r, "sessions_lost_pct").parse().unwrap())
        .collect();
    let mean: f64 = cell(&h, &rows[0], "sessions_lost_pct").parse().unwrap();
    assert!((mean - lost.iter().sum::<f64>() / 3.0).abs() < 1e-3);

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(three.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["replications"], 3);
    assert!(
        json["strategies"][0]["hw95"]["latency_p99_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(
        json["decision"]["objective"], "sessions_lost_pct",
        "the decision is recorded for `report DIR`"
    );
}

#[test]
fn the_report_opens_with_the_verdict_and_redraws_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_tiny(&out, &["--no-charts", "--replications", "4"]).success();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let first_section = md.lines().find(|l| l.starts_with("## ")).unwrap();
    assert!(
        first_section == "## Verdict" || first_section == "## Warnings",
        "{first_section}"
    );
    let verdict = &md[md.find("## Verdict").unwrap()..md.find("## The scenario").unwrap()];
    assert!(verdict.contains("**Answer:** Recommended: "), "{verdict}");
    assert!(verdict.contains("Paired differences"), "{verdict}");
    // Every comparison row says how the alternative stands, and the answer
    // names exactly the indistinguishable ones.
    let indist: Vec<&str> = verdict
        .lines()
        .filter(|l| l.ends_with("| indistinguishable |"))
        .map(|l| l.trim_start_matches("| ").split(" |").next().unwrap())
        .collect();
    for name in &indist {
        assert!(
            verdict.contains(&format!("indistinguishable from {name}"))
                || verdict.contains(&format!(", {name}")),
            "{verdict}"
        );
    }
    assert!(
        !md.contains("On the trade-off chart"),
        "no single-sample Pareto claim"
    );

    let before = fs::read(out.join("report.md")).unwrap();
    bin()
        .args(["report", "--no-charts", "-q"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(before, fs::read(out.join("report.md")).unwrap());
}

#[test]
fn one_replication_says_there_is_no_interval() {
    let dir = tempfile::tempdir().unwrap();
    run_tiny(dir.path(), &["--no-charts"]).success();
    let md = fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("One replication: there is no interval"), "{md}");
    assert!(!dir.path().join("replications.csv").exists());
}

#[test]
fn assertions_gate_the_exit_status_and_write_junit() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    // Round robin loses about a third of tiny's sessions.
    let o = bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .arg("--out")
        .arg(dir.path().join("b"))
        .args(["-q", "--no-charts", "--assert", "rr: sessions_lost_pct < 5"])
        .args(["--assert", "all: rejected_pct <= 100", "--junit"])
        .arg(&junit)
        .assert()
        .code(1);
    let stderr = String::from_utf8(o.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("1 of 4 assertions failed"), "{stderr}");
    assert!(stderr.contains("sessions_lost_pct < 5"), "{stderr}");

    let xml = fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match AsRef::<str>::as_ref(&e.name()) {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!((cases, failures), (4, 1));

    // Met: 0. Bad input: 2.
    bin()
        .args(["check", "-q", "--assert", "all: rejected_pct <= 100"])
        .arg(data("tiny.toml"))
        .assert()
        .code(0);
    bin()
        .args(["check", "-q", "--assert", "ghost: util_max < 1"])
        .arg(data("tiny.toml"))
        .assert()
        .code(2);
    bin()
        .args(["run", "-q", "--replications", "0"])
        .arg(data("tiny.toml"))
        .assert()
        .code(2);
}

#[test]
fn check_prints_the_verdict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .current_dir(dir.path())
        .args([
            "check",
            "-q",
            "--replications",
            "2",
            "--assert",
            "rr: sessions_lost_pct < 5",
        ])
        .arg(data("tiny.toml"))
        .assert()
        .code(1);
    let stdout = String::from_utf8(o.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("verdict: Recommended: "), "{stdout}");
    assert!(
        stdout.contains("FAIL rr: sessions_lost_pct < 5"),
        "{stdout}"
    );
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "check writes nothing"
    );
}

#[test]
fn replicated_outputs_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "4"] {
        let out = dir.path().join(threads);
        bin()
            .env("RAYON_NUM_THREADS", threads)
            .arg("run")
            .arg(data("tiny.toml"))
            .arg("--out")
            .arg(&out)
            .args(["-q", "--no-charts", "--replications", "3"])
            .assert()
            .success();
        outs.push(out);
    }
    crate::common::assert_same_bytes(
        &outs[0],
        &outs[1],
        [
            "summary.csv",
            "summary.json",
            "replications.csv",
            "report.md",
            "backends.csv",
        ],
        "between 1 and 4 threads",
    );
}
