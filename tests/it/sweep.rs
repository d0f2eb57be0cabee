//! `stickysim sweep` and `stickysim merge` end to end on tiny sweeps of
//! `tests/data/tiny.toml`: grid expansion, errors before anything runs,
//! determinism across jobs, resume after an interruption, shards merged
//! into exactly the unsharded output, and merge refusals.

use crate::common::files;
use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

const ENV: &[&str] = &[
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "STICKYSIM_SHARD_COUNT",
];

fn bin() -> Command {
    let mut c = crate::common::bin();
    for v in ENV {
        c.env_remove(v);
    }
    c
}

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.toml")
}

/// The test grid: 2 TTLs × 2 backend counts × 3 strategies × 3 replications = 36 runs.
const GRID: &[&str] = &[
    "--param",
    "strategies.cookie.ttl=60,600",
    "--param",
    "backends.count=2..3",
    "--replications",
    "3",
    "--quiet",
];

fn sweep(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("sweep")
        .arg(tiny())
        .args(GRID)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

fn assert_same_files(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "same file names"
    );
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between {a:?} and {b:?}");
    }
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (head, rows)
}

#[test]
fn the_grid_is_expanded_with_ranges_and_common_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let a = sweep(&out, &["--jobs", "2"]).success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("## Recommendation"), "{stdout}");

    let (head, rows) = csv(&out.join("sweep.csv"));
    assert_eq!(
        head[..6],
        [
            "strategies.cookie.ttl",
            "backends.count",
            "strategy",
            "kind",
            "replication",
            "seed"
        ]
    );
    assert!(head.contains(&"sessions_lost_pct".to_string()));
    assert_eq!(rows.len(), 2 * 2 * 3 * 3);
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    // Canonical order: first parameter slowest, then strategy, then replication.
    let firsts: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .step_by(3)
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(firsts[0], ("60", "2", "rr", "0"));
    assert_eq!(firsts[1], ("60", "2", "cookie", "0"));
    assert_eq!(firsts[3], ("60", "3", "rr", "0"));
    assert_eq!(firsts[6], ("600", "2", "rr", "0"));
    // Replication 0 runs with the scenario's seed, the others with their own.
    assert_eq!(rows[0][col("seed")], "42");
    assert_ne!(rows[1][col("seed")], rows[0][col("seed")]);

    // Common random numbers: in one replication every strategy at every grid
    // point sees the same sessions; another replication sees others.
    let sessions = |rep: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[col("replication")] == rep)
            .map(|r| r[col("sessions")].clone())
            .collect()
    };
    let (s0, s1) = (sessions("0"), sessions("1"));
    assert_eq!(s0.len(), 12);
    assert!(s0.iter().all(|s| s == &s0[0]), "{s0:?}");
    assert!(s1.iter().all(|s| s == &s1[0]), "{s1:?}");
    assert_ne!(s0[0], s1[0]);
    // A strategy the swept key does not touch gives identical runs at both
    // TTLs; the rest of the grid does change something.
    let row = |ttl: &str, n: &str, st: &str, rep: &str| {
        rows.iter()
            .find(|r| r[0] == ttl && r[1] == n && r[2] == st && r[4] == rep)
            .unwrap()[6..]
            .to_vec()
    };
    assert_eq!(row("60", "2", "rr", "1"), row("600", "2", "rr", "1"));
    assert_ne!(row("60", "2", "rr", "1"), row("60", "3", "rr", "1"));

    let (shead, srows) = csv(&out.join("sweep_summary.csv"));
    assert_eq!(srows.len(), 2 * 2 * 3);
    assert_eq!(shead[4], "replications");
    assert!(shead.contains(&"sessions_lost_pct_ci95".to_string()));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("sweep_summary.json")).unwrap()).unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 12);
    assert_eq!(json["sweep"]["replications"], 3);
    assert_eq!(json["cells"][0]["params"]["backends.count"], 2);
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Recommendation"));
    assert!(report.contains("Pareto front"));
    for chart in [
        "sweep_tradeoff.png",
        "sweep_sessions_lost_pct_1.png",
        "sweep_heatmap_sessions_lost_pct_cookie.png",
    ] {
        assert!(report.contains(chart), "{chart} not in report.md");
        assert!(fs::read(out.join(chart)).unwrap().starts_with(b"\x89PNG"));
    }
    // report.html: the same report, every chart inlined, the trade-off
    // under the recommendation.
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"recommendation\">"));
    let charts = report.matches("](sweep_").count();
    assert_eq!(
        html.matches("<image ").count(),
        charts,
        "every chart inlined"
    );
    assert!(html.find("id=\"fig-sweep-tradeoff\"") < html.find("id=\"results\""));
}

#[test]
fn summary_means_and_intervals_match_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    sweep(&out, &[]).success();
    let (head, rows) = csv(&out.join("sweep.csv"));
    let col = head.iter().position(|h| h == "latency_mean_ms").unwrap();
    // The three replications of cookie at ttl=600, 3 backends.
    let xs: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == "600" && r[1] == "3" && r[2] == "cookie")
        .map(|r| r[col].parse().unwrap())
        .collect();
    assert_eq!(xs.len(), 3);
    let mean = (xs[0] + xs[1] + xs[2]) / 3.0;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0;
    // t(0.975, 2 degrees of freedom) = 4.302653, from any t table.
    let hw = 4.302_653 * (var / 3.0).sqrt();
    let (shead, srows) = csv(&out.join("sweep_summary.csv"));
    let row = srows
        .iter()
        .find(|r| r[0] == "600" && r[1] == "3" && r[2] == "cookie")
        .unwrap();
    let get = |name: &str| -> f64 {
        row[shead.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    // sweep.csv rounds latencies to 3 decimals; the summary uses full precision.
    assert!((get("latency_mean_ms_mean") - mean).abs() < 1e-3);
    assert!(
        (get("latency_mean_ms_ci95") - hw).abs() < 2e-3,
        "{} vs {hw}",
        get("latency_mean_ms_ci95")
    );
    assert!(hw > 0.0);
}

#[test]
fn one_and_two_jobs_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("j1"), dir.path().join("j2"));
    sweep(&a, &["--jobs", "1"]).success();
    sweep(&b, &["--jobs", "2"]).success();
    assert_same_files(&a, &b);
}

#[test]
fn a_resumed_sweep_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, cut) = (dir.path().join("whole"), dir.path().join("cut"));
    sweep(&whole, &["--jobs", "2"]).success();

    sweep(&cut, &["--jobs", "2", "--stop-after", "7"]).success();
    assert!(!cut.join("sweep.csv").exists(), "no outputs after a stop");
    let log = fs::read_to_string(cut.join("runs.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1 + 7, "the description and 7 runs");
    // As if killed in the middle of writing the next record.
    let torn = log.lines().nth(3).unwrap();
    fs::write(
        cut.join("runs.jsonl"),
        format!("{log}{}", &torn[..torn.len() / 2]),
    )
    .unwrap();

    // Without --resume, the log is not overwritten.
    let refused = sweep(&cut, &[]).code(2);
    assert!(
        stderr(&refused).contains("--resume"),
        "{}",
        stderr(&refused)
    );

    // Resume in two more steps, the second with another thread count.
    sweep(&cut, &["--resume", "--jobs", "1", "--stop-after", "10"]).success();
    assert_eq!(
        fs::read_to_string(cut.join("runs.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1 + 17,
        "the torn line was dropped and 10 runs added"
    );
    sweep(&cut, &["--resume", "--jobs", "2"]).success();
    assert_same_files(&whole, &cut);

    // Resuming a different sweep into the same log is refused.
    let other = bin()
        .arg("sweep")
        .arg(tiny())
        .args([
            "--param",
            "strategies.cookie.ttl=60,900",
            "--quiet",
            "--resume",
        ])
        .arg("--out")
        .arg(&cut)
        .assert()
        .code(2);
    assert!(
        stderr(&other).contains("belongs to another sweep"),
        "{}",
        stderr(&other)
    );
}

#[test]
fn a_log_written_before_decision_and_rho_were_recorded_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut");
    sweep(&cut, &["--stop-after", "3"]).success();
    let log = fs::read_to_string(cut.join("runs.jsonl")).unwrap();
    let (head, rest) = log.split_once('\n').unwrap();
    let mut head: serde_json::Value = serde_json::from_str(head).unwrap();
    let fields = head.as_object_mut().unwrap();
    assert!(fields.remove("rho").is_some(), "the header records rho");
    fields.remove("decision");
    fs::write(cut.join("runs.jsonl"), format!("{head}\n{rest}")).unwrap();
    sweep(&cut, &["--resume"]).success();
    assert!(cut.join("sweep.csv").exists());
}

#[test]
fn shards_merge_into_exactly_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    sweep(&whole, &[]).success();
    let shard = |k: u32| dir.path().join(format!("shard{k}"));
    sweep(&shard(1), &["--shard", "1/3", "--jobs", "2"]).success();
    sweep(&shard(3), &["--shard", "3/3", "--jobs", "1"]).success();
    // Shard 2 from a Slurm job array with ids 0..2.
    bin()
        .arg("sweep")
        .arg(tiny())
        .args(GRID)
        .arg("--out")
        .arg(shard(2))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .assert()
        .success();
    let sizes: Vec<usize> = (1..=3)
        .map(|k| {
            fs::read_to_string(shard(k).join("runs.jsonl"))
                .unwrap()
                .lines()
                .count()
                - 1
        })
        .collect();
    assert_eq!(sizes, [12, 12, 12], "36 runs split evenly");
    assert!(!shard(1).join("sweep.csv").exists(), "a shard only logs");

    let merged = dir.path().join("merged");
    bin()
        .arg("merge")
        .args([shard(3), shard(1), shard(2)])
        .arg("--out")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    assert_same_files(&whole, &merged);
}

#[test]
fn merge_refuses_other_sweeps_missing_and_duplicate_shards() {
    let dir = tempfile::tempdir().unwrap();
    let shard = |k: u32| dir.path().join(format!("shard{k}"));
    for k in 1..=2 {
        sweep(&shard(k), &["--shard", &format!("{k}/2")]).success();
    }
    let merge = |dirs: &[PathBuf]| {
        let a = bin()
            .arg("merge")
            .args(dirs)
            .arg("--out")
            .arg(dir.path().join("merged"))
            .assert()
            .code(2);
        stderr(&a)
    };
    let e = merge(&[shard(1)]);
    assert!(e.contains("missing shard 2/2"), "{e}");
    let e = merge(&[shard(1), shard(1), shard(2)]);
    assert!(e.contains("shard 1/2 is given twice"), "{e}");

    // Shard 2 of another grid.
    let other = dir.path().join("other");
    bin()
        .arg("sweep")
        .arg(tiny())
        .args([
            "--param",
            "strategies.cookie.ttl=60,900",
            "--param",
            "backends.count=2..3",
        ])
        .args(["--replications", "3", "--quiet", "--shard", "2/2", "--out"])
        .arg(&other)
        .assert()
        .success();
    let e = merge(&[shard(1), other.clone()]);
    assert!(e.contains("hold different sweeps"), "{e}");
    assert!(e.contains("grid"), "{e}");
    // Shard 2 of the same grid on another scenario (a different --set).
    let busier = dir.path().join("busier");
    sweep(
        &busier,
        &["--shard", "2/2", "--set", "workload.session_rate=2.5"],
    )
    .success();
    let e = merge(&[shard(1), busier]);
    assert!(e.contains("scenario hash"), "{e}");
    // Nor is another sweep's directory overwritten by a merge.
    let a = bin()
        .arg("merge")
        .args([shard(1), shard(2)])
        .arg("--out")
        .arg(&other)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("already holds another sweep"),
        "{}",
        stderr(&a)
    );

    // An unfinished shard.
    let cut = dir.path().join("cut");
    sweep(&cut, &["--shard", "2/2", "--stop-after", "3"]).success();
    let e = merge(&[shard(1), cut]);
    assert!(e.contains("unfinished: 3 of its 18 runs"), "{e}");

    let e = merge(&[dir.path().join("nothing-here")]);
    assert!(e.contains("no runs.jsonl"), "{e}");
    assert!(!dir.path().join("merged").exists());
}

#[test]
fn bad_parameters_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--param", "strategies.cookie.ttl=60,0"],
            &[
                "grid point strategies.cookie.ttl=0",
                "`strategies[1].ttl`",
                "--param strategies.cookie.ttl=0",
                "found 0",
            ],
        ),
        (
            &["--param", "strategies.nope.ttl=60"],
            &["no strategy named `nope`", "rr, cookie, ip"],
        ),
        (
            &["--param", "backends.count=4..2"],
            &["--param backends.count=4..2", "TO must be >= FROM"],
        ),
        (
            &["--param", "simulation.seed=1,2"],
            &["`simulation.seed` cannot be swept", "--replications"],
        ),
        (&["--param", "backends.count"], &["expected KEY=VALUES"]),
        (
            &["--param", "backends.count=2,2"],
            &["value `2` is listed twice"],
        ),
        (&["--replications", "0"], &["--replications", "expected 1"]),
        (&["--shard", "3/2"], &["K/N", "`3/2`"]),
        (
            &["--strategy", "nope"],
            &["--strategy nope", "no strategy named"],
        ),
        (
            &["--param", "workload.sesion_rate=1,2"],
            &["unknown key `sesion_rate`", "session_rate"],
        ),
    ];
    for (args, says) in cases {
        let a = bin()
            .arg("sweep")
            .arg(tiny())
            .args(*args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let e = stderr(&a);
        for s in *says {
            assert!(e.contains(s), "{args:?}: `{s}` not in: {e}");
        }
        assert!(!e.contains("panicked"), "{e}");
        assert!(!out.exists(), "{args:?} created the output directory");
    }
}

#[test]
fn a_sweep_table_in_the_scenario_file_gives_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(tiny()).unwrap();
    let file = dir.path().join("swept.toml");
    fs::write(
        &file,
        format!(
            "{text}\n[sweep]\nreplications = 2\nparams = {{ \"strategies.cookie.ttl\" = [60, 600], \"backends.count\" = \"2..3\" }}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("s");
    bin()
        .arg("sweep")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (head, rows) = csv(&out.join("sweep.csv"));
    // Parameters of the file come in key order.
    assert_eq!(head[..2], ["backends.count", "strategies.cookie.ttl"]);
    assert_eq!(rows.len(), 2 * 2 * 3 * 2);
    // `run` ignores the table.
    bin()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("run"))
        .assert()
        .success();

    // Errors in the table name the file, the key and the line.
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, format!("{text}\n[sweep]\nreplications = 0\n")).unwrap();
    let lines = text.lines().count();
    let a = bin().arg("sweep").arg(&bad).assert().code(2);
    let e = stderr(&a);
    assert!(e.contains("bad.toml"), "{e}");
    assert!(e.contains("`sweep.replications`"), "{e}");
    assert!(e.contains(&format!(":{}:", lines + 3)), "{e}");
    fs::write(
        &bad,
        format!("{text}\n[sweep]\nparams = {{ \"backends.count\" = 4 }}\n"),
    )
    .unwrap();
    let e = stderr(&bin().arg("sweep").arg(&bad).assert().code(2));
    assert!(e.contains("expected an array of values or a range"), "{e}");
    fs::write(&bad, format!("{text}\n[sweep]\nreplicatons = 3\n")).unwrap();
    let e = stderr(&bin().arg("sweep").arg(&bad).assert().code(2));
    assert!(e.contains("did you mean `replications`"), "{e}");
}
