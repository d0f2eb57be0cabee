//! The sweep's recommendation follows the scenario's decision: identical
//! cookie TTLs are reported as a tie, a constraint (here the default
//! decision's rejections and utilisation) excludes an overloaded grid
//! point, which `sweep_summary.csv` and the report mark as overloaded.

use crate::common::{bin, data};
use std::fs;
use std::path::Path;

fn sweep(out: &Path, param: &str) {
    bin()
        .arg("sweep")
        .arg(data("tiny.toml"))
        .args([
            "--param",
            param,
            "--replications",
            "2",
            "--set",
            "simulation.duration=300",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn ttls_that_change_nothing_are_reported_as_a_tie() {
    // Sessions of tiny.toml last about 20 s: a 300, 900 or 3600 s cookie
    // never expires during one, so the three TTLs give identical runs.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    sweep(&out, "strategies.cookie.ttl=300,900,3600");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(
            "For `cookie`, `strategies.cookie.ttl` = 300, 900 and 3600 are indistinguishable"
        ),
        "{md}"
    );
    // Round robin and source IP have no TTL: none is reported for them.
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| `rr` |") || l.starts_with("| `ip` |"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    for line in rows {
        assert!(
            line.contains("no swept parameter applies to it") && !line.contains("ttl"),
            "{line}"
        );
    }
}

#[test]
fn a_constraint_excludes_an_overloaded_grid_point() {
    // 40 sessions/s × 5 requests × 0.05 s = 10 s of service per second on
    // 4 workers: ρ = 2.5; requests are rejected, so the default decision's
    // `rejected_pct <= 0.1` excludes every strategy there.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    sweep(&out, "workload.session_rate=2,40");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**Overloaded grid points**"), "{md}");
    assert!(md.contains("`workload.session_rate=40` (ρ = 2.50)"), "{md}");
    let excluded = md
        .lines()
        .find(|l| l.starts_with("Excluded by a constraint"))
        .unwrap_or_else(|| panic!("{md}"));
    for s in ["rr", "cookie", "ip"] {
        assert!(
            excluded.contains(&format!("`{s}` at `workload.session_rate=40`")),
            "{excluded}"
        );
    }
    assert!(
        excluded.contains("misses `rejected_pct <= 0.1`"),
        "{excluded}"
    );
    assert!(!excluded.contains("session_rate=2`"), "{excluded}");
    let rec = md
        .lines()
        .find(|l| l.starts_with("**`"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(rec.contains("at `workload.session_rate=2`"), "{rec}");

    let csv = fs::read_to_string(out.join("sweep_summary.csv")).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (rate, rho, over) = (col("workload.session_rate"), col("rho"), col("overloaded"));
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let heavy = cells[rate] == "40";
        assert_eq!(cells[over], if heavy { "true" } else { "false" }, "{line}");
        let r: f64 = cells[rho].parse().unwrap();
        assert!((r - if heavy { 2.5 } else { 0.125 }).abs() < 1e-9, "{line}");
    }
}
