//! `stickysim traffic SCENARIO --out FILE`: the requests one strategy's
//! run of a scenario sends, written as an access log — to replay it
//! (`workload.replay`, the round trip) or to hand to other tools. Each
//! request is written as the run sends it (memory does not grow with the
//! log) to a fresh file that replaces FILE only once whole.

use crate::engine::run_strategy_streamed;
use crate::replay::write::{write_one, Access, LogFormat};
use anyhow::{anyhow, Context, Result};
use clap::{Args, ValueEnum};
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

/// The formats `traffic` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TrafficFormat {
    /// JSON lines with nginx's field names plus `session`, exact service
    /// times (replay with `format = "jsonl", session = { field = "session" }`).
    Jsonl,
    /// Apache/nginx combined: second resolution, no service times.
    Combined,
}

/// `stickysim traffic` arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::TRAFFIC)]
pub struct TrafficArgs {
    /// The scenario file (TOML); `-` reads it from standard input.
    pub(crate) scenario: PathBuf,
    /// The log to write (`.gz`: gzip-compressed).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The strategy whose run is written (request times depend on routing
    /// only through response times) [default: the first].
    #[arg(long, value_name = "NAME")]
    pub(crate) strategy: Option<String>,
    /// The log format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub(crate) format: TrafficFormat,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub(crate) seed: Option<u64>,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
}

pub(crate) fn run(args: TrafficArgs) -> Result<ExitCode> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let sc = crate::scenario::load(&args.scenario, &overrides)?;
    let strategy = match &args.strategy {
        None => 0,
        Some(name) => sc
            .strategies
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
                anyhow!(
                    "--strategy: expected one of {}, found `{name}`",
                    names.join(", ")
                )
            })?,
    };
    let format = match args.format {
        TrafficFormat::Jsonl => LogFormat::Jsonl,
        TrafficFormat::Combined => LogFormat::Combined,
    };
    let writing = || format!("writing {}", args.out.display());
    let mut file = crate::outdir::Replacement::new(&args.out).with_context(writing)?;
    let f = file.file().try_clone().with_context(writing)?;
    // Buffered in front of the encoder: a line is written in several pieces.
    let w = if args.out.extension().is_some_and(|e| e == "gz") {
        Writer::Gz(BufWriter::with_capacity(
            256 * 1024,
            flate2::write::GzEncoder::new(f, flate2::Compression::default()),
        ))
    } else {
        Writer::Plain(BufWriter::with_capacity(256 * 1024, f))
    };
    let sink = Rc::new(RefCell::new(Sink {
        w,
        requests: 0,
        error: None,
    }));
    let to = Rc::clone(&sink);
    let out = run_strategy_streamed(
        &sc,
        strategy,
        Box::new(move |a: &Access| to.borrow_mut().write(a, format)),
    );
    if let Some(stats) = &out.replay {
        super::replayed::check(sc.workload.replay.as_ref().expect("replayed"), stats)?;
    }
    // The run (and the sink's other handle) is over.
    drop(out);
    let Ok(sink) = Rc::try_unwrap(sink) else {
        unreachable!("the run holds no handle to the sink once it is over")
    };
    let sink = sink.into_inner();
    if let Some(e) = sink.error {
        return Err(e).with_context(writing);
    }
    sink.w.finish().with_context(writing)?;
    file.commit().with_context(writing)?;
    eprintln!(
        "wrote {} ({} requests of strategy `{}`)",
        args.out.display(),
        sink.requests,
        sc.strategies[strategy].name
    );
    Ok(ExitCode::SUCCESS)
}

/// The log being written: plain or gzip.
enum Writer {
    Plain(BufWriter<File>),
    Gz(BufWriter<flate2::write::GzEncoder<File>>),
}

impl Writer {
    fn get(&mut self) -> &mut dyn io::Write {
        match self {
            Writer::Plain(w) => w,
            Writer::Gz(w) => w,
        }
    }

    /// Writes what is buffered (and gzip's trailer).
    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Plain(mut w) => w.flush(),
            Writer::Gz(w) => w
                .into_inner()
                .map_err(|e| e.into_error())?
                .finish()?
                .flush(),
        }
    }
}

/// Where the run's requests go; the first write error is kept and
/// reported once the run is over (the run itself cannot stop for it).
struct Sink {
    w: Writer,
    requests: u64,
    error: Option<io::Error>,
}

impl Sink {
    fn write(&mut self, a: &Access, format: LogFormat) {
        self.requests += 1;
        if self.error.is_none() {
            if let Err(e) = write_one(self.w.get(), a, format) {
                self.error = Some(e);
            }
        }
    }
}
