//! A run's own traffic written as an access log (`stickysim traffic`), so
//! a synthetic workload can be replayed and compared (the round trip),
//! or handed to other tools.

use super::time;
use crate::sim::Nanos;
use std::io::{self, Write};
use std::net::IpAddr;

/// The log time simulated time 0 is written at: 2026-01-01T00:00:00Z.
pub const EPOCH_NS: i64 = 1_767_225_600 * 1_000_000_000;

/// One request as the run sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Access {
    /// When it was sent, ns of simulated time.
    pub t: Nanos,
    /// The client's address then.
    pub addr: IpAddr,
    /// The session's number in arrival order.
    pub session: u64,
    /// The user within the session's client segment.
    pub user: u32,
    /// Its service demand at speed 1, seconds.
    pub service_s: f64,
}

/// The formats [`write_log`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON lines with nginx's names and a `session` field: replays with
    /// `format = "jsonl", session = { field = "session" }` and exact
    /// service times.
    Jsonl,
    /// Apache/nginx combined (second resolution, no service time, the user
    /// in the user agent).
    Combined,
}

/// Where a run's requests go as it sends them.
pub enum AccessLog {
    /// Kept in memory, in the order sent ([`crate::engine::run_strategy_logged`]).
    Keep(Vec<Access>),
    /// Handed over one by one as they are sent, kept nowhere
    /// ([`crate::engine::run_strategy_streamed`]).
    Stream(Box<dyn FnMut(&Access)>),
}

impl AccessLog {
    /// Records one request.
    #[inline]
    pub fn push(&mut self, a: Access) {
        match self {
            AccessLog::Keep(v) => v.push(a),
            AccessLog::Stream(f) => f(&a),
        }
    }

    /// The requests kept (none when streamed).
    pub fn into_vec(self) -> Vec<Access> {
        match self {
            AccessLog::Keep(v) => v,
            AccessLog::Stream(_) => Vec::new(),
        }
    }
}

/// Writes `log` in `format`.
pub fn write_log(mut w: impl Write, log: &[Access], format: LogFormat) -> io::Result<()> {
    for a in log {
        write_one(&mut w, a, format)?;
    }
    Ok(())
}

/// Writes one request as a line of `format`.
pub fn write_one(mut w: impl Write, a: &Access, format: LogFormat) -> io::Result<()> {
    {
        let at = EPOCH_NS + a.t.min(i64::MAX as u64 / 2) as i64;
        match format {
            LogFormat::Jsonl => writeln!(
                w,
                r#"{{"time":"{}","remote_addr":"{}","request":"GET /s/{} HTTP/1.1","status":200,"http_user_agent":"stickysim user {}","upstream_response_time":"{:.6}","session":"s{}"}}"#,
                time::format_iso(at),
                a.addr,
                a.session,
                a.user,
                a.service_s,
                a.session
            )?,
            LogFormat::Combined => writeln!(
                w,
                r#"{} - - [{}] "GET /s/{} HTTP/1.1" 200 0 "-" "stickysim user {}""#,
                a.addr,
                time::format_clf(at),
                a.session,
                a.user
            )?,
        }
    }
    Ok(())
}
