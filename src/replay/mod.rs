//! Access logs as workloads: the formats (`combined`, `common`, `alb`,
//! `haproxy`, `jsonl`), a streaming reader that parses one line at a time
//! ([`LogReader`], which other readers of a log can share), and the
//! [`ReplaySource`] the engine takes its arrivals from when a scenario
//! has `workload.replay`, plus the writer of a run's own traffic as a
//! log ([`mod@write`]) for the round trip.
//!
//! ```
//! use stickysim::replay::{Format, JsonFields, Parser};
//! let p = Parser::new(Format::Combined, JsonFields::default(), None);
//! let r = p.parse(r#"192.0.2.7 - - [01/Mar/2026:10:00:00 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl/8""#)?;
//! assert_eq!((r.client.to_string(), r.path.as_ref()), ("192.0.2.7".to_string(), "/cart"));
//! # Ok::<(), stickysim::replay::BadLine>(())
//! ```

mod jsonl;
mod parse;
mod reader;
mod source;
pub mod time;
pub mod write;

pub use parse::{client_addr, request_line, BadLine, Format, JsonFields, Parser, Record};
pub use reader::{Item, Line, LineReader, LogReader, MAX_LINE_BYTES};
pub use source::{
    identity, scaled_addr, Exclude, ReplayEvent, ReplaySource, ReplayStats, FIRST_BAD,
    MAX_WINDOW_LINES,
};
