//! Messages that point at the cause (F14 of the adversarial pass): each
//! names the real key or flag, what was expected and what was found.

use crate::common::{bin, data, run_tiny};
use std::fs;

/// stderr of `stickysim ARGS…` that exits with 2.
fn fails(args: &[&str]) -> String {
    let out = bin().args(args).assert().code(2);
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

fn tiny() -> String {
    data("tiny.toml").display().to_string()
}

#[test]
fn f14_seed_beyond_a_toml_integer_names_the_seed_flag_not_a_set() {
    for cmd in ["run", "sweep"] {
        let err = fails(&[cmd, &tiny(), "--seed", "18446744073709551615"]);
        assert!(err.contains("--seed"), "{err}");
        assert!(err.contains("0..=9223372036854775807"), "{err}");
        assert!(
            !err.contains("--set") && !err.contains("found string"),
            "{err}"
        );
    }
}

#[test]
fn f14_a_range_written_with_exponents_keeps_its_precision() {
    let out = bin()
        .args([
            "sweep",
            &tiny(),
            "--param",
            "workload.session_rate=1e-3..5e-3:1e-3",
        ])
        .args(["--dry-run"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(
        text.contains("0.001, 0.002, 0.003, 0.004, 0.005"),
        "not `0.0` twice: {text}"
    );
}

#[test]
fn f14_gamma_with_a_tiny_cv_names_cv() {
    let err = fails(&[
        "validate",
        &tiny(),
        "--set",
        r#"workload.service_time={dist="gamma",mean=0.05,cv=1e-200}"#,
    ]);
    assert!(err.contains("`workload.service_time.cv`"), "{err}");
    assert!(err.contains("`cv` = 1e-200 is out of range"), "{err}");
    assert!(!err.contains("scale is not positive"), "{err}");
}

#[test]
fn f14_a_toml_date_time_is_called_a_date_time_not_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("d.toml");
    let text = fs::read_to_string(data("tiny.toml")).unwrap();
    fs::write(&f, text.replace("duration = 600", "duration = 1979-05-27")).unwrap();
    let err = fails(&["validate", f.to_str().unwrap()]);
    assert!(err.contains("`simulation.duration`"), "{err}");
    assert!(err.contains("TOML date-time `1979-05-27`"), "{err}");
    assert!(!err.contains("found a table"), "{err}");
}

#[test]
fn f14_validate_builds_the_files_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    let text = fs::read_to_string(data("tiny.toml")).unwrap();
    fs::write(
        &f,
        format!("{text}\n[sweep]\nparams = {{ \"workload.session_rate\" = [1, \"x\"] }}\n"),
    )
    .unwrap();
    let err = fails(&["validate", f.to_str().unwrap()]);
    assert!(err.contains("workload.session_rate=x"), "{err}");
    assert!(err.contains("expected a number"), "{err}");
}

#[test]
fn f14_a_csv_cut_mid_line_says_so_not_another_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_tiny(&run, &["--no-charts"]).success();
    let events = fs::read(run.join("events.csv")).unwrap();
    // Cut inside the last column (the scenario hash) of a row.
    let cut = events.len() - 5;
    fs::write(run.join("events.csv"), &events[..cut]).unwrap();
    let err = fails(&["report", run.to_str().unwrap(), "--quiet"]);
    assert!(err.contains("events.csv"), "{err}");
    assert!(err.contains("ends in the middle of this line"), "{err}");
    assert!(!err.contains("another run"), "{err}");
}

#[test]
fn f14_a_263_digit_number_is_not_echoed_in_full() {
    let digits = "9".repeat(263);
    let err = fails(&[
        "validate",
        &tiny(),
        "--set",
        &format!("workload.session_rate=\"{digits}\""),
    ]);
    assert!(err.contains("`workload.session_rate`"), "{err}");
    assert!(!err.contains(&"9".repeat(120)), "{err}");
    assert!(err.contains("characters)"), "{err}");
}

#[test]
fn f14_out_naming_a_file_names_the_flag_and_the_path_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("results.csv");
    fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    let err = fails(&["run", &tiny(), "--quiet", "--out", f]);
    assert!(err.contains("give --out a directory"), "{err}");
    assert_eq!(err.matches("results.csv").count(), 1, "{err}");
    assert!(!err.contains("File exists"), "{err}");
    assert_eq!(err.matches("writing").count(), 1, "{err}");
}

#[test]
fn f14_merge_out_naming_a_file_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard");
    bin()
        .args(["sweep", &tiny(), "--replications", "1", "--quiet", "--out"])
        .arg(&shard)
        .assert()
        .success();
    let file = dir.path().join("merged.txt");
    fs::write(&file, "x").unwrap();
    let err = fails(&[
        "merge",
        shard.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(err.contains("give --out a directory"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
}

#[test]
fn f14_a_utf16_file_gets_an_encoding_hint() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("u16.toml");
    let text = fs::read_to_string(data("tiny.toml")).unwrap();
    let mut bytes = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    fs::write(&f, bytes).unwrap();
    let err = fails(&["validate", f.to_str().unwrap()]);
    assert!(
        err.contains("UTF-16") && err.contains("save it as UTF-8"),
        "{err}"
    );
}

#[test]
fn f14_table_size_range_is_checked_before_primality() {
    let err = fails(&[
        "validate",
        &tiny(),
        "--set",
        "strategies.ip.hash=\"maglev\"",
        "--set",
        // The largest prime below 2^63: trial division took seconds.
        "strategies.ip.table_size=9223372036854775783",
    ]);
    assert!(err.contains("`strategies[2].table_size`"), "{err}");
    assert!(err.contains("5000011"), "{err}");
}

#[test]
fn f14_a_duplicate_made_by_set_is_blamed_on_the_set() {
    let err = fails(&["validate", &tiny(), "--set", "strategies.ip.name=rr"]);
    assert!(err.contains("`strategies[2].name`"), "{err}");
    assert!(
        err.contains("set by `--set strategies.ip.name=rr`"),
        "{err}"
    );
    assert!(
        err.contains("tiny.toml: `strategies[2].name`"),
        "no file line: {err}"
    );
}

#[test]
fn f14_zero_simulated_sessions_give_no_recommendation() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_tiny(
        &run,
        &["--no-charts", "--set", "workload.session_rate=1e-9"],
    )
    .success();
    let md = fs::read_to_string(run.join("report.md")).unwrap();
    assert!(
        md.contains("No recommendation: the run simulated no sessions"),
        "{md}"
    );
    assert!(!md.contains("Recommended:"), "{md}");
}

#[test]
fn f14_slurm_array_step_0_is_refused_not_shown_as_step_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["sweep", &tiny(), "--replications", "1", "--quiet", "--out"])
        .arg(dir.path().join("s"))
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_STEP", "0")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(err.contains("SLURM_ARRAY_TASK_STEP"), "{err}");
    assert!(err.contains("at least 1, found 0"), "{err}");
}
