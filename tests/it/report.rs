//! Reports: the charts are valid PNGs of the configured size, `report.md`
//! repeats `summary.csv` exactly, `stickysim report DIR` redraws the same
//! files without touching the data, a golden `summary.csv`, optional
//! `events.csv` / `instances.csv`, and clear errors for bad input files.

use assert_cmd::Command;
use predicates::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    Command::cargo_bin("stickysim").unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run_tiny(out: &Path, extra: &[&str]) {
    bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
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
        "## Summary table",
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

/// The Markdown table under "## Summary table", as rows of cells.
fn md_table(md: &str) -> Vec<Vec<String>> {
    let start = md.find("## Summary table").expect("summary table section");
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

#[test]
fn the_report_table_equals_summary_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    run_tiny(&out, &["--no-charts"]);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let csv: Vec<Vec<String>> = fs::read_to_string(out.join("summary.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(md_table(&md), csv);
    assert!(csv.len() >= 4, "header and three strategies");
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
    for f in files(&out) {
        assert_eq!(
            fs::read(out.join(&f)).unwrap(),
            fs::read(again.join(&f)).unwrap(),
            "{f} differs between `run` and `report`"
        );
    }
}

#[test]
fn reports_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_tiny(&a, &[]);
    run_tiny(&b, &[]);
    for f in files(&a) {
        assert_eq!(
            fs::read(a.join(&f)).unwrap(),
            fs::read(b.join(&f)).unwrap(),
            "{f} differs between identical runs"
        );
    }
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

/// Compares `got` with the golden file `name` in `tests/data/golden/`
/// (rewriting it first under `STICKYSIM_BLESS=1`).
fn check_golden(name: &str, got: &str, test: &str) {
    let golden = data(&format!("golden/{name}"));
    if std::env::var_os("STICKYSIM_BLESS").is_some() {
        fs::write(&golden, got).unwrap();
    }
    let want = fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        got == want,
        "the run of tests/data/tiny.toml differs from {}.\n\
         If the change is intended (a model change, a new column documented in docs/output.md, \
         a reworded report), regenerate it deliberately with\n    STICKYSIM_BLESS=1 cargo test {test}\n\
         and review the diff before committing.\n--- golden\n{want}\n--- got\n{got}",
        golden.display()
    );
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
            &|s| s.replacen("strategy,kind,requests", "strategy,kind,requestz", 1),
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
            if i > 0 && (d.len() - i) % 3 == 0 {
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
