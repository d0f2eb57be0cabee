//! What a command-line user expects besides the simulation: shell
//! completions, a man page, examples in `--help`, a version that names the
//! build.

use crate::common::bin;

/// Every subcommand a user can type (clap's own `help` aside).
const SUBCOMMANDS: [&str; 13] = [
    "run",
    "check",
    "validate",
    "sweep",
    "merge",
    "report",
    "route",
    "import",
    "export",
    "fit",
    "completions",
    "man",
    "init",
];

fn stdout_of(args: &[&str]) -> String {
    let a = bin().args(args).assert().success();
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

#[test]
fn bash_completion_completes_subcommands_and_the_strategy_flag() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("complete -F _stickysim"), "{script}");
    for sub in SUBCOMMANDS {
        assert!(
            script.contains(&format!("stickysim__{sub}"))
                || script.contains(&format!("stickysim,{sub}")),
            "no completion case for `{sub}`"
        );
    }
    assert!(
        script.contains("--strategy"),
        "no --strategy in the bash completion"
    );
    assert!(script.contains("--param"));
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("validate"), "{shell}: {script}");
        assert!(script.contains("strategy"), "{shell}: {script}");
    }
    bin().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_has_the_standard_sections_and_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    assert!(page.contains("\n.TH stickysim 1 "));
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "EXAMPLES",
    ] {
        assert!(page.contains(&format!("\n.SH {section}\n")), "no {section}");
    }
    for sub in SUBCOMMANDS {
        let heading = format!("\n.SH \"STICKYSIM {}\"\n", sub.to_uppercase());
        assert!(page.contains(&heading), "no section for `{sub}`");
        // Each subcommand's own synopsis, in bold, as roff spells it.
        assert!(page.contains(&format!("\\fBstickysim {sub}\\fR")), "{sub}");
    }
    // Options are there, with roff's minus signs.
    assert!(page.contains("\\-\\-strategy"));
    // Examples are unfilled (one command a line) and never taken for requests.
    assert!(page.contains(".nf\nstickysim validate scenarios/checkout.toml\n"));
    for line in page.lines() {
        assert!(
            !line.starts_with("stickysim.") && !line.starts_with('\''),
            "{line}"
        );
    }
}

#[test]
fn every_subcommand_help_ends_with_examples_of_itself() {
    for sub in SUBCOMMANDS {
        let help = stdout_of(&[sub, "--help"]);
        let (_, examples) = help
            .split_once("\nExamples:\n")
            .unwrap_or_else(|| panic!("`{sub} --help` has no examples:\n{help}"));
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{sub}");
        for l in lines {
            assert!(
                l.contains(&format!("stickysim {sub}")),
                "`{sub}` example `{l}`"
            );
        }
    }
    assert!(stdout_of(&["--help"]).contains("\nExamples:\n"));
}

#[test]
fn version_is_the_package_version_and_maybe_the_commit() {
    let v = stdout_of(&["--version"]);
    let rest = v
        .trim_end()
        .strip_prefix(concat!("stickysim ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{v}"));
    // Built from a checkout: ` (abc1234)`; from a tarball: nothing.
    if !rest.is_empty() {
        let commit = rest.strip_prefix(" (").and_then(|r| r.strip_suffix(')'));
        let commit = commit.unwrap_or_else(|| panic!("{v}"));
        assert!(
            commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{v}"
        );
    }
    // In a checkout with git at hand, it is the checkout's commit.
    let root = env!("CARGO_MANIFEST_DIR");
    if std::path::Path::new(root).join(".git").exists() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(root)
            .output();
        if let Some(out) = head.ok().filter(|o| o.status.success()) {
            let head = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(rest.contains(&head), "{v} is not of HEAD {head}");
        }
    }
}

fn json_of(a: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&a.get_output().stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&a.get_output().stdout)))
}

fn bundled(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name),
    )
    .unwrap()
}

/// `cat scenarios/checkout.toml | stickysim validate -`
#[test]
fn validate_reads_the_scenario_from_stdin() {
    let a = bin()
        .args(["validate", "-"])
        .write_stdin(bundled("checkout.toml"))
        .assert()
        .success();
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(out.starts_with("ok: <stdin>: scenario `checkout`"), "{out}");
    // Errors name standard input as the file.
    let a = bin()
        .args(["validate", "-"])
        .write_stdin("[simulation]\nduration = -1\n")
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("<stdin>:"), "{err}");
}

/// `run -` with no `--out` writes under `results/<name>`; a scenario from
/// stdin that names no name is `stdin`.
#[test]
fn run_from_stdin_writes_results_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::common::data("tiny.toml"))
        .unwrap()
        .replace("name = \"tiny\"\n", "");
    bin()
        .current_dir(dir.path())
        .args([
            "run",
            "-",
            "--no-charts",
            "--quiet",
            "--set",
            "simulation.duration=120",
        ])
        .write_stdin(text)
        .assert()
        .success();
    let summary = std::fs::read_to_string(dir.path().join("results/stdin/summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(json["scenario"], "stdin", "{summary}");
}

#[test]
fn validate_json_gives_facts_or_the_error_in_parts() {
    let a = bin()
        .args(["validate", "--json"])
        .arg(crate::common::data("tiny.toml"))
        .assert()
        .success();
    let v = json_of(&a);
    assert_eq!(v["ok"], true);
    assert_eq!(v["scenario"], "tiny");
    assert_eq!(v["backends"], 2);
    assert_eq!(v["strategies"], serde_json::json!(["rr", "cookie", "ip"]));
    assert!(v["offered_load"]["rho"].as_f64().unwrap() > 0.0);
    assert!(v["warnings"].is_array());

    // A misspelt strategy kind: where, which key, expected, found, suggestion.
    let text = std::fs::read_to_string(crate::common::data("tiny.toml"))
        .unwrap()
        .replace("kind = \"source_ip\"", "kind = \"sorce_ip\"");
    let line = text.lines().position(|l| l.contains("sorce_ip")).unwrap() + 1;
    let a = bin()
        .args(["validate", "--json", "-"])
        .write_stdin(text)
        .assert()
        .code(2);
    let e = &json_of(&a)["error"];
    assert_eq!(json_of(&a)["ok"], false);
    assert_eq!(e["kind"], "invalid");
    assert_eq!(e["file"], "<stdin>");
    assert_eq!(e["key"], "strategies[2].kind");
    assert_eq!(e["line"], line);
    assert!(e["column"].as_u64().unwrap() >= 1);
    assert_eq!(e["found"], "`sorce_ip`");
    assert!(
        e["expected"].as_str().unwrap().starts_with("one of "),
        "{e}"
    );
    assert_eq!(e["suggestion"], "source_ip");

    // An unknown key, with the key it probably meant.
    let a = bin()
        .args(["validate", "--json", "-"])
        .write_stdin(bundled("checkout.toml").replace("[backends]\n", "[backends]\ncuont = 3\n"))
        .assert()
        .code(2);
    let e = &json_of(&a)["error"];
    assert_eq!(e["key"], "backends.cuont");
    assert_eq!(e["suggestion"], "count");

    // A wrong type set by a flag names the flag instead of a line.
    let a = bin()
        .args(["validate", "--json", "--set", "workload.session_rate=x"])
        .arg(crate::common::data("tiny.toml"))
        .assert()
        .code(2);
    let e = &json_of(&a)["error"];
    assert_eq!(e["set_by"], "workload.session_rate=x");
    assert_eq!(e["line"], serde_json::Value::Null);
    assert_eq!(e["expected"], "a number");
}

#[test]
fn route_json_has_one_object_per_key_in_order() {
    let args = [
        "route",
        "--hash",
        "maglev",
        "--backends",
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
    ];
    let keys = ["192.0.2.7", "198.51.100.4", "user-42"];
    let plain = stdout_of(&[&args[..], &keys[..]].concat());
    let a = bin().args(args).arg("--json").args(keys).assert().success();
    let v = json_of(&a);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), keys.len());
    for ((obj, key), line) in list.iter().zip(keys).zip(plain.lines()) {
        assert_eq!(obj["key"], key);
        assert_eq!(line, format!("{key} {}", obj["backend"].as_str().unwrap()));
    }
    let a = bin()
        .args(args)
        .args([
            "--down",
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
            "--json",
            "192.0.2.7",
        ])
        .assert()
        .success();
    assert_eq!(json_of(&a)[0]["backend"], serde_json::Value::Null);
}

#[test]
fn sweep_json_prints_the_summary_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let a = bin()
        .arg("sweep")
        .arg(crate::common::data("tiny.toml"))
        .args([
            "--param",
            "backends.count=2,3",
            "--replications",
            "2",
            "--quiet",
            "--json",
        ])
        .args([
            "--set",
            "simulation.duration=120",
            "--strategy",
            "rr",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let v = json_of(&a);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep_summary.json")).unwrap()).unwrap();
    assert_eq!(v, file);
    assert_eq!(v["cells"].as_array().unwrap().len(), 2);
    assert_eq!(v["sweep"]["scenario"], "tiny");
}

/// tiny.toml without its crash, lasting 2 h, plus `extra`.
fn tiny_with(extra: &str) -> String {
    let text = std::fs::read_to_string(crate::common::data("tiny.toml")).unwrap();
    let cut = text.find("[[faults]]").unwrap();
    format!(
        "{}\n{extra}",
        text[..cut].replace("duration = 600", "duration = \"2h\"")
    )
}

fn run_json(text: &str, out: &std::path::Path) -> serde_json::Value {
    let a = bin()
        .args(["run", "-", "--json", "--no-charts", "--quiet", "--out"])
        .arg(out)
        .write_stdin(text.to_string())
        .assert()
        .success();
    json_of(&a)
}

/// A repeating deploy is its copies: same hash, same results; the report
/// says it in one sentence.
#[test]
fn a_deploy_every_20_minutes_is_its_copies_and_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let series = tiny_with(
        "[[deploys]]\nevery = \"20m\"\nfrom = \"20m\"\nuntil = \"100m\"\nboot_time = 30\n\
         [[faults]]\nkind = \"slow\"\nbackend = \"b1\"\nevery = 1800\nfrom = 600\ncount = 2\nduration = 60\nfactor = 3\n",
    );
    let copies: String = (1..=5)
        .map(|k| format!("[[deploys]]\nat = {}\nboot_time = 30\n", k * 1200))
        .chain([600, 2400].map(|at| {
            format!("[[faults]]\nkind = \"slow\"\nbackend = \"b1\"\nat = {at}\nduration = 60\nfactor = 3\n")
        }))
        .collect();
    let copies = tiny_with(&copies);
    let a = run_json(&series, &dir.path().join("series"));
    let b = run_json(&copies, &dir.path().join("copies"));
    assert_eq!(a["scenario_hash"], b["scenario_hash"]);
    assert_eq!(a["strategies"], b["strategies"]);
    let report = std::fs::read_to_string(dir.path().join("series/report.md")).unwrap();
    assert!(
        report.contains(
            "rolling deploy every 20 min from 20 min to 100 min: 5 deploys, in batches of 1"
        ),
        "{report}"
    );
    assert!(report.contains(
        "b1 serves 3× slower from 10 min for 60 s; repeated every 30 min until 40 min: 2 times"
    ));
    assert_eq!(report.matches("rolling deploy").count(), 1);
    let copies_report = std::fs::read_to_string(dir.path().join("copies/report.md")).unwrap();
    assert_eq!(copies_report.matches("rolling deploy at").count(), 5);
}

/// Each mistake in a repeating entry names its key.
#[test]
fn repeating_entries_refuse_mistakes_by_key() {
    let cases = [
        ("[[deploys]]\nevery = \"1h\"\nat = 60\nfrom = 60\n", "deploys[0].at"),
        ("[[deploys]]\nevery = \"1h\"\n", "deploys[0].from"),
        ("[[deploys]]\nat = 60\nuntil = 600\n", "deploys[0].until"),
        ("[[deploys]]\nevery = 0\nfrom = 60\n", "deploys[0].every"),
        ("[[deploys]]\nevery = 60\nfrom = 600\nuntil = 60\n", "deploys[0].until"),
        ("[[deploys]]\nevery = 60\nfrom = 60\ncount = 0\n", "deploys[0].count"),
        ("[[deploys]]\nboot_time = 5\n", "deploys[0].at"),
        // 2 h every 0.5 s: 14,400 copies, past the bound.
        ("[[deploys]]\nevery = 0.5\nfrom = 0\n", "deploys[0].every"),
        ("[[faults]]\nkind = \"random\"\nmtbf = 600\nmttr = 60\nevery = 60\nfrom = 0\n", "faults[0].every"),
        // Crashes of one backend every 10 min that last 20 min overlap.
        (
            "[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nevery = 600\nfrom = 0\nrecover_after = 1200\n",
            "faults[0].at",
        ),
    ];
    for (extra, key) in cases {
        let a = bin()
            .args(["validate", "--json", "-"])
            .write_stdin(tiny_with(extra))
            .assert()
            .code(2);
        let e = &json_of(&a)["error"];
        assert_eq!(e["key"], key, "{extra}: {e}");
    }
    let a = bin()
        .args(["validate", "-"])
        .write_stdin(tiny_with("[[deploys]]\nevery = 0.5\nfrom = 0\n"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("at most 10000 entries, found 14400"), "{err}");
    // Bounded by `count`, the same step is fine.
    bin()
        .args(["validate", "-"])
        .write_stdin(tiny_with("[[deploys]]\nevery = 600\nfrom = 0\ncount = 3\n"))
        .assert()
        .success();
}

/// `init --from checkout x.toml` then `run x.toml` (shortened) works, and
/// the file is the bundled scenario.
#[test]
fn init_from_a_bundled_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.toml");
    bin()
        .args(["init", "--from", "checkout"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        bundled("checkout.toml")
    );
    // Not overwritten without --force.
    bin()
        .args(["init", "--from", "banking"])
        .arg(&file)
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        bundled("checkout.toml")
    );
    bin()
        .arg("run")
        .arg(&file)
        .args([
            "--set",
            "simulation.duration=900",
            "--replications",
            "1",
            "--no-charts",
            "-q",
            "--out",
        ])
        .arg(dir.path().join("res"))
        .assert()
        .success();
    assert!(dir.path().join("res/summary.json").exists());
    let a = bin().args(["init", "--from", "chekout"]).assert().code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("did you mean `checkout`?"), "{err}");
}

/// The flag form works out the rates, says the offered load, and what it
/// writes validates with those numbers.
#[test]
fn init_from_flags_writes_a_scenario_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let a = bin()
        .args([
            "init",
            "--users",
            "20000",
            "--sessions-per-hour",
            "36000",
            "--requests-per-session",
            "6",
        ])
        .args([
            "--service-time",
            "0.04",
            "--backends",
            "6",
            "--workers",
            "2",
            "--nat-share",
            "0.25",
        ])
        .args(["--strategies", "round_robin,source_ip"])
        .arg(&file)
        .assert()
        .success();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    // 10 sessions/s x 6 requests x 0.04 s = 2.4 busy workers of 12: ρ = 0.20.
    assert!(err.contains("ρ = 0.20 (6 backends × 2 workers)"), "{err}");
    let a = bin()
        .args(["validate", "--json"])
        .arg(&file)
        .assert()
        .success();
    let v = json_of(&a);
    assert_eq!(v["scenario"], "mine");
    assert_eq!(v["backends"], 6);
    assert_eq!(v["client_segments"], 2);
    assert_eq!(
        v["strategies"],
        serde_json::json!(["round-robin", "source-ip"])
    );
    assert!((v["offered_load"]["rho"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(v["warnings"], serde_json::json!([]), "{v}");
    // Bad answers are refused by name; nothing is written.
    let bad = dir.path().join("bad.toml");
    bin()
        .args(["init", "--strategies", "sticky"])
        .arg(&bad)
        .assert()
        .code(2);
    bin()
        .args(["init", "--nat-share", "2"])
        .arg(&bad)
        .assert()
        .code(2);
    assert!(!bad.exists());
    // Without a terminal and without flags: the defaults, on stdout.
    let text = stdout_of(&["init"]);
    assert!(text.contains("[[strategies]]"));
}
