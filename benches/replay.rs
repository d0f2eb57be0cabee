//! Access-log throughput: `parse` — lines per second one core parses, per
//! format (`combined`, `common`, `alb`, `haproxy`, `jsonl`), from lines in
//! memory (no I/O); `read` — the streaming reader over the same combined
//! lines, plain and gzip, as a replay reads them; `replay` — one strategy's
//! whole run of the bundled `scenarios/replay.toml` (4,024 lines), and the
//! replay source alone (read, sort, sessions) on 100,000 generated lines.
//!
//! Run: `cargo bench --bench replay -- --warm-up-time 1 --measurement-time 3`;
//! figures are kept in `benches/README.md`.

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write as _;
use std::path::Path;
use stickysim::replay::time::{format_clf, format_iso};
use stickysim::replay::{Format, Item, JsonFields, LineReader, LogReader, Parser, ReplaySource};

const LINES: usize = 100_000;
const T0: i64 = 1_772_442_000_000_000_000;

fn addr(i: usize) -> String {
    let h = (i as u32).wrapping_mul(0x9e37_79b1);
    format!(
        "{}.{}.{}.{}",
        23 + (h >> 24) % 180,
        h >> 16 & 0xff,
        h >> 8 & 0xff,
        h % 254 + 1
    )
}

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.95 Safari/537.36";

fn line(format: Format, i: usize) -> String {
    let t = T0 + i as i64 * 10_000_000;
    let a = addr(i % 5000);
    match format {
        Format::Combined => format!(
            r#"{a} - - [{}] "GET /products/{i} HTTP/1.1" 200 5120 "https://shop.example.com/" "{UA}""#,
            format_clf(t)
        ),
        Format::Common => format!(
            r#"{a} - - [{}] "GET /products/{i} HTTP/1.1" 200 5120"#,
            format_clf(t)
        ),
        Format::Alb => format!(
            r#"https {} app/lb/50dc6c495c0c9188 {a}:{} 10.0.0.1:80 0.001 0.048 0.000 200 200 0 57 "GET https://shop.example.com:443/products/{i} HTTP/1.1" "{UA}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "shop.example.com" "-" 1 {} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#,
            format_iso(t + 50_000_000),
            40_000 + i % 20_000,
            format_iso(t)
        ),
        Format::Haproxy => format!(
            r#"Mar  2 09:00:00 lb haproxy[14389]: {a}:{} [{}] http-in shop/srv1 10/0/1/48/59 200 5120 - - ---- 1/1/1/1/0 0/0 "GET /products/{i} HTTP/1.1""#,
            40_000 + i % 20_000,
            format_clf(t).replace(" +0000", ".000")
        ),
        Format::Jsonl => format!(
            r#"{{"time":"{}","remote_addr":"{a}","request":"GET /products/{i} HTTP/1.1","status":200,"body_bytes_sent":5120,"http_referer":"https://shop.example.com/","http_user_agent":"{UA}","upstream_response_time":"0.048"}}"#,
            format_iso(t)
        ),
    }
}

fn text(format: Format) -> String {
    (0..LINES).map(|i| line(format, i) + "\n").collect()
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(10);
    for format in Format::ALL {
        let lines: Vec<String> = (0..LINES).map(|i| line(format, i)).collect();
        let p = Parser::new(format, JsonFields::default(), None);
        assert!(p.parse(&lines[0]).is_ok(), "{format}: {}", lines[0]);
        g.bench_function(format.name(), |b| {
            b.iter(|| {
                let mut ok = 0u64;
                for l in &lines {
                    ok += u64::from(p.parse(black_box(l)).is_ok());
                }
                assert_eq!(ok, LINES as u64);
                ok
            })
        });
    }
    g.finish();
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(10);
    let plain = text(Format::Combined).into_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz_path = dir.path().join("access.log.gz");
    std::fs::write(&gz_path, &gz).unwrap();
    let count = |mut r: LogReader| {
        let mut n = 0u64;
        while let Some(item) = r.next_record().unwrap() {
            n += u64::from(matches!(item, Item::Record(_)));
        }
        assert_eq!(n, LINES as u64);
    };
    let p = || Parser::new(Format::Combined, JsonFields::default(), None);
    g.bench_function("combined", |b| {
        b.iter(|| count(LogReader::new(LineReader::from_bytes(plain.clone()), p())))
    });
    g.bench_function("combined_gz", |b| {
        b.iter(|| count(LogReader::new(LineReader::open(&gz_path).unwrap(), p())))
    });
    g.finish();
}

fn replay(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = stickysim::scenario::load(&root.join("scenarios/replay.toml"), &[]).unwrap();
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(4024));
    g.bench_function("bundled_run_per_strategy", |b| {
        b.iter(|| stickysim::engine::run_strategy(&sc, 4).summary.requests)
    });
    // The source alone on 100,000 lines: parse, sort, sessions, events.
    let plain = text(Format::Combined).into_bytes();
    let spec = sc.workload.replay.clone().unwrap();
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("source_100k_lines", |b| {
        b.iter(|| {
            let lines = LineReader::from_bytes(plain.clone());
            let mut src = ReplaySource::from_lines(&spec, u64::MAX, lines);
            let mut n = 0u64;
            while src.next_due(u64::MAX).is_some() {
                n += 1;
            }
            assert_eq!(src.stats.replayed, LINES as u64);
            n
        })
    });
    g.finish();
}

criterion_group!(benches, parse, read, replay);
criterion_main!(benches);
