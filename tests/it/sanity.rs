//! `validate` prints the scenario's own arithmetic (offered load per
//! worker) and warns, on stderr, about numbers that cannot mean what they
//! say; durations with units work on the command line.

use crate::common::{bin, data};
use predicates::prelude::*;

#[test]
fn validate_prints_the_offered_load_per_worker() {
    // tiny.toml: 2 sessions/s × 5 requests × 0.05 s = 0.5 s of service per
    // second on 2 backends × 2 workers: ρ = 0.125.
    bin()
        .arg("validate")
        .arg(data("tiny.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "offered load per worker: ρ = 0.12",
        ))
        .stderr(predicate::str::contains("overload").not());
}

#[test]
fn service_time_in_milliseconds_typed_as_seconds_warns_of_overload() {
    bin()
        .arg("validate")
        .arg(data("tiny.toml"))
        .args(["--set", "workload.service_time.mean=200"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ρ = 500.00"))
        .stderr(predicate::str::contains("warning: overload"))
        .stderr(predicate::str::contains(
            "did you mean 0.200 s? service times are seconds",
        ));
}

#[test]
fn durations_with_units_work_with_set_and_bad_ones_exit_2() {
    bin()
        .arg("validate")
        .arg(data("tiny.toml"))
        .args([
            "--set",
            "simulation.duration=2h",
            "--set",
            "simulation.warmup=5m",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("7200 s (300 s warm-up)"));
    bin()
        .arg("validate")
        .arg(data("tiny.toml"))
        .args(["--set", "simulation.duration=2 fortnights"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("simulation.duration"))
        .stderr(predicate::str::contains("\"2h\""));
}

#[test]
fn a_shortened_run_drops_the_crash_past_its_end_with_a_warning() {
    // tiny.toml crashes b1 at 300 s; a 250 s run cannot hold it.
    bin()
        .arg("validate")
        .arg(data("tiny.toml"))
        .args(["--set", "simulation.duration=250"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: dropped faults[0] (crash): it starts at 300 s",
        ));
}

#[test]
fn service_time_in_milliseconds_typed_as_seconds_warns_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    crate::common::run_tiny(
        &out,
        &[
            "--no-charts",
            "--set",
            "workload.service_time.mean=200",
            "--set",
            "simulation.duration=200",
        ],
    )
    .success();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let warnings = md
        .split("## Warnings")
        .nth(1)
        .unwrap_or_else(|| panic!("no Warnings section: {md}"));
    let section = warnings.split("\n## ").next().unwrap();
    assert!(section.contains("overload"), "{section}");
    assert!(
        section.contains("did you mean 0.200 s? service times are seconds"),
        "{section}"
    );
}
