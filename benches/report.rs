//! How long a run's report takes to draw: every chart of
//! `scenarios/checkout.toml` as bundled (`report_charts/checkout`), and the
//! whole report — charts, `report.md` and `report.html` — from the run's
//! files (`report_files/checkout`), which is what `stickysim report DIR`
//! redraws. The run itself is done once, before timing, by the CLI.
//!
//! Run: `cargo bench --bench report`; figures are kept in `benches/README.md`.
//! Target: all charts of checkout in under 0.5 s.

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`.

use clap::Parser;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::path::Path;
use stickysim::report::charts::render_run_charts;
use stickysim::report::data::RunData;
use stickysim::report::report_files;

fn checkout_data(dir: &Path) -> RunData {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
    let cli = stickysim::cli::Cli::parse_from([
        "stickysim".as_ref(),
        "run".as_ref(),
        scenario.as_os_str(),
        "--quiet".as_ref(),
        "--out".as_ref(),
        dir.as_os_str(),
    ]);
    let code = stickysim::cli::main(cli);
    assert_eq!(
        code,
        std::process::ExitCode::SUCCESS,
        "the bench run failed"
    );
    RunData::read_dir(dir).expect("the run's files read back")
}

fn report(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = checkout_data(&dir.path().join("checkout"));
    let mut g = c.benchmark_group("report_charts");
    g.sample_size(10);
    g.bench_function("checkout", |b| {
        b.iter(|| black_box(render_run_charts(&data).expect("charts draw")))
    });
    g.finish();
    let mut g = c.benchmark_group("report_files");
    g.sample_size(10);
    g.bench_function("checkout", |b| {
        b.iter(|| black_box(report_files(&data, true).expect("the report draws")))
    });
    g.finish();
}

criterion_group!(benches, report);
criterion_main!(benches);
