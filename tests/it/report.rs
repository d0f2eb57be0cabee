//! Reports: the charts are valid PNGs of the configured size, `report.md`
//! repeats `summary.csv` exactly, `stickysim report DIR` redraws the same
//! files without touching the data, a golden `summary.csv`, optional
//! `events.csv` / `instances.csv`, clear errors for bad input files, and
//! files from another run refused.

use crate::common::{self, assert_same_bytes, bin, check_golden, data};
use predicates::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn run_tiny(out: &Path, extra: &[&str]) {
    common::run_tiny(out, extra).success();
}

fn report(dir: &Path) -> assert_cmd::assert::Assert {
    bin().arg("report").arg(dir).arg("--quiet").assert()
}

fn files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn pngs(dir: &Path) -> BTreeSet<String> {
    files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".png"))
        .collect()
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = fs::read(path).unwrap();
    let mut reader = png::Decoder::new(&bytes[..])
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
    // Not a blank image: some pixel differs from the first.
    assert!(
        buf.iter().any(|&b| b != buf[0]),
        "{} is blank",
        path.display()
    );
    (reader.info().width, reader.info().height)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in files(from) {
        fs::copy(from.join(&f), to.join(&f)).unwrap();
    }
}

#[test]
fn a_run_writes_valid_charts_of_the_configured_size_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    let want: BTreeSet<String> = [
        "heatmap.png",
        "latency.png",
        "load.png",
        "loss.png",
        "tradeoff.png",
    ]
    .map(String::from)
    .into();
    // tiny.toml changes no capacity: no instances chart.
    assert_eq!(pngs(&out), want);
    for f in &want {
        assert_eq!(
            png_size(&out.join(f)),
            (
                stickysim::report::charts::WIDTH,
                stickysim::report::charts::HEIGHT
            ),
            "{f}"
        );
        assert_eq!((1600, 900), png_size(&out.join(f)));
    }
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    for f in &want {
        assert!(md.contains(&format!("]({f})")), "report.md embeds {f}");
    }
    for section in [
        "## The scenario",
        "## Findings",
        "## At a glance",
        "## Full results",
        "## Assumptions and limits",
    ] {
        assert!(md.contains(section), "report.md lacks {section}");
    }
    // The scenario facts came through summary.json.
    assert!(
        md.contains("b1 crashes at 5 min, back (empty) 2 min later"),
        "{md}"
    );
    assert!(md.contains("100 users behind 2 NAT addresses"), "{md}");
}

/// The Markdown table under `heading`, as rows of cells.
fn md_table(md: &str, heading: &str) -> Vec<Vec<String>> {
    let start = md.find(heading).expect("the section");
    md[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// `report.md` opens with the verdict, then a short table of the decision
/// columns whose figures are `summary.csv`'s; the full table is linked,
/// not inlined.
#[test]
fn the_report_leads_with_the_verdict_and_links_the_full_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let at = |h: &str| md.find(h).unwrap_or_else(|| panic!("no {h}"));
    assert!(at("## Verdict") < at("## At a glance"));
    assert!(at("## At a glance") < at("## The scenario"));
    assert!(at("## The scenario") < at("## Findings"));
    assert!(md.contains("[`summary.csv`](summary.csv)"));
    assert!(
        !md.contains("| strategy | kind |"),
        "the full table is not inlined"
    );
    let csv: Vec<Vec<String>> = fs::read_to_string(out.join("summary.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let col = |n: &str| csv[0].iter().position(|h| h == n).unwrap();
    let glance = md_table(&md, "## At a glance");
    assert_eq!(
        glance.len(),
        csv.len(),
        "a heading and one row per strategy"
    );
    for (row, g) in csv[1..].iter().zip(&glance[1..]) {
        assert!(g[0].starts_with(&row[col("strategy")]), "{g:?}");
        let lost: f64 = row[col("sessions_lost_pct")].parse().unwrap();
        let shown: f64 = g[1].parse().unwrap();
        assert!((lost - shown).abs() < 0.01, "{lost} vs {shown}");
        let p99: f64 = row[col("latency_p99_ms")].parse().unwrap();
        let shown: f64 = g[4].parse().unwrap();
        assert!(
            (p99 - shown).abs() <= 0.05 * p99.max(1.0),
            "{p99} vs {shown}"
        );
    }
}

#[test]
fn report_redraws_the_same_files_and_leaves_the_data_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    let again = dir.path().join("again");
    copy_dir(&out, &again);
    // Remove the rendered files: `report` must make them from the data alone.
    fs::remove_file(again.join("report.md")).unwrap();
    for f in pngs(&again) {
        fs::remove_file(again.join(f)).unwrap();
    }
    report(&again).success();
    assert_eq!(files(&again), files(&out), "the same set of files");
    assert_same_bytes(&out, &again, files(&out), "between `run` and `report`");
}

#[test]
fn reports_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_tiny(&a, &[]);
    run_tiny(&b, &[]);
    assert_same_bytes(&a, &b, files(&a), "between identical runs");
}

#[test]
fn no_charts_writes_the_report_without_images_and_removes_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    assert!(!pngs(&out).is_empty());
    run_tiny(&out, &["--no-charts"]);
    assert!(pngs(&out).is_empty(), "left: {:?}", pngs(&out));
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains(".png"));
    assert!(md.contains("## Findings"));
}

/// `tests/data/golden/tiny_summary.csv` is `summary.csv` of tiny.toml at
/// its seed, and `tiny_report.md` its `report.md`. A change to either must
/// be deliberate.
#[test]
fn golden_summary_csv_and_report_md_of_tiny() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    let got = fs::read_to_string(out.join("summary.csv")).unwrap();
    let test = "golden_summary_csv_and_report_md_of_tiny";
    check_golden("tiny_summary.csv", &got, test);
    check_golden(
        "tiny_report.md",
        &fs::read_to_string(out.join("report.md")).unwrap(),
        test,
    );
    // The columns are the documented ones.
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/output.md")).unwrap();
    for col in got.lines().next().unwrap().split(',') {
        assert!(
            doc.contains(&format!("`{col}`")),
            "column {col} is not documented in docs/output.md"
        );
    }
    // So are the other CSV files' columns, each in its file's section.
    for file in ["backends.csv", "events.csv", "instances.csv"] {
        let section = doc
            .split(&format!("\n## `{file}`\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("docs/output.md has no section for {file}"));
        let section = section.split("\n## ").next().unwrap();
        let text = fs::read_to_string(out.join(file)).unwrap();
        for col in text.lines().next().unwrap().split(',') {
            assert!(
                section.contains(&format!("`{col}`")),
                "{file}'s column {col} is not documented in its section of docs/output.md"
            );
        }
    }
}

#[test]
fn events_and_instances_files_are_drawn_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    let heatmap_before = fs::read(out.join("heatmap.png")).unwrap();
    fs::write(
        out.join("events.csv"),
        "strategy,time_s,event,backend\n\
         rr,300.000,crash,b1\n\
         rr,335.000,marked_down,b1\n\
         rr,420.000,recover,b1\n\
         rr,500.000,scale_out,\n\
         cookie,300.000,crash,b1\n\
         ip,300.000,crash,b1\n",
    )
    .unwrap();
    let mut inst = String::from("strategy,t_start_s,t_end_s,in_service,provisioned\n");
    for s in ["rr", "cookie", "ip"] {
        for i in 0..60 {
            let (n, p) = if i < 30 {
                (2, 2)
            } else if i < 35 {
                (2, 3)
            } else {
                (3, 3)
            };
            inst.push_str(&format!("{s},{}.000,{}.000,{n},{p}\n", i * 10, i * 10 + 10));
        }
    }
    fs::write(out.join("instances.csv"), inst).unwrap();
    report(&out).success();
    assert!(pngs(&out).contains("instances.png"));
    assert_eq!(png_size(&out.join("instances.png")), (1600, 900));
    assert_ne!(fs::read(out.join("heatmap.png")).unwrap(), heatmap_before);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("](instances.png)"));
    assert!(md.contains("come from `events.csv`"));
    // Without them again, the instances chart goes away.
    fs::remove_file(out.join("events.csv")).unwrap();
    fs::remove_file(out.join("instances.csv")).unwrap();
    report(&out).success();
    assert!(!pngs(&out).contains("instances.png"));
}

/// Turns a good file's text into a bad one.
type Breaker = dyn Fn(&str) -> String;

/// Bad input files: exit 2, one message naming the file, line, column,
/// what was expected and what was found; nothing written.
#[test]
fn bad_run_files_get_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let pristine = dir.path().join("pristine");
    copy_dir(&out, &pristine);
    let cases: &[(&str, &Breaker, &[&str])] = &[
        (
            "backends.csv",
            &|s| s.replacen(",0.", ",zero.", 1),
            &[
                "backends.csv",
                "line 2",
                "column",
                "expected a finite number",
                "found `zero.",
            ],
        ),
        (
            "backends.csv",
            &|s| s.replacen(",b0,", ",x0,", 1),
            &[
                "backends.csv",
                "line 2",
                "column 2 (`backend`)",
                "expected a backend name",
            ],
        ),
        (
            "summary.csv",
            &|s| {
                s.replacen(
                    "strategy,kind,sticky,requests",
                    "strategy,kind,sticky,requestz",
                    1,
                )
            },
            &["summary.csv", "line 1", "a column named `requests`"],
        ),
        (
            "summary.csv",
            &|s| {
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                lines[2] = lines[2].replacen(',', ",,", 1);
                lines.join("\n") + "\n"
            },
            &["summary.csv", "line 3", "expected"],
        ),
        (
            "summary.csv",
            &|s| {
                // A kind routing does not know.
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                let mut cells: Vec<&str> = lines[1].split(',').collect();
                cells[1] = "sticky_rr";
                lines[1] = cells.join(",");
                lines.join("\n") + "\n"
            },
            &[
                "summary.csv",
                "line 2",
                "column 2 (`kind`)",
                "a strategy kind (`round_robin`",
                "found `sticky_rr`",
            ],
        ),
        (
            "summary.csv",
            &|s| {
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                let mut cells: Vec<&str> = lines[1].split(',').collect();
                cells[2] = "yes";
                lines[1] = cells.join(",");
                lines.join("\n") + "\n"
            },
            &["summary.csv", "line 2", "column 3 (`sticky`)", "0 or 1"],
        ),
        (
            "summary.json",
            &|s| s.replacen("\"seed\": 42", "\"seed\": \"x\"", 1),
            &["summary.json", "line", "column", "seed", "expected"],
        ),
        (
            "events.csv",
            &|_| "strategy,time_s,event,backend\nrr,abc,crash,b1\n".to_string(),
            &["events.csv", "line 2", "column 2 (`time_s`)", "found `abc`"],
        ),
        (
            "events.csv",
            &|_| "strategy,time_s,event,backend\nrr,10,explode,b1\n".to_string(),
            &[
                "events.csv",
                "line 2",
                "column 3 (`event`)",
                "an event name (`crash`",
                "found `explode`",
            ],
        ),
        (
            "summary.csv",
            &|s| s.replacen("lost_failure,", "lost_gremlins,", 1),
            &[
                "summary.csv",
                "line 1",
                "(`lost_gremlins`)",
                "a loss-cause column (`lost_failure`",
                "found `lost_gremlins`",
            ],
        ),
        (
            "instances.csv",
            &|_| "strategy,t_start_s,t_end_s,in_service,provisioned\nnope,0,10,2,2\n".to_string(),
            &[
                "instances.csv",
                "line 2",
                "column 1 (`strategy`)",
                "found `nope`",
            ],
        ),
    ];
    for (file, break_it, needles) in cases {
        let _ = fs::remove_dir_all(&out);
        copy_dir(&pristine, &out);
        let text = fs::read_to_string(out.join(file)).unwrap_or_default();
        fs::write(out.join(file), break_it(&text)).unwrap();
        let mut a = report(&out).code(2);
        for n in *needles {
            a = a.stderr(predicate::str::contains(*n));
        }
        a.stderr(predicate::str::contains("panicked").not());
        assert!(pngs(&out).is_empty(), "{file}: nothing drawn on bad input");
    }
    // A missing file is named.
    let _ = fs::remove_dir_all(&out);
    copy_dir(&pristine, &out);
    fs::remove_file(out.join("backends.csv")).unwrap();
    report(&out)
        .code(2)
        .stderr(predicate::str::contains("backends.csv"));
}

/// The identity cells (`scenario`, `seed`, `scenario_hash`) ending every
/// row of a CSV file, header included.
fn identity_of(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells[cells.len() - 3..]
                .iter()
                .map(|c| c.to_string())
                .collect()
        })
        .collect()
}

/// Every CSV file of a run ends with the run's identity columns, equal to
/// `summary.json`'s on every row; the columns before them are unchanged.
#[test]
fn every_csv_file_records_the_run_identity() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let want = vec![
        json["scenario"].as_str().unwrap().to_string(),
        json["seed"].as_u64().unwrap().to_string(),
        json["scenario_hash"].as_str().unwrap().to_string(),
    ];
    for (file, columns) in [
        (
            "summary.csv",
            stickysim::report::SUMMARY_COLUMNS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>(),
        ),
        ("backends.csv", stickysim::report::BACKEND_COLUMNS.to_vec()),
        ("events.csv", stickysim::report::EVENT_COLUMNS.to_vec()),
        (
            "instances.csv",
            stickysim::report::INSTANCE_COLUMNS.to_vec(),
        ),
    ] {
        let text = fs::read_to_string(out.join(file)).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            format!("{},scenario,seed,scenario_hash", columns.join(",")),
            "{file}'s header"
        );
        let ids = identity_of(&text);
        assert!(ids.len() > 1, "{file} has rows");
        for (i, id) in ids[1..].iter().enumerate() {
            assert_eq!(id, &want, "{file} line {}", i + 2);
        }
    }
}

/// A directory mixing two runs' files (a seed-7 run's `backends.csv`,
/// `events.csv` or `instances.csv`, or `summary.csv`, beside a seed-42
/// run's `summary.json`) is refused: exit 2, the file, line, column, what
/// was expected and what was found, nothing drawn or written.
#[test]
fn files_from_another_run_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = (dir.path().join("ours"), dir.path().join("theirs"));
    run_tiny(&ours, &["--no-charts"]);
    run_tiny(&theirs, &["--no-charts", "--seed", "7"]);
    let pristine = dir.path().join("pristine");
    copy_dir(&ours, &pristine);
    let mixed = dir.path().join("mixed");
    let cases: &[(&[&str], &str)] = &[
        (
            &["backends.csv", "events.csv", "instances.csv"],
            "backends.csv: line 2, column 13 (`seed`): expected 42 (the run's seed in \
             summary.json), found 7: this file comes from another run",
        ),
        (
            &["events.csv"],
            "events.csv: line 2, column 6 (`seed`): expected 42 (the run's seed in \
             summary.json), found 7: this file comes from another run",
        ),
        (
            &["instances.csv"],
            "instances.csv: line 2, column 7 (`seed`): expected 42 (the run's seed in \
             summary.json), found 7: this file comes from another run",
        ),
        (
            &["summary.csv"],
            "summary.csv: line 2, column 42 (`seed`): expected 42 (the run's seed in \
             summary.json), found 7: this file comes from another run",
        ),
    ];
    for (copied, message) in cases {
        let _ = fs::remove_dir_all(&mixed);
        copy_dir(&pristine, &mixed);
        fs::remove_file(mixed.join("report.md")).unwrap();
        for f in *copied {
            fs::copy(theirs.join(f), mixed.join(f)).unwrap();
        }
        let before: Vec<(String, Vec<u8>)> = files(&mixed)
            .into_iter()
            .map(|f| (f.clone(), fs::read(mixed.join(&f)).unwrap()))
            .collect();
        bin()
            .arg("report")
            .arg(&mixed)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message))
            .stderr(predicate::str::contains("panicked").not());
        let after: Vec<(String, Vec<u8>)> = files(&mixed)
            .into_iter()
            .map(|f| (f.clone(), fs::read(mixed.join(&f)).unwrap()))
            .collect();
        assert_eq!(after, before, "{copied:?}: nothing drawn or written");
    }
    // Another scenario's file, same seed: the scenario column is named.
    let _ = fs::remove_dir_all(&mixed);
    copy_dir(&pristine, &mixed);
    let text = fs::read_to_string(mixed.join("backends.csv")).unwrap();
    fs::write(
        mixed.join("backends.csv"),
        text.replace(",tiny,42,", ",other,42,"),
    )
    .unwrap();
    report(&mixed).code(2).stderr(predicate::str::contains(
        "backends.csv: line 2, column 12 (`scenario`): expected `tiny` (the run's scenario in \
         summary.json), found `other`: this file comes from another run",
    ));
    // Same scenario and seed, another hash (say, other `--set` overrides).
    let hash = json_hash(&pristine);
    fs::write(
        mixed.join("backends.csv"),
        text.replace(&format!(",{hash}\n"), ",0123456789abcdef\n"),
    )
    .unwrap();
    report(&mixed)
        .code(2)
        .stderr(predicate::str::contains(format!(
        "backends.csv: line 2, column 14 (`scenario_hash`): expected {hash} (the run's \
         scenario_hash in summary.json), found `0123456789abcdef`: this file comes from another run"
    )));
}

fn json_hash(dir: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    json["scenario_hash"].as_str().unwrap().to_string()
}

/// Files from before the identity columns (none of the three) are read
/// without the check; a file with only some of them is refused.
#[test]
fn files_without_identity_columns_are_read_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let strip = |text: &str, keep: usize| -> String {
        text.lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                cells[..cells.len() - 3 + keep].join(",") + "\n"
            })
            .collect()
    };
    for f in ["backends.csv", "events.csv", "instances.csv"] {
        let text = fs::read_to_string(out.join(f)).unwrap();
        fs::write(out.join(f), strip(&text, 0)).unwrap();
    }
    bin()
        .arg("report")
        .arg(&out)
        .args(["--quiet", "--no-charts"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(out.join("report.md")).unwrap(),
        md,
        "the same report from the older files"
    );
    // Only `scenario` and `seed`, no `scenario_hash`: refused.
    let pristine = dir.path().join("pristine");
    run_tiny(&pristine, &["--no-charts"]);
    let text = fs::read_to_string(pristine.join("backends.csv")).unwrap();
    fs::write(out.join("backends.csv"), strip(&text, 2)).unwrap();
    report(&out)
        .code(2)
        .stderr(
            predicate::str::contains("backends.csv: line 1").and(predicate::str::contains(
                "`scenario`, `seed`, `scenario_hash`",
            )),
        );
}

/// `tests/data/elastic.toml` (scale-out, a deploy, a crash, a store
/// outage): the placement, store-outage and cold-instance findings are
/// there with the run's own numbers, every finding has a number, and
/// `stickysim report` re-renders the same bytes.
#[test]
fn elastic_run_reports_placement_store_outage_and_cold_instances() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    bin()
        .arg("run")
        .arg(data("elastic.toml"))
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--no-charts"])
        .assert()
        .success();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let csv = fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("rr-shared,"))
        .unwrap()
        .split(',')
        .collect();
    let cell = |c: &str| row[header.iter().position(|h| *h == c).unwrap()];
    let avoided: u64 = cell("losses_avoided").parse().unwrap();
    assert!(avoided > 1000, "{avoided}");
    let with_commas = {
        let d = avoided.to_string();
        let mut s = String::new();
        for (i, ch) in d.chars().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                s.push(',');
            }
            s.push(ch);
        }
        s
    };
    let findings: Vec<&str> = md
        .split("## Findings\n\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .collect();
    let all = findings.join("\n");
    assert!(
        all.contains(&format!(
            "`rr-shared` (shared store) lost no sessions: the store avoided {with_commas} losses"
        )),
        "{all}"
    );
    assert!(
        all.contains("The shared store was down 60 s in all (1 outage, the first at 25 min)"),
        "{all}"
    );
    assert!(
        all.contains("Instances added by scale-out and deploys, in their first 60 s in service"),
        "{all}"
    );
    assert!(all.contains("a crashed or stopped backend"), "{all}");
    for f in &findings {
        assert!(f.chars().any(|c| c.is_ascii_digit()), "no number in: {f}");
    }
    bin()
        .arg("report")
        .arg(&out)
        .args(["--quiet", "--no-charts"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), md);
}

/// The outline of `report.html`: sections, figures and tables in order.
fn html_outline(html: &str) -> String {
    let mut out = String::new();
    let marks = [
        "<section id=\"",
        "<figure class=\"",
        "<table",
        "<script>",
        "<style>",
    ];
    let mut at = 0;
    while let Some((pos, mark)) = marks
        .iter()
        .filter_map(|m| html[at..].find(m).map(|p| (at + p, *m)))
        .min()
    {
        let rest = &html[pos + mark.len()..];
        let line = match mark {
            "<section id=\"" => format!("section {}", &rest[..rest.find('"').unwrap()]),
            "<figure class=\"" => {
                let class = &rest[..rest.find('"').unwrap()];
                let id = rest.split("id=\"").nth(1).unwrap();
                // Whether the figure has hover regions over its marks.
                let body = &rest[..rest.find("</figure>").unwrap()];
                let hover = if body.contains("<g class=\"hot\">") {
                    " (hover)"
                } else {
                    ""
                };
                format!("  figure {class} {}{hover}", &id[..id.find('"').unwrap()])
            }
            "<table" => "  table".to_string(),
            m => m.trim_matches(|c| c == '<' || c == '>').to_string(),
        };
        out.push_str(&line);
        out.push('\n');
        at = pos + mark.len();
    }
    out
}

/// `report.html` of tiny.toml has the golden outline: the verdict with the
/// trade-off chart under its answer, then the report's sections, every
/// other chart once, and the whole of `summary.csv`; one style, one script.
#[test]
fn golden_outline_of_report_html() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &[]);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    check_golden(
        "tiny_report_html_outline.txt",
        &html_outline(&html),
        "golden_outline_of_report_html",
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; img-src data:;"));
}

/// `latency_percentiles.csv` is the recorded histogram's curve: rising
/// with the percentile, equal to `summary.csv` at p50, p95, p99 and
/// p99.9; a bad percentile is refused with file, line and column.
#[test]
fn latency_percentiles_follow_the_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let text = fs::read_to_string(out.join("latency_percentiles.csv")).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let summary: Vec<Vec<String>> = fs::read_to_string(out.join("summary.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let col = |n: &str| summary[0].iter().position(|h| h == n).unwrap();
    for s in &summary[1..] {
        let curve: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r[0] == s[col("strategy")] && r[1] == "0")
            .map(|r| (r[2].parse().unwrap(), r[3].parse().unwrap()))
            .collect();
        assert_eq!(curve.len(), stickysim::metrics::LATENCY_PERCENTILES.len());
        assert!(
            curve
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{curve:?}"
        );
        for (p, c) in [
            (50.0, "latency_p50_ms"),
            (95.0, "latency_p95_ms"),
            (99.0, "latency_p99_ms"),
            (99.9, "latency_p999_ms"),
        ] {
            let at = curve.iter().find(|(q, _)| *q == p).unwrap().1;
            assert_eq!(format!("{at:.3}"), s[col(c)], "{c}");
        }
    }
    let bad = text.replacen(",0,50,", ",0,150,", 1);
    assert_ne!(bad, text);
    fs::write(out.join("latency_percentiles.csv"), bad).unwrap();
    report(&out)
        .code(2)
        .stderr(predicate::str::contains("latency_percentiles.csv"))
        .stderr(predicate::str::contains("`percentile`"))
        .stderr(predicate::str::contains(
            "expected a percentile from 0 to 100, found 150",
        ));
}

/// With many strategies the load chart wraps its panels into a grid of at
/// most four a row and grows taller rather than squeezing them: 13
/// strategies (tiny.toml's three kinds, repeated) give four rows, so the
/// image is taller than the standard 900 pixels; every other chart keeps
/// the standard size and `report.html` inlines the load chart at its own.
#[test]
fn many_strategies_wrap_the_load_chart_into_a_taller_grid() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = fs::read_to_string(data("tiny.toml")).unwrap();
    for i in 0..10 {
        let (kind, extra) = match i % 3 {
            0 => ("round_robin", ""),
            1 => ("lb_cookie", "ttl = 60\n"),
            _ => ("source_ip", ""),
        };
        text.push_str(&format!(
            "\n[[strategies]]\nname = \"s{i}\"\nkind = \"{kind}\"\n{extra}"
        ));
    }
    let scenario = dir.path().join("many.toml");
    fs::write(&scenario, text).unwrap();
    let out = dir.path().join("res");
    bin()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (w, h) = png_size(&out.join("load.png"));
    assert_eq!(w, stickysim::report::charts::WIDTH);
    let rows = stickysim::report::charts::load::grid(13).1 as u32;
    assert_eq!(rows, 4);
    assert!(
        h >= rows * stickysim::report::charts::load::MIN_PANEL_PX && h > 900,
        "load.png is {w} × {h}"
    );
    for f in ["heatmap.png", "tradeoff.png", "loss.png", "latency.png"] {
        assert_eq!(png_size(&out.join(f)), (1600, 900), "{f}");
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("viewBox=\"0 0 {w} {h}\"")),
        "report.html inlines load.png at its size"
    );
}
