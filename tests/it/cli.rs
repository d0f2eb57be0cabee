//! The binary as a user meets it: `run`, `validate`, exit codes, and the
//! bad-input errors (one paragraph naming file, key, expected and found;
//! exit status 2; no panic; no partial output).

use crate::common::{assert_same_bytes, bin, check_golden, data, run_tiny};
use predicates::prelude::*;
use std::fs;
use std::path::Path;

#[test]
fn run_writes_summary_backends_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let a = run_tiny(&out, &[]).success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let csv = fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("strategy,kind,sticky,requests,"));
    assert!(lines[0].ends_with(",scenario,seed,scenario_hash"));
    // One row per strategy, and each is named in the stdout table.
    for row in &lines[1..] {
        let name = row.split(',').next().unwrap();
        assert!(stdout.contains(name), "{name} missing from\n{stdout}");
    }
    assert!(lines.len() >= 3);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        json["strategies"].as_array().unwrap().len(),
        lines.len() - 1
    );
    let backends = fs::read_to_string(out.join("backends.csv")).unwrap();
    assert!(backends.starts_with("strategy,backend,t_start_s,t_end_s,requests,busy_s,utilisation,"));
    assert!(backends.lines().count() > lines.len());
}

#[test]
fn same_seed_gives_byte_identical_files_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_tiny(&a, &[]).success();
    run_tiny(&b, &[]).success();
    run_tiny(&c, &["--seed", "99"]).success();
    let files = ["summary.csv", "summary.json", "backends.csv"];
    assert_same_bytes(&a, &b, files, "between identical runs");
    assert_ne!(
        fs::read(a.join("summary.csv")).unwrap(),
        fs::read(c.join("summary.csv")).unwrap()
    );
}

#[test]
fn strategy_filter_and_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let a = run_tiny(&out, &["--json", "--strategy", "rr"]).success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let strategies = json["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 1);
    assert_eq!(strategies[0]["strategy"], "rr");
    run_tiny(&out, &["--strategy", "nope"]).code(2).stderr(
        predicate::str::contains("no strategy named `nope`").and(predicate::str::contains("rr")),
    );
}

#[test]
fn set_overrides_are_applied_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--set", "workload.session_rate=-3"])
        .code(2)
        .stderr(predicate::str::contains("session_rate"));
    assert!(!out.exists(), "no output on a config error");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    run_tiny(&a, &[]).success();
    run_tiny(&b, &["--set", "workload.session_rate=1"]).success();
    assert_ne!(
        fs::read(a.join("summary.csv")).unwrap(),
        fs::read(b.join("summary.csv")).unwrap()
    );
}

#[test]
fn validate_accepts_the_bundled_scenarios() {
    for f in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue; // scenarios/logs/: the replay example's log
        }
        bin()
            .arg("validate")
            .arg(&p)
            .assert()
            .success()
            .stdout(predicate::str::starts_with("ok: "));
    }
}

/// Each bad input: exit 2, the file named, the key named, a hint of what
/// was expected; never a panic, never output.
#[test]
fn bad_inputs_get_one_clear_error() {
    let cases: &[(&str, &[&str])] = &[
        ("syntax_error.toml", &["syntax_error.toml:4:10", "syntax"]),
        ("unknown_key.toml", &["did you mean"]),
        ("wrong_type.toml", &["expected"]),
        ("negative_rate.toml", &["session_rate"]),
        ("zero_duration.toml", &["duration"]),
        ("shares_not_one.toml", &["share"]),
        ("warmup_ge_duration.toml", &["warmup"]),
        ("unknown_kind.toml", &["round_robin"]),
        ("duplicate_names.toml", &["duplicate"]),
        ("fault_unknown_backend.toml", &["b0"]),
        ("bad_dist.toml", &["dist"]),
        ("key_not_for_kind.toml", &["does not apply"]),
    ];
    for (file, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("res");
        let path = data("bad").join(file);
        let a = bin()
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains(file),
            "{file}: error does not name the file:\n{err}"
        );
        for n in *needles {
            assert!(
                err.to_lowercase().contains(&n.to_lowercase()),
                "{file}: error lacks `{n}`:\n{err}"
            );
        }
        assert!(!err.contains("panicked"), "{file}: panicked:\n{err}");
        assert!(!out.exists(), "{file}: output written despite the error");
        bin().arg("validate").arg(&path).assert().code(2);
    }
    bin()
        .args(["run", "does/not/exist.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does/not/exist.toml"));
}

#[test]
fn usage_errors_exit_2() {
    bin().arg("frobnicate").assert().code(2);
    bin().arg("run").assert().code(2);
}

#[test]
fn one_thread_or_many_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (one, many) = (dir.path().join("one"), dir.path().join("many"));
    for (out, threads) in [(&one, "1"), (&many, "3")] {
        bin()
            .env("RAYON_NUM_THREADS", threads)
            .arg("run")
            .arg(data("tiny.toml"))
            .arg("--out")
            .arg(out)
            .arg("-q")
            .assert()
            .success();
    }
    let files = ["summary.csv", "summary.json", "backends.csv"];
    assert_same_bytes(&one, &many, files, "between 1 and 3 threads");
}

/// The stdout table of `stickysim run tests/data/tiny.toml` (without
/// `--quiet`'s silence on progress, which goes to stderr) is a golden file:
/// a change to what a user reads first must be deliberate.
#[test]
fn golden_stdout_table_of_tiny() {
    let dir = tempfile::tempdir().unwrap();
    let a = bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .arg("--out")
        .arg(dir.path().join("res"))
        .arg("--no-charts")
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    // The files line names the temporary directory: keep the table.
    let table: String = stdout
        .lines()
        .filter(|l| !l.contains(dir.path().to_str().unwrap()))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(table.starts_with("scenario tiny (seed "), "{table}");
    check_golden("tiny_stdout.txt", &table, "golden_stdout_table_of_tiny");
}

/// `--help` of the binary and of each subcommand are golden files.
#[test]
fn golden_help() {
    for sub in [
        "", "run", "sweep", "merge", "report", "validate", "route", "compare",
    ] {
        let mut cmd = bin();
        if !sub.is_empty() {
            cmd.arg(sub);
        }
        let a = cmd.arg("--help").assert().success();
        let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        assert!(text.contains("Usage: stickysim"), "{text}");
        let name = if sub.is_empty() {
            "help.txt".to_string()
        } else {
            format!("help_{sub}.txt")
        };
        check_golden(&name, &text, "golden_help");
    }
}

#[test]
fn run_dry_run_prints_an_estimate_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    // Without --out the default `results/<name>` is relative to the cwd.
    let a = bin()
        .current_dir(dir.path())
        .arg("run")
        .arg(data("tiny.toml"))
        .args(["--dry-run", "--jobs", "2"])
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    for part in [
        "nothing simulated, nothing written",
        "engine events",
        "active sessions",
        "CPU: about",
        "wall: about",
        "peak memory: about",
        "on 2 threads",
    ] {
        assert!(stdout.contains(part), "{part} missing from\n{stdout}");
    }
    bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .arg("--dry-run")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "wrote files");
    // --jobs means nothing without --dry-run.
    bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .args(["--jobs", "2", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists());
}

#[test]
fn run_dry_run_scales_with_the_scenario() {
    // The requests of `per run: S sessions, R requests, …`.
    let requests = |sets: &[&str]| -> f64 {
        let mut cmd = bin();
        cmd.arg("run").arg(data("tiny.toml")).arg("--dry-run");
        for s in sets {
            cmd.args(["--set", s]);
        }
        let a = cmd.assert().success();
        let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        let line = text.lines().find(|l| l.starts_with("per run:")).unwrap();
        let field = line.split(", ").nth(1).unwrap();
        assert!(field.ends_with(" requests"), "{line}");
        field.split(' ').next().unwrap().parse().unwrap()
    };
    let base = requests(&[]);
    assert!(base > 0.0);
    // Twice the time: twice the sessions, and the ones cut short by the end
    // of the run weigh less.
    let longer = requests(&["simulation.duration=1200"]);
    assert!(
        (2.0 - 1e-9..3.0).contains(&(longer / base)),
        "{base} → {longer}"
    );
    let busier = requests(&["workload.session_rate=20"]);
    assert!((busier / base - 10.0).abs() < 1e-9, "{base} → {busier}");
}
